import Bookings
import Foundation
import WebhookAuth

/// One configured PMS source, ready to take deliveries: its verifier (with resolved secrets) and its adapter.
struct SourceRuntime: Sendable {
    /// The source's name, the `{source}` of `/webhooks/{source}`.
    let name: String
    /// Checks each delivery's signature or credentials.
    let verifier: WebhookVerifier
    /// Turns bodies into booking events.
    let adapter: any PMSAdapter
    /// Whether deliveries carry a secret path token (`/webhooks/{source}/{token}`).
    let usesPathToken: Bool

    /// Resolves the source's secrets and builds its verifier.
    /// - Throws: ``ConfigurationError`` naming the source when a secret is missing or unusable.
    init(_ settings: SourceSettings, environment: [String: String]) throws(ConfigurationError) {
        name = settings.name
        let key = "sources.\(settings.name)"
        var secrets: [Secret] = []
        for reference in settings.auth.secrets {
            guard let value = try reference.resolve(environment: environment) else { continue }
            if case .basic(let username, _) = settings.auth {
                secrets.append(Secret("\(username):\(value)"))
            } else {
                secrets.append(Secret(value))
            }
        }
        guard !secrets.isEmpty else {
            let names = settings.auth.secrets.map(\.description).joined(separator: ", ")
            throw ConfigurationError(
                key: "\(key).secrets", line: nil,
                message: "none of its secrets is set (\(names)); set one, or remove the source")
        }
        let scheme: SignatureScheme
        switch settings.auth {
        case .standardWebhooks(_, let tolerance): scheme = .standardWebhooks(tolerance: TimeInterval(tolerance))
        case .bodyHMAC(let header, let prefix, let encoding, _):
            scheme = .bodyHMAC(
                BodyHMAC(header: header, prefix: prefix, encoding: encoding == "base64" ? .base64 : .hex))
        case .basic: scheme = .basicAuth
        case .pathToken: scheme = .pathToken
        }
        do {
            verifier = try WebhookVerifier(scheme: scheme, secrets: secrets)
        } catch {
            throw ConfigurationError(key: "\(key).secrets", line: nil, message: "unusable secret: \(error.problem)")
        }
        guard let adapter = PMSAdapters.adapter(named: settings.adapter) else {
            throw ConfigurationError(key: "\(key).adapter", line: nil, message: "unknown adapter \(settings.adapter)")
        }
        self.adapter = adapter
        if case .pathToken = settings.auth { usesPathToken = true } else { usesPathToken = false }
    }
}
