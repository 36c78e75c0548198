import Foundation
@testable import WebhookAuth

/// Header parsing and verification of every signature scheme.
///
/// Input: NUL-separated parts. Standard Webhooks: `id, timestamp, signature, body` (offered under both the
/// `webhook-*` and `svix-*` names, chosen by the first byte); body HMAC: `selector, signature, body` (the
/// selector's first byte picks Hospitable hex, Lodgify `sha256=` hex or Shopify base64); Basic: the
/// `Authorization` value; path token: the token. Property: no crash, and a delivery is accepted only when it
/// carries a tag (or credential) computed independently here from a configured secret (compared as bytes:
/// unpadded base64 is accepted by design).
enum SignatureTarget {
    /// The Standard Webhooks secret of the library vectors (WebhookAuthTests/Fixtures/library-vectors.json),
    /// and the time they were signed at, so seeds made from the vectors verify.
    static let whsec = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    static let vectorTime = Date(timeIntervalSince1970: 1_700_003_600)
    static let hmacSecret = Secret("fuzz-body-hmac-secret")
    static let basicSecret = Secret("fuzz-user:fuzz-password")
    static let token = Secret("fuzz-path-token-0123456789")

    static let standard = try! WebhookVerifier(scheme: .standardWebhooks(), secrets: [Secret("whsec_" + Base64.encode(Array("another key of thirty-two bytes!".utf8))), whsec])
    static let hmacSchemes = [BodyHMAC.hospitable, BodyHMAC.lodgify, BodyHMAC.shopify]
    static let hmac = hmacSchemes.map { try! WebhookVerifier(scheme: .bodyHMAC($0), secrets: [hmacSecret]) }
    static let basic = try! WebhookVerifier(scheme: .basicAuth, secrets: [basicSecret])
    static let path = try! WebhookVerifier(scheme: .pathToken, secrets: [token])

    static func run(_ target: FuzzTarget, _ data: UnsafeBufferPointer<UInt8>) {
        switch target {
        case .standardWebhooks: standardWebhooks(fuzzParts(data, count: 4))
        case .bodyHMAC: bodyHMAC(fuzzParts(data, count: 3))
        case .basicAuth: basicAuth(Array(data))
        default: pathToken(Array(data))
        }
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    private static func standardWebhooks(_ parts: [[UInt8]]) {
        let svix = parts[0].first.map { $0 & 1 == 1 } ?? false
        let prefix = svix ? "svix-" : "webhook-"
        let headers = [prefix + "id": text(parts[0]), prefix + "timestamp": text(parts[1]), prefix + "signature": text(parts[2])]
        let body = parts[3]
        guard let verified = try? standard.verify(header: { headers[$0] }, body: body, now: vectorTime) else { return }
        let id = headers[prefix + "id"]!, timestamp = headers[prefix + "timestamp"]!
        let key = try! StandardWebhooks.key(from: whsec)
        // The signed content built here, in one piece, independently of the verifier's own code.
        let expected = Crypto.hmacSHA256(Array("\(id).\(timestamp).".utf8) + body, key: key)
        // Base64.decode accepts missing padding on purpose, so compare decoded tags, not the text.
        let tags = headers[prefix + "signature"]!.split(separator: " ").compactMap { entry -> [UInt8]? in
            entry.hasPrefix("v1,") ? Base64.decode(entry.dropFirst(3)) : nil
        }
        guard verified.secretIndex == 1, tags.contains(expected) else {
            fuzzFailure("Standard Webhooks accepted a delivery whose signature header lacks the expected v1 tag")
        }
        if abs(verified.timestamp!.timeIntervalSince(vectorTime)) > StandardWebhooks.defaultTolerance {
            fuzzFailure("Standard Webhooks accepted a timestamp outside the tolerance")
        }
    }

    private static func bodyHMAC(_ parts: [[UInt8]]) {
        let index = Int(parts[0].first ?? 0) % hmacSchemes.count
        let scheme = hmacSchemes[index]
        let value = text(parts[1])
        let body = parts[2]
        guard (try? hmac[index].verify(header: { $0 == scheme.header ? value : nil }, body: body)) != nil else { return }
        let tag = Crypto.hmacSHA256(body, key: hmacSecret.revealedBytes)
        let trimmed = Substring(value.trimmingCharacters(in: .whitespaces)).dropFirst(scheme.prefix.count)
        let decoded = scheme.encoding == .hex ? Hex.decode(trimmed) : Base64.decode(trimmed)
        if decoded != tag { fuzzFailure("body HMAC (\(scheme.header)) accepted a tag that is not the body's HMAC") }
    }

    private static func basicAuth(_ bytes: [UInt8]) {
        let value = text(bytes)
        guard (try? basic.verify(header: { $0 == "authorization" ? value : nil }, body: [])) != nil else { return }
        let parts = value.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
        guard parts.count == 2, Base64.decode(parts[1].trimmingCharacters(in: .whitespaces)) == basicSecret.revealedBytes else {
            fuzzFailure("Basic accepted credentials other than the configured ones")
        }
    }

    private static func pathToken(_ bytes: [UInt8]) {
        let value = text(bytes)
        guard (try? path.verify(header: { _ in nil }, body: [], pathToken: value)) != nil else { return }
        if Array(value.utf8) != token.revealedBytes { fuzzFailure("path token accepted a token other than the configured one") }
    }
}
