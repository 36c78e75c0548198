import Bookings
import Foundation
import WebhookAuth

extension SourceSettings {
    /// Resolves the source's secrets and builds the verifier `serve` checks each delivery with.
    ///
    /// `check-config` calls this too, so it refuses exactly what `serve` refuses. No message includes a secret's
    /// value.
    /// - Parameter environment: The process environment (injectable for tests).
    /// - Returns: The verifier, with every secret that resolved.
    /// - Throws: ``ConfigurationError`` naming the source when no secret is set or one is unusable by the scheme.
    package func makeVerifier(environment: [String: String]) throws(ConfigurationError) -> WebhookVerifier {
        let key = "sources.\(name)"
        var secrets: [Secret] = []
        for reference in auth.secrets {
            guard let value = try reference.resolve(environment: environment) else { continue }
            if case .basic(let username, _) = auth {
                secrets.append(Secret("\(username):\(value)"))
            } else {
                secrets.append(Secret(value))
            }
        }
        guard !secrets.isEmpty else {
            let names = auth.secrets.map(\.description).joined(separator: ", ")
            throw ConfigurationError(
                key: "\(key).secrets", line: nil,
                message: "none of its secrets is set (\(names)); set one, or remove the source")
        }
        let scheme: SignatureScheme
        switch auth {
        case .standardWebhooks(_, let tolerance): scheme = .standardWebhooks(tolerance: TimeInterval(tolerance))
        case .bodyHMAC(let header, let prefix, let encoding, _):
            scheme = .bodyHMAC(
                BodyHMAC(header: header, prefix: prefix, encoding: encoding == "base64" ? .base64 : .hex))
        case .basic: scheme = .basicAuth
        case .pathToken: scheme = .pathToken
        }
        do {
            return try WebhookVerifier(scheme: scheme, secrets: secrets)
        } catch {
            throw ConfigurationError(key: "\(key).secrets", line: nil, message: "unusable secret: \(error.problem)")
        }
    }

    /// The adapter that decodes the source's bodies.
    /// - Throws: ``ConfigurationError`` when ``adapter`` names none of ``ConfigurationLoader/knownAdapters``.
    package func makeAdapter() throws(ConfigurationError) -> any PMSAdapter {
        guard let adapter = PMSAdapters.adapter(named: adapter) else {
            throw ConfigurationError(key: "sources.\(name).adapter", line: nil, message: "unknown adapter \(adapter)")
        }
        return adapter
    }

    /// Whether deliveries carry a secret path token (`/webhooks/{source}/{token}`).
    package var usesPathToken: Bool {
        if case .pathToken = auth { true } else { false }
    }
}
