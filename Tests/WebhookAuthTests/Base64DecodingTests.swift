import Foundation
import Testing

@testable import WebhookAuth

/// The byte-level base64 decoder against the `Data(base64Encoded:)`-based decoder it replaced (padding added when
/// missing): the same bytes for everything it accepts, and everything well formed accepted. It is stricter only
/// where Foundation is odd: `=` before the end (`YQ=a`), a group of padding alone (`====`, `==` → one zero byte).
@Suite struct Base64DecodingTests {
    /// What Latchkey accepted before the byte-level decoder: pad to a multiple of 4, then Foundation decides.
    static func reference(_ text: String) -> [UInt8]? {
        var padded = text
        guard !padded.contains(where: { $0.isWhitespace }) else { return nil }
        let remainder = padded.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { padded += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: padded).map { [UInt8]($0) }
    }

    @Test("agrees with Foundation on valid encodings of every length, padded and unpadded")
    func validEncodings() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Data(bytes).base64EncodedString()
            #expect(Base64.decode(encoded) == bytes)
            let unpadded = String(encoded.drop { _ in false }.reversed().drop { $0 == "=" }.reversed())
            #expect(Base64.decode(unpadded) == Self.reference(unpadded))
        }
    }

    @Test(
        "refuses padding in the middle and padding alone, which Foundation accepted",
        arguments: ["YQ=a", "==", "===", "====", "YWJjZA====", "Nn=o", "0ZmS=="])
    func paddingOutOfPlaceIsRefused(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test("agrees with Foundation on malformed and odd inputs")
    func oddInputs() {
        let inputs = [
            "", "=", "Y", "YQ", "YQ=", "YQ==", "YQ===", "YR==", "YWI", "YWJ=", "YWJ",
            "Y===", "Y=Q=", "!!!!", "YW I=", " YWI=", "YWI=\n", "YW-_", "YW+/", "YWJj", "YWJjZA",
            "YWJjZA=", "YWJjZA==", "YWJjZA===", "YWJjZGU=", "YWJjZGV=", "é===", "YWJj\u{0}",
        ]
        for input in inputs {
            #expect(Base64.decode(input) == Self.reference(input), "\(input.debugDescription)")
        }
    }

    @Test(
        "on random strings, accepts only what Foundation accepts, with the same bytes, and all that has no misplaced padding"
    )
    func randomStrings() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ ")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let text = String(
                (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                    Bool.random(using: &generator)
                        ? alphabet[Int.random(in: 0..<64, using: &generator)]
                        : alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
                })
            let decoded = Base64.decode(text)
            // `=` followed by something else, or more than two `=` once the text is padded to a multiple of four.
            let implicitPadding = (4 - text.utf8.count % 4) % 4
            let misplacedPadding =
                text.drop { $0 != "=" }.contains { $0 != "=" }
                || text.reversed().prefix { $0 == "=" }.count + implicitPadding > 2
            if let decoded {
                #expect(decoded == Self.reference(text), "\(text.debugDescription)")
            } else if !misplacedPadding {
                #expect(Self.reference(text) == nil, "\(text.debugDescription)")
            }
        }
    }
}
