import Foundation
import LatchkeyTestSupport
import Testing

@testable import WebhookAuth

@Suite("libcrypto primitives and encodings")
struct CryptoTests {
    @Test func hmacSHA256MatchesRFC4231TestCase2() {
        let tag = Crypto.hmacSHA256(bytes("what do ya want for nothing?"), key: bytes("Jefe"))
        #expect(Hex.encode(tag) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func hmacSHA256OfEmptyMessageMatchesKnownValue() {
        // Python: hmac.new(b"key", b"", hashlib.sha256).hexdigest()
        #expect(
            Hex.encode(Crypto.hmacSHA256([UInt8](), key: bytes("key")))
                == "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0")
    }

    @Test func hmacSHA256MatchesRFC4231TestCase6WithAKeyLongerThanTheBlock() {
        let key = [UInt8](repeating: 0xAA, count: 131)
        let message = bytes("Test Using Larger Than Block-Size Key - Hash Key First")
        #expect(
            Hex.encode(Crypto.hmacSHA256(message, key: key))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test("a prepared key gives the same tag for a message in pieces, again and again, from many threads at once")
    func preparedKeysTagPiecesLikeTheWhole_AndAreSharedSafely() async {
        let key = HMACKey(bytes("Jefe"))
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        #expect(Hex.encode(key.tag(bytes("what do ya"), [], bytes(" want for nothing?"))) == expected)
        #expect(Hex.encode(key.tag(bytes("what do ya want for nothing?"))) == expected)
        let tags = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<500).map { _ in Hex.encode(key.tag(bytes("what do ya want"), bytes(" for nothing?"))) }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(tags.count == 4000 && tags.allSatisfy { $0 == expected })
        #expect(Hex.encode(HMACKey([]).tag([])) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test func sha256MatchesFIPSVectors() {
        #expect(
            Hex.encode(Crypto.sha256(bytes("abc")))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Hex.encode(Crypto.sha256([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // Not contiguous: the bytes are gathered first.
        #expect(
            Hex.encode(Crypto.sha256(bytes("abc").lazy.map { $0 }))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func constantTimeEqualsComparesContentsAndLengths() {
        #expect(Crypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!Crypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!Crypto.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(Crypto.constantTimeEquals([], []))
        #expect(Crypto.constantTimeEqualsHashed(bytes("user:pw"), bytes("user:pw")))
        #expect(!Crypto.constantTimeEqualsHashed(bytes("user:pw"), bytes("user:pw2")))
    }

    @Test func randomBytesHaveTheRequestedLengthAndDiffer() throws {
        let first = try Crypto.randomBytes(count: 32)
        let second = try Crypto.randomBytes(count: 32)
        #expect(first.count == 32)
        #expect(first != second)
        #expect(try Crypto.randomBytes(count: 0).isEmpty)
    }

    @Test func hexRoundTripsAndRejectsBadInput() {
        #expect(Hex.encode([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(Hex.decode("00ABff") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test func base64AcceptsMissingPaddingAndRejectsGarbage() {
        #expect(Base64.encode(bytes("ab")) == "YWI=")
        #expect(Base64.decode("YWI") == bytes("ab"))
        #expect(Base64.decode("YWI=") == bytes("ab"))
        #expect(Base64.decode("Y") == nil)
        #expect(Base64.decode("!!!!") == nil)
        #expect(Base64.decode("YW I=") == nil)
    }
}
