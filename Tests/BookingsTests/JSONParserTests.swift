import Foundation
import Testing

@testable import Bookings

/// The hand-written parser must agree with `JSONDecoder` (what adapters used before) on every input:
/// same value for valid JSON, rejection for invalid JSON.
@Suite struct JSONParserTests {
    /// What `JSONDecoder` makes of `text`, or nil when it rejects it.
    static func oracle(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static let valid: [String] = [
        #"{}"#, #"[]"#, #"{"a":1}"#, #" { "a" : [ 1 , 2.5 , -3 , true , false , null ] } "#,
        #"{"id":123456,"big":9223372036854775807,"bigger":9223372036854775808,"neg":-9223372036854775808}"#,
        #"{"f":845.00,"g":-27.15,"e":1e3,"E":2E-2,"z":0,"nz":-0,"frac":0.5,"w":-0.0,"u":100e-2,"x":1.5e300}"#,
        #"{"s":"plain","esc":"a\"b\\c\/d\b\f\n\r\t","u":"\u00e9\u20AC","pair":"\ud83d\ude00","utf8":"Müller ✓ 😀"}"#,
        #"{"dup":1,"dup":2}"#, #"{"nested":{"a":{"b":{"c":[[[]]]}}}}"#, #""fragment""#, #"42"#, #"null"#,
        #"{"booking":{"id":"res_1","listing_id":"lst_1","status":"confirmed","guest":{"name":"Maria"}}}"#,
    ]

    static let invalid: [String] = [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, "[01]", "[-]", "[1.]", "[.5]", "[1e]",
        "[+1]", "[tru]", "[nul]", "[True]", #"["\x"]"#, #"["\u12"]"#, #"["\ud83d"]"#, #"["\ude00"]"#,
        "[\"tab\there\"]", "{} {}", "[1] x", #"{"a":1"#, #"["abc"#, "[1 2]", "[NaN]", "[Infinity]", "[1e999]",
    ]

    @Test(arguments: valid)
    func validJSON_ParsesAsJSONDecoderDoes(_ text: String) throws {
        let expected = try #require(Self.oracle(text), "JSONDecoder rejects \(text)")
        #expect(try JSONParser.parse(Array(text.utf8)) == expected)
    }

    @Test(arguments: invalid)
    func invalidJSON_IsRejected(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func invalidUTF8_IsRejected() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
    }

    @Test func nestingDeeperThanTheLimit_IsRejected() {
        let deep =
            String(repeating: "[", count: JSONParser.maximumDepth + 1)
            + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(deep.utf8)) }
        let ok =
            String(repeating: "[", count: JSONParser.maximumDepth)
            + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect((try? JSONParser.parse(Array(ok.utf8))) != nil)
    }

    @Test func everyAdapterFixture_ParsesAsJSONDecoderDoes() throws {
        let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let files =
            FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "json" } ?? []
        #expect(files.count > 5)
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: file))
            let expected = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
            let parsed = try? JSONParser.parse(bytes)
            #expect(parsed == expected, "\(file.lastPathComponent)")
        }
    }

    @Test("objects larger than the linear-search limit keep the first value of each key, as the oracle does")
    func largeObjectsWithRepeatedKeys() throws {
        let members = (0..<40).map { #""k\#($0 % 30)":\#($0)"# }.joined(separator: ",")
        let text = "{" + members + "}"
        let parsed = try JSONParser.parse(Array(text.utf8))
        #expect(parsed == Self.oracle(text))
        guard case .object(let fields) = parsed else {
            Issue.record("not an object")
            return
        }
        #expect(fields.count == 30)
        #expect(fields["k5"] == .integer(5))
        #expect(fields["k29"] == .integer(29))
        #expect(fields["k30"] == nil)
    }
}
