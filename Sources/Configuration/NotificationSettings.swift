import Foundation

/// One endpoint of `notifications:`: where Latchkey posts `access.*` events, signed per Standard Webhooks.
package struct NotificationSettings: Sendable, Equatable {
    /// The receiver's http(s) URL. No default.
    package var url: String
    /// The Standard Webhooks signing secret (`whsec_` and base64), `{env: NAME}` or `{file: PATH}`. No default.
    package var secret: SecretReference
    /// The events it receives: any of `access.ready`, `access.changed`, `access.failed`, `access.revoked`.
    /// Default all four.
    package var events: [String] = NotificationSettings.allEvents
    /// Whether its events carry the group's PIN (and backup codes). Default `false`.
    package var includePIN: Bool = false
    /// How long one attempt may take, in seconds. Default 10.
    package var timeoutSeconds: Int = 10
    /// The largest wait between attempts, in seconds (full-jitter backoff from 5 s, doubling). Default 3,600.
    package var maxBackoffSeconds: Int = 3_600
    /// How long an event is retried before it is given up, in hours; at least 24. Default 72.
    package var retryHours: Int = 72

    /// The four event types, in the order the docs list them.
    package static let allEvents = ["access.ready", "access.changed", "access.failed", "access.revoked"]

    /// Creates settings; every parameter but `url` and `secret` has the documented default.
    package init(url: String, secret: SecretReference) {
        self.url = url
        self.secret = secret
    }
}

extension ConfigurationLoader.Keys {
    /// Each endpoint under `notifications:`.
    package static let notification: Set<String> = [
        "url", "secret", "events", "include_pin", "timeout_seconds", "max_backoff_seconds", "retry_hours",
    ]
}

extension ConfigurationLoader {
    /// `notifications:`, a list of endpoints; every problem recorded.
    static func parseNotifications(_ node: ConfigNode, _ problems: inout ConfigurationProblems)
        -> [NotificationSettings]
    {
        let items = problems.check { () throws(ConfigurationError) in try node.array() } ?? []
        var seen: Set<String> = []
        var endpoints: [NotificationSettings] = []
        for item in items {
            guard let endpoint = parseNotification(item, &problems) else { continue }
            // An endpoint is known by its URL (its id, its outbox rows): two entries for one URL would collide.
            guard seen.insert(endpoint.url).inserted else {
                problems.add(item.error("a second endpoint for \(endpoint.url); list its events in one entry"))
                continue
            }
            endpoints.append(endpoint)
        }
        return endpoints
    }

    private static func parseNotification(_ node: ConfigNode, _ problems: inout ConfigurationProblems)
        -> NotificationSettings?
    {
        node.reportUnknownKeys(Keys.notification, into: &problems)
        let url = problems.value(of: "url", in: node) { n throws(ConfigurationError) in
            let text = try n.string()
            guard let url = URL(string: text), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw n.error("expected the receiver's http(s) URL, e.g. https://guest-messages.example.com/latchkey")
            }
            return text
        }
        if node.child("url") == nil { problems.add(node.error("missing `url:`; the receiver's http(s) URL")) }
        let secret = problems.value(of: "secret", in: node) { n throws(ConfigurationError) in try parseSecret(n) }
        if node.child("secret") == nil {
            problems.add(
                node.error("missing `secret:`; the endpoint's whsec_ signing secret as {env: NAME} or {file: PATH}"))
        }
        // Read every other key even when these two are wrong, so that one pass reports every problem.
        var settings = NotificationSettings(url: url ?? "", secret: secret ?? .inline(""))
        if let events = problems.value(
            of: "events", in: node,
            { n throws(ConfigurationError) in
                let events = try n.stringArray()
                if let unknown = events.first(where: { !NotificationSettings.allEvents.contains($0) }) {
                    throw n.error(
                        "unknown event \"\(unknown)\"; use \(NotificationSettings.allEvents.joined(separator: ", "))")
                }
                guard !events.isEmpty else { throw n.error("list at least one event, or leave `events:` out for all") }
                return events
            })
        {
            settings.events = events
        }
        if let value = problems.value(of: "include_pin", in: node, { n throws(ConfigurationError) in try n.bool() }) {
            settings.includePIN = value
            // A guest's PIN never crosses a network in cleartext: http:// only to this machine.
            if value, let url, let parsed = URL(string: url), parsed.scheme == "http",
                !["127.0.0.1", "localhost", "::1", "[::1]"].contains(parsed.host ?? "")
            {
                problems.add(
                    node.error(
                        "include_pin: true needs an https:// URL (http:// only to 127.0.0.1 or localhost): "
                            + "the PIN would cross the network in cleartext"))
            }
        }
        problems.int("timeout_seconds", in: node, 1...120) { settings.timeoutSeconds = $0 }
        problems.int("max_backoff_seconds", in: node, 1...86_400) { settings.maxBackoffSeconds = $0 }
        problems.int("retry_hours", in: node, 24...720) { settings.retryHours = $0 }
        return url != nil && secret != nil ? settings : nil
    }
}
