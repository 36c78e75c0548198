import Foundation
import Testing

@testable import Bookings

/// Parsing with a ``JSONMemberFilter`` must accept and reject exactly what the full parse does, and keep the
/// listed members exactly as the full parse has them.
@Suite struct JSONMemberFilterTests {
    /// Keeps `a` whole, and of `b` only `c` (with `d` inside it).
    static let filter = JSONMemberFilter(["a": nil, "b": JSONMemberFilter(["c": JSONMemberFilter("d")])])

    /// What the filtered parse must give: `full` with every member not listed in `filter` removed.
    static func expectKept(_ filtered: JSONValue, matches full: JSONValue, _ filter: JSONMemberFilter?, _ text: String)
    {
        guard let filter else {
            #expect(filtered == full, "\(text)")
            return
        }
        switch (filtered, full) {
        case (.object(let kept), .object(let all)):
            let present = filter.members.filter { all[$0.name] != nil }
            #expect(kept.count == present.count, "\(text): kept \(kept.count) members, expected \(present.count)")
            for member in present {
                guard let keptValue = kept[member.name], let fullValue = all[member.name] else {
                    Issue.record("\(text): member \(member.name) was dropped")
                    continue
                }
                expectKept(keptValue, matches: fullValue, member.members, text)
            }
        case (.array(let kept), .array(let all)):
            #expect(kept.count == all.count, "\(text)")
            for (keptValue, fullValue) in zip(kept, all) { expectKept(keptValue, matches: fullValue, filter, text) }
        default:
            #expect(filtered == full, "\(text)")
        }
    }

    /// Valid JSON, with members the filter skips of every kind and nesting.
    static let valid: [String] =
        JSONParserTests.valid + [
            #"{"a":{"x":[1,2,{"y":"z"}]},"b":{"c":{"d":845.00,"e":"skip me"},"f":[true,false,null]},"g":-27.15}"#,
            #"{"skipped":{"n":1.5e300,"m":-0.0,"big":123456789012345678901234567890,"s":"a\"b\\c\/\u00e9\ud83d\ude00"},"a":1}"#,
            #"{"b":[{"c":{"d":1,"x":2}},{"c":3},4],"a":"\u0041","\u0062":{"c":5}}"#,
            #"{"a":1,"a":2,"b":{"c":{"d":1,"d":2},"c":9}}"#,
            #"{"utf8 key ✓":"Müller","a":"Müller ✓ 😀","n":[[[[{}]]]]}"#,
            #"{ "a" : 1 , "z" : [ ] , "y" : { } }"#,
            "{\"long\":" + String(repeating: "9", count: 299) + ",\"longer\":" + String(repeating: "9", count: 308)
                + ",\"a\":0.5}",
        ]

    /// Invalid JSON; each is also tried inside a member the filter skips.
    static let invalid: [String] =
        JSONParserTests.invalid + [
            #"{"skip":[1e999],"a":1}"#, #"{"skip":"\ud83d","a":1}"#, #"{"skip":{"x":01},"a":1}"#,
            "{\"skip\":\"tab\there\"}",
            #"{"skip":[1,],"a":1}"#, #"{"skip":{"x" 1}}"#, #"{"skip":tru}"#, #"{"skip":"unterminated}"#, #"{"skip":-}"#,
            "{\"skip\":" + String(repeating: "9", count: 400) + "e999}",
            "{\"skip\":" + String(repeating: "9", count: 320) + "}",
        ]

    @Test(arguments: valid)
    func validJSON_KeepsTheListedMembersAsTheFullParseHasThem(_ text: String) throws {
        let full = try JSONParser.parse(Array(text.utf8))
        let filtered = try JSONParser.parse(Array(text.utf8), keeping: Self.filter)
        Self.expectKept(filtered, matches: full, Self.filter, text)
        // A filter that keeps nothing still accepts the body.
        #expect((try? JSONParser.parse(Array(text.utf8), keeping: JSONMemberFilter())) != nil, "\(text)")
    }

