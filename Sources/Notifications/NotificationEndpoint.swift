import Foundation
import WebhookAuth

/// One receiver of `access.*` events, with its secret resolved (`notifications:` in the configuration).
package struct NotificationEndpoint: Sendable {
    /// A stable id: the first 16 hex digits of SHA-256 of the URL (the URL may carry a token; the id does not).
    package let id: String
    /// Where events are posted.
    package let url: URL
    /// The Standard Webhooks signing secret (`whsec_…`).
    package let secret: Secret
    /// The events it receives. Default all four.
    package let events: Set<NotificationType>
    /// Whether its events carry the PIN (and backup codes). Default `false`.
    package let includePIN: Bool
    /// The delivery policy: timeout, backoff, how long to retry.
    package let policy: DeliveryPolicy

    /// Creates an endpoint, checking its secret.
    /// - Parameters:
    ///   - url: Where events are posted.
    ///   - secret: A `whsec_` secret.
    ///   - events: The events it receives; default all four.
    ///   - includePIN: Whether its events carry the PIN; default `false`.
    ///   - policy: The delivery policy; default ``DeliveryPolicy/init(timeoutSeconds:initialBackoffSeconds:maxBackoffSeconds:retryHours:)``'s defaults.
    /// - Throws: `StandardWebhooks.SecretError` when the secret is not a `whsec_` secret.
    package init(
        url: URL, secret: Secret, events: Set<NotificationType> = Set(NotificationType.allCases),
        includePIN: Bool = false, policy: DeliveryPolicy = DeliveryPolicy()
    ) throws(StandardWebhooks.SecretError) {
        _ = try StandardWebhooks.key(from: secret)
        self.url = url
        self.secret = secret
        self.events = events
        self.includePIN = includePIN
        self.policy = policy
        id = Hex.encode(Array(Crypto.sha256(Array(url.absoluteString.utf8)).prefix(8)))
    }

    /// The URL for logs and the admin API: scheme, host, port and path, without query or user info.
    package var redactedURL: String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.query = nil
        components?.user = nil
        components?.password = nil
        return components?.string ?? url.host ?? "?"
    }
}

/// How one endpoint's deliveries are sent and retried.
package struct DeliveryPolicy: Sendable, Hashable {
    /// How long one attempt may take before it counts as failed, in seconds. Default 10.
    package var timeoutSeconds: Int
    /// The first backoff ceiling, in seconds; doubled per failed attempt (full jitter: a uniform pick below it).
    /// Default 5.
    package var initialBackoffSeconds: Double
    /// The largest backoff ceiling, in seconds. Default 3,600 (one hour).
    package var maxBackoffSeconds: Double
    /// How long a delivery is retried after its event, in hours, before it is given up; at least 24. Default 72.
    package var retryHours: Int

    /// Creates a policy; every parameter has the documented default.
    package init(
        timeoutSeconds: Int = 10, initialBackoffSeconds: Double = 5, maxBackoffSeconds: Double = 3_600,
        retryHours: Int = 72
    ) {
        self.timeoutSeconds = timeoutSeconds
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.retryHours = retryHours
    }

    /// The wait after `failures` failed attempts: a uniform pick in `0…min(max, initial·2^(failures−1))` (full
    /// jitter), never below the receiver's `Retry-After`, never above the retry period.
    /// - Parameters:
    ///   - failures: Failed attempts so far (1 after the first).
    ///   - retryAfter: The receiver's `Retry-After`, in seconds, if it sent one.
    ///   - jitter: Picks a value in `0…ceiling`.
    /// - Returns: Seconds to wait.
    package func backoff(afterFailures failures: Int, retryAfter: Double?, jitter: (Double) -> Double) -> Double {
        let exponent = Double(max(0, min(failures - 1, 40)))
        let ceiling = min(maxBackoffSeconds, initialBackoffSeconds * pow(2, exponent))
        let picked = min(max(0, jitter(ceiling)), ceiling)
        return min(max(picked, retryAfter ?? 0), Double(retryHours) * 3_600)
    }
}

/// Signs a notification per Standard Webhooks 1.0.0: `webhook-id`, `webhook-timestamp` and
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, through WebhookAuth's HMAC.
package enum NotificationSigner {
    /// The headers of one attempt (with `Content-Type`).
    /// - Parameters:
    ///   - id: The event's `webhook-id`.
    ///   - timestamp: Unix seconds of this attempt.
    ///   - body: The exact body bytes.
    ///   - secret: The endpoint's `whsec_` secret.
    /// - Returns: Header names and values.
    /// - Throws: `StandardWebhooks.SecretError` for a secret that is not `whsec_` base64 (checked at start).
    package static func headers(id: String, timestamp: Int, body: [UInt8], secret: Secret)
        throws(StandardWebhooks.SecretError) -> [(name: String, value: String)]
    {
        let signed = try StandardWebhooks.headers(id: id, timestamp: timestamp, body: body, secrets: [secret])
        return [(name: "Content-Type", value: "application/json")] + signed.map { ($0.name, $0.value) }
    }
}
