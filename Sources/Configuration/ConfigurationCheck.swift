import Foundation
import WebhookAuth

/// What `latchkey check-config` found beyond parse errors: secrets that do not resolve, sandbox-only settings.
package struct ConfigurationCheck: Sendable {
    /// A finding, with its key path.
    package struct Finding: Sendable, CustomStringConvertible {
        /// `error` stops `serve`; `warning` is advice.
        package enum Severity: String, Sendable { case error, warning }
        /// How bad it is.
        package var severity: Severity
        /// The key path, e.g. `sources.guesty.secrets[0]`.
        package var key: String
        /// What is wrong and what to do.
        package var message: String

        /// `error: sources.guesty.secrets[0]: environment variable GUESTY_WEBHOOK_SECRET is not set`.
        package var description: String { "\(severity.rawValue): \(key): \(message)" }
    }

    /// Every finding, errors first.
    package let findings: [Finding]

    /// Whether `serve` can start with this configuration.
    package var isServable: Bool { !findings.contains { $0.severity == .error } }

    /// Checks that every secret resolves and is usable by its source's scheme, and flags inline secrets.
    /// - Parameters:
    ///   - configuration: A parsed configuration.
    ///   - environment: The process environment (injectable for tests).
    package init(
        _ configuration: LatchkeyConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        var found: [Finding] = []
        func check(_ reference: SecretReference, key: String, required: Bool) {
            do {
                if try reference.resolve(environment: environment) == nil, required {
                    found.append(
                        Finding(
                            severity: .error, key: key, message: "\(reference) is not set; set it or remove this secret"
                        ))
                }
            } catch {
                found.append(Finding(severity: .error, key: key, message: error.message))
            }
            if case .inline = reference {
                found.append(
                    Finding(
                        severity: .warning, key: key,
                        message: "a secret written in the file; use {env: NAME} or {file: PATH} outside a sandbox"))
            }
        }
        for source in configuration.sources {
            let secrets = source.auth.secrets
            let resolvable = secrets.filter { (try? $0.resolve(environment: environment)) != nil }
            for (index, secret) in secrets.enumerated() {
                // With rotation, an unset old secret is fine as long as one resolves.
                check(secret, key: "sources.\(source.name).secrets[\(index)]", required: resolvable.isEmpty)
            }
            // The secrets resolve; `serve` also needs them usable by the scheme (whsec_<base64>, user:password):
            // build the verifier exactly as `serve` does. Its messages never include a secret's value.
            if !resolvable.isEmpty {
                do {
                    _ = try source.makeVerifier(environment: environment)
                } catch {
                    found.append(Finding(severity: .error, key: error.key, message: error.message))
                }
            }
        }
        if let key = configuration.seam.apiKey { check(key, key: "seam.api_key", required: false) }
        if let secret = configuration.seam.webhookSecret { check(secret, key: "seam.webhook_secret", required: false) }
        if let token = configuration.adminToken { check(token, key: "admin.token", required: false) }
        if let password = configuration.console.password {
            check(password, key: "console.password", required: false)
        }
        for (index, endpoint) in configuration.notifications.enumerated() {
            let key = "notifications[\(index)].secret"
            check(endpoint.secret, key: key, required: true)
            if let value = try? endpoint.secret.resolve(environment: environment),
                (try? StandardWebhooks.key(from: Secret(value))) == nil
            {
                found.append(
                    Finding(
                        severity: .error, key: key,
                        message: "not a Standard Webhooks secret: expected whsec_ followed by base64 of the key bytes"))
            }
        }
        findings = found.sorted { $0.severity == .error && $1.severity != .error }
    }
}