    @Test(arguments: invalid)
    func invalidJSON_IsRejectedWhereverItIs(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8), keeping: Self.filter) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8), keeping: JSONMemberFilter()) }
        let nested = #"{"a":1,"skipped":[{"deeper":"#.utf8 + Array(text.utf8) + #"}]}"#.utf8
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(nested), keeping: Self.filter) }
    }

    @Test func invalidUTF8InASkippedMember_IsRejected() {
        let bodies: [[UInt8]] = [
            Array(#"{"skip":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8),
            Array(#"{""#.utf8) + [0xFF] + Array(#"":1}"#.utf8),
            Array(#"{"a":1,"s":"\n"#.utf8) + [0xFF] + Array(#""}"#.utf8),
        ]
        for body in bodies {
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(body, keeping: Self.filter) }
        }
    }

    @Test func nestingLimit_CountsSkippedLevels() {
        let limit = JSONParser.maximumDepth
        let deep = "{\"skip\":" + String(repeating: "[", count: limit) + String(repeating: "]", count: limit) + "}"
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(deep.utf8), keeping: Self.filter) }
        let ok =
            "{\"skip\":" + String(repeating: "[", count: limit - 1) + String(repeating: "]", count: limit - 1) + "}"
        #expect((try? JSONParser.parse(Array(ok.utf8), keeping: Self.filter)) != nil)
    }

    @Test func theNativeAdapter_DecodesEveryNativeFixtureAsTheFullParseDoes() throws {
        let root = try #require(Bundle.module.url(forResource: "Fixtures/native", withExtension: nil))
        var bodies = try FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.map { [UInt8](try Data(contentsOf: $0)) }
        #expect(bodies.count >= 5)
        bodies += Self.nativeVariants.map { Array($0.utf8) }
        let adapter = NativeAdapter()
        for body in bodies {
            let full = Result { () throws(AdapterError) in try adapter.decode(body, source: "s", keeping: nil) }
            let filtered = Result { () throws(AdapterError) in try adapter.decode(body, source: "s") }
            #expect(filtered == full, "\(String(decoding: body, as: UTF8.self))")
        }
    }

    /// Native bodies the fixtures do not cover: the benchmark's (many ignored members), wrong types in read
    /// members, invalid JSON in an ignored member, keys with escapes.
    static let nativeVariants: [String] = [
        #"{"event":"booking.updated","booking":{"id":"res_000000000001","listing_id":"lst_000048213","status":"confirmed","check_in":"2027-07-14T15:00:00","check_out":"2027-07-19T11:00:00","time_zone":"Europe/Berlin","guest":{"name":"Maria Schneider","phone":"+49 30 1234567","email":"maria.schneider@example.com"},"updated_at":"2026-11-14T09:26:53Z","confirmation_code":"HMX4K9ZQ2T","channel":"airbnb","nights":5,"party":{"adults":2,"children":1,"infants":0,"pets":0},"money":{"currency":"EUR","fare_accommodation":845.00,"cleaning_fee":60.00,"guest_service_fee":112.35,"host_service_fee":-27.15,"total_paid":1097.0,"host_payout":877.85},"listing":{"nickname":"Kreuzberg Loft 2BR","address":{"street":"Oranienstrasse 24","city":"Berlin","zip":"10999","country":"DE","lat":52.5014,"lng":13.4189}},"notes":"Late arrival around 22:00, needs parking","tags":["returning","direct-msg"],"created_at":"2026-11-10T18:02:11Z"},"account_id":"acc_7f3c2a91d4","sent_at":"2026-11-14T09:26:54Z"}"#,
        #"{"event":"booking.created","booking":{"id":17,"listing_id":"l1","status":"confirmed","check_in":"2027-07-14","check_out":"2027-07-19","guest":"not an object"}}"#,
        #"{"event":"booking.created","booking":{"id":"r1","listing_id":"l1","status":"confirmed","check_in":20270714}}"#,
        #"{"event":"booking.created","booking":{"id":"r1","listing_id":"l1","status":"confirmed","money":{"total":1e999}}}"#,
        #"{"event":"booking.created","b\u006fo\u006bing":{"\u0069d":"r1","listing_id":"l1","status":"pending"}}"#,
        #"{"event":"booking.created","booking":{"id":"r1","id":"r2","listing_id":"l1","status":"confirmed","guest":{"name":"A","name":"B","phone":null}}}"#,
        #"{"event":"booking.deleted","booking":{"id":"r1"}}"#,
        #"{"event":"booking.cancelled","booking":{"id":"r1","listing_id":"l1"}, "extra": [}"#,
        #"{"event":42}"#,
        #"["event"]"#,
    ]
}
