import Foundation

/// Why a webhook delivery was not authenticated. The gateway answers 401 with ``message``.
///
/// ``reason`` is a stable label for metrics and logs; ``message`` names the check and the header involved
/// and never contains a secret, an expected signature or a received signature.
package struct AuthFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable label for the failed check.
    package enum Reason: String, Sendable, Hashable, CaseIterable {
        /// A required header (or the Authorization header) is absent.
        case missingHeader = "missing_header"
        /// A header is present but cannot be parsed (bad encoding, bad prefix, non-numeric timestamp).
        case malformedHeader = "malformed_header"
        /// The signed timestamp is older than the tolerance allows.
        case staleTimestamp = "stale_timestamp"
        /// The signed timestamp is further in the future than the tolerance allows.
        case futureTimestamp = "future_timestamp"
        /// Signatures were present and well formed, but none matched any configured secret.
        case noSignatureMatched = "no_signature_matched"
        /// HTTP Basic credentials did not match any configured pair.
        case badCredentials = "bad_credentials"
        /// The secret token in the URL path is absent or wrong.
        case badPathToken = "bad_path_token"
    }

    /// The failed check.
    package let reason: Reason
    /// The header the check looked at, when there is one (lower case, as configured).
    package let header: String?
    /// A human-readable message: what was wrong and what the sender should check.
    package let message: String

    /// Creates a failure.
    package init(_ reason: Reason, header: String?, message: String) {
        self.reason = reason
        self.header = header
        self.message = message
    }

    /// `<reason>: <message>`.
    package var description: String { "\(reason.rawValue): \(message)" }
}

/// What a successful verification learned about the delivery.
package struct VerifiedDelivery: Sendable, Equatable {
    /// The sender's unique delivery id (`webhook-id`, `svix-id`, or a configured header such as
    /// `X-GitHub-Delivery`), when the scheme has one; the idempotency key of choice.
    package let deliveryID: String?
    /// The signed timestamp of this attempt, when the scheme signs one.
    package let timestamp: Date?
    /// The position, in the configured list, of the secret that matched (0 is the first). Useful to see
    /// when an old secret is no longer used during rotation.
    package let secretIndex: Int?

    /// Creates a verified delivery.
    package init(deliveryID: String?, timestamp: Date?, secretIndex: Int?) {
        self.deliveryID = deliveryID
        self.timestamp = timestamp
        self.secretIndex = secretIndex
    }
}
