import Foundation

/// How one webhook source proves its deliveries are genuine. Chosen per source in the configuration.
package enum SignatureScheme: Sendable, Hashable {
    /// Standard Webhooks / Svix (`webhook-*` or `svix-*` headers; Guesty, Seam). Secrets are `whsec_…`.
    /// `tolerance` is the allowed clock difference in seconds, both directions. Default 300 s.
    case standardWebhooks(tolerance: TimeInterval = StandardWebhooks.defaultTolerance)
    /// HMAC-SHA256 of the raw body in one header (Hospitable, Lodgify, GitHub-style, Shopify-style).
    /// Secrets are used as their UTF-8 bytes.
    case bodyHMAC(BodyHMAC)
    /// HTTP Basic authentication (Hostaway, OwnerRez). Each secret is `user:password`.
    case basicAuth
    /// A secret token in the URL path (Mews style). Each secret is one accepted token.
    case pathToken

    /// A short name for logs and `check-config` output, e.g. `standard_webhooks`, `body_hmac(signature)`.
    package var label: String {
        switch self {
        case .standardWebhooks: "standard_webhooks"
        case .bodyHMAC(let config): "body_hmac(\(config.header))"
        case .basicAuth: "basic_auth"
        case .pathToken: "path_token"
        }
    }
}

/// Where and how a body-HMAC sender puts its signature.
package struct BodyHMAC: Sendable, Hashable {
    /// How the 32-byte tag is written in the header.
    package enum Encoding: String, Sendable, Hashable, CaseIterable {
        /// Hex digits, either case accepted.
        case hex
        /// Standard base64, padded.
        case base64
    }

    /// The signature header's name, matched case-insensitively. No default.
    package var header: String
    /// Text before the encoded tag, e.g. `sha256=`; empty for none. Default empty.
    package var prefix: String
    /// How the tag is encoded. Default ``Encoding/hex``.
    package var encoding: Encoding
    /// A header carrying the sender's unique delivery id (e.g. `X-GitHub-Delivery`), or `nil`. Default `nil`.
    package var deliveryIDHeader: String?

    /// Creates a configuration.
    package init(header: String, prefix: String = "", encoding: Encoding = .hex, deliveryIDHeader: String? = nil) {
        self.header = header.lowercased()
        self.prefix = prefix
        self.encoding = encoding
        self.deliveryIDHeader = deliveryIDHeader?.lowercased()
    }

    /// Hospitable: `Signature: <hex>`.
    package static let hospitable = BodyHMAC(header: "signature")
    /// Lodgify: `ms-signature: sha256=<hex>`.
    package static let lodgify = BodyHMAC(header: "ms-signature", prefix: "sha256=")
    /// GitHub style: `X-Hub-Signature-256: sha256=<hex>`, delivery id in `X-GitHub-Delivery`.
    package static let github = BodyHMAC(
        header: "x-hub-signature-256", prefix: "sha256=", deliveryIDHeader: "x-github-delivery")
    /// Shopify style: `X-Shopify-Hmac-SHA256: <base64>`, delivery id in `X-Shopify-Webhook-Id`.
    package static let shopify = BodyHMAC(
        header: "x-shopify-hmac-sha256", encoding: .base64, deliveryIDHeader: "x-shopify-webhook-id")

    /// The header value a sender would put for `body` under `secret` (for tests, replay and fakes).
    package func sign(body: [UInt8], secret: Secret) -> String {
        prefix + encode(Crypto.hmacSHA256(body, key: secret.revealedBytes))
    }

    func encode(_ tag: [UInt8]) -> String {
        switch encoding {
        case .hex: Hex.encode(tag)
        case .base64: Base64.encode(tag)
        }
    }

    func verify(header lookup: (String) -> String?, body: [UInt8], keys: [HMACKey]) throws(AuthFailure)
        -> VerifiedDelivery
    {
        guard let raw = lookup(header) else {
            throw AuthFailure(
                .missingHeader, header: header,
                message: "header \(header) is missing; this source signs the body with HMAC-SHA256 there")
        }
        var value = Substring(raw.trimmingCharacters(in: .whitespaces))
        guard value.hasPrefix(prefix) else {
            throw AuthFailure(.malformedHeader, header: header, message: "header \(header) must start with `\(prefix)`")
        }
        value = value.dropFirst(prefix.count)
        let decoded: [UInt8]? =
            switch encoding {
            case .hex: Hex.decode(value)
            case .base64: Base64.decode(value)
            }
        guard let tag = decoded, tag.count == Crypto.sha256Length else {
            throw AuthFailure(
                .malformedHeader, header: header,
                message: "header \(header) must hold a \(encoding.rawValue) HMAC-SHA256 (32 bytes)")
        }
        for (index, key) in keys.enumerated() where Crypto.constantTimeEquals(key.tag(body), tag) {
            let deliveryID = deliveryIDHeader.flatMap(lookup)
            return VerifiedDelivery(deliveryID: deliveryID, timestamp: nil, secretIndex: index)
        }
        throw AuthFailure(
            .noSignatureMatched, header: header,
            message:
                "the HMAC-SHA256 in \(header) matches no configured secret for this source; check the secret and that the body is passed on unmodified"
        )
    }
}

/// HTTP Basic authentication (RFC 7617) helpers.
package enum HTTPBasic {
    /// The `Authorization` header value for `user` and `password`: `Basic base64(user:password)`.
    package static func authorization(user: String, password: String) -> String {
        "Basic " + Base64.encode(Array("\(user):\(password)".utf8))
    }

    /// The `Authorization` header value for a `user:password` secret.
    package static func authorization(credentials: Secret) -> String {
        "Basic " + Base64.encode(credentials.revealedBytes)
    }

    static let header = "authorization"

    static func verify(header lookup: (String) -> String?, credentials: [[UInt8]]) throws(AuthFailure)
        -> VerifiedDelivery
    {
        guard let raw = lookup(header) else {
            throw AuthFailure(
                .missingHeader, header: header,
                message: "header Authorization is missing; this source must send HTTP Basic credentials")
        }
        let parts = raw.trimmingCharacters(in: .whitespaces).split(
            separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Base64.decode(parts[1].trimmingCharacters(in: .whitespaces)),
            decoded.contains(UInt8(ascii: ":"))
        else {
            throw AuthFailure(
                .malformedHeader, header: header,
                message: "header Authorization must be `Basic <base64 of user:password>`")
        }
        for (index, expected) in credentials.enumerated() where Crypto.constantTimeEqualsHashed(decoded, expected) {
            return VerifiedDelivery(deliveryID: nil, timestamp: nil, secretIndex: index)
        }
        throw AuthFailure(
            .badCredentials, header: header,
            message: "HTTP Basic credentials match no configured user and password for this source")
    }
}
