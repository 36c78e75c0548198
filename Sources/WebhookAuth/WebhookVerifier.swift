import Foundation

/// Authenticates the deliveries of one webhook source under one scheme and a list of accepted secrets.
///
/// Several secrets are accepted at once so a secret can be rotated without downtime: configure the
/// new one next to the old, switch the sender, then drop the old. All comparisons are constant-time.
/// The verifier holds decoded key material; its description and mirror reveal none of it.
package struct WebhookVerifier: Sendable {
    /// The scheme.
    package let scheme: SignatureScheme
    /// Decoded keys, credentials or tokens, one per configured secret, in order. Redacted in output.
    private let keys: RedactedKeys

    /// A secret list that cannot be used with the scheme.
    package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The scheme's label.
        package let scheme: String
        /// What is wrong (never the secret's value).
        package let problem: String
        /// `<scheme>: <problem>`.
        package var description: String { "\(scheme): \(problem)" }
    }

    /// Creates a verifier.
    ///
    /// - Parameters:
    ///   - scheme: How the source signs.
    ///   - secrets: One or more accepted secrets; the first is the current one.
    /// - Throws: ``ConfigurationError`` when there is no secret, a secret is empty, a Standard Webhooks
    ///   secret is not `whsec_<base64>` or its tolerance is negative, or a Basic secret is not `user:password`.
    package init(scheme: SignatureScheme, secrets: [Secret]) throws(ConfigurationError) {
        self.scheme = scheme
        if case .standardWebhooks(let tolerance) = scheme, !(tolerance.isFinite && tolerance >= 0) {
            throw ConfigurationError(
                scheme: scheme.label, problem: "tolerance must be a finite number of seconds ≥ 0, not \(tolerance)")
        }
        guard !secrets.isEmpty else {
            throw ConfigurationError(scheme: scheme.label, problem: "no secret configured; add at least one")
        }
        var decoded: [[UInt8]] = []
        for (index, secret) in secrets.enumerated() {
            guard !secret.isEmpty else {
                throw ConfigurationError(scheme: scheme.label, problem: "secret #\(index + 1) is empty")
            }
            switch scheme {
            case .standardWebhooks:
                do {
                    decoded.append(try StandardWebhooks.key(from: secret))
                } catch {
                    throw ConfigurationError(
                        scheme: scheme.label, problem: StandardWebhooks.SecretError(index: index).description)
                }
            case .basicAuth:
                guard secret.revealedBytes.contains(UInt8(ascii: ":")) else {
                    throw ConfigurationError(
                        scheme: scheme.label, problem: "secret #\(index + 1) must be `user:password`")
                }
                decoded.append(secret.revealedBytes)
            case .bodyHMAC, .pathToken:
                decoded.append(secret.revealedBytes)
            }
        }
        let usesHMAC =
            switch scheme {
            case .standardWebhooks, .bodyHMAC: true
            case .basicAuth, .pathToken: false
            }
        keys = RedactedKeys(values: decoded, macKeys: usesHMAC ? decoded.map(HMACKey.init) : [])
    }

    /// Checks one delivery.
    ///
    /// - Parameters:
    ///   - header: Looks a request header up by name, case-insensitively; `nil` when absent.
    ///   - body: The raw body bytes exactly as received.
    ///   - pathToken: The token segment of the request path, for ``SignatureScheme/pathToken``; else ignored.
    ///   - now: The current time, for timestamp tolerance.
    /// - Returns: The delivery id and timestamp the scheme carries, if any.
    /// - Throws: ``AuthFailure`` naming the failed check.
    package func verify(
        header: (String) -> String?, body: [UInt8], pathToken: String? = nil, now: Date = Date()
    ) throws(AuthFailure) -> VerifiedDelivery {
        switch scheme {
        case .standardWebhooks(let tolerance):
            return try StandardWebhooks.verify(
                header: header, body: body, keys: keys.macKeys, tolerance: tolerance, now: now)
        case .bodyHMAC(let config):
            return try config.verify(header: header, body: body, keys: keys.macKeys)
        case .basicAuth:
            return try HTTPBasic.verify(header: header, credentials: keys.values)
        case .pathToken:
            guard let pathToken, !pathToken.isEmpty else {
                throw AuthFailure(
                    .badPathToken, header: nil,
                    message: "the URL has no secret token; use the webhook URL with the token this source was given")
            }
            for (index, token) in keys.values.enumerated()
            where Crypto.constantTimeEqualsHashed(Array(pathToken.utf8), token) {
                return VerifiedDelivery(deliveryID: nil, timestamp: nil, secretIndex: index)
            }
            throw AuthFailure(
                .badPathToken, header: nil,
                message: "the secret token in the URL matches no configured token for this source")
        }
    }
}

extension WebhookVerifier: CustomStringConvertible {
    /// `WebhookVerifier(<scheme>, <n> secrets)`; never key material.
    package var description: String { "WebhookVerifier(\(scheme.label), \(keys.values.count) secrets)" }
}

/// Key bytes that print as `<redacted>` everywhere (description, debug output, mirrors).
private struct RedactedKeys: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let values: [[UInt8]]
    /// The same keys prepared for HMAC, for the schemes that sign; empty for the others.
    let macKeys: [HMACKey]
    var description: String { "<redacted>" }
    var debugDescription: String { "<redacted>" }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
