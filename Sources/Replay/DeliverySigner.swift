import Configuration
import Foundation
import WebhookAuth

/// One HTTP request ready to send: where, which headers, which body.
package struct OutgoingRequest: Sendable {
    /// The path below the Latchkey base URL, e.g. `/webhooks/guesty` or `/webhooks/mews/<token>`.
    package var path: String
    /// The headers, in order.
    package var headers: [(name: String, value: String)]
    /// The exact body bytes.
    package var body: [UInt8]

    /// Creates a request.
    package init(path: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.path = path
        self.headers = headers
        self.body = body
    }

    /// The value of header `name` (case-insensitive), or `nil`.
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Signs deliveries the way each PMS would, from the schemes and secrets of the Latchkey configuration.
///
/// Standard Webhooks sources get `webhook-id`/`webhook-timestamp`/`webhook-signature` (`svix-*` for the
/// Guesty adapter, which signs through Svix); body-HMAC sources the configured header, prefix and encoding;
/// Basic sources an `Authorization` header; path-token sources the token as the last path segment.
/// All signing primitives come from `WebhookAuth`. Secrets are resolved once, at creation, and never printed.
package struct DeliverySigner: Sendable {
    private struct ResolvedSource: Sendable {
        let settings: SourceSettings
        let secret: Secret
    }

    private let sources: [String: ResolvedSource]
    private let order: [String]

    /// Creates a signer for every source of `configuration`.
    ///
    /// - Parameters:
    ///   - configuration: The Latchkey configuration the server under test runs with.
    ///   - environment: The environment for `{env: NAME}` secrets. Default: the process environment.
    /// - Throws: ``ReplayError`` when a source's first secret cannot be resolved.
    package init(
        configuration: LatchkeyConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ReplayError) {
        var resolved: [String: ResolvedSource] = [:]
        for source in configuration.sources {
            guard let reference = source.auth.secrets.first else { continue }
            let value: String?
            do {
                value = try reference.resolve(environment: environment)
            } catch {
                throw ReplayError("source \(source.name): \(error.message)")
            }
            guard let value, !value.isEmpty else {
                throw ReplayError(
                    "source \(source.name): its first secret (\(reference)) is not set; set it so the harness can sign as the PMS does"
                )
            }
            resolved[source.name] = ResolvedSource(settings: source, secret: Secret(value))
        }
        sources = resolved
        order = configuration.sources.map(\.name).filter { resolved[$0] != nil }
    }

    /// The configured source names the signer can sign for, in configuration order.
    package var sourceNames: [String] { order }

    /// Builds the request of one delivery.
    ///
    /// - Parameters:
    ///   - delivery: The delivery (its recorded headers, if any, are sent unchanged).
    ///   - source: The source the delivery is posted to.
    ///   - deliveryID: A unique id for this delivery (the Standard Webhooks `webhook-id`); a duplicate send
    ///     reuses it, as a PMS retry does.
    ///   - now: The time of the attempt (the signed timestamp).
    /// - Returns: The request.
    /// - Throws: ``ReplayError`` for an unknown source, `stale` on a scheme without a signed timestamp, or
    ///   `other_source` with only one source configured.
    package func request(for delivery: Delivery, source: String, deliveryID: String, now: Date = Date())
        throws(ReplayError) -> OutgoingRequest
    {
        guard let target = sources[source] else {
            throw ReplayError(
                "no source named \"\(source)\" in the Latchkey configuration; use one of \(order.joined(separator: ", "))"
            )
        }
        let body = delivery.body.bytes
        let basePath = "/webhooks/\(Self.pathSegment(source))"
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("User-Agent", "latchkey-replay"),
        ]
        if !delivery.headers.isEmpty {
            let recorded = Set(delivery.headers.map { $0.name.lowercased() })
            headers.removeAll { recorded.contains($0.name.lowercased()) }
            return OutgoingRequest(path: basePath, headers: headers + delivery.headers, body: body)
        }
        let signing: ResolvedSource
        var timestamp = Int(now.timeIntervalSince1970)
        switch delivery.sign {
        case .unsigned:
            return OutgoingRequest(path: basePath, headers: headers, body: body)
        case .valid:
            signing = target
        case .stale:
            guard case .standardWebhooks(_, let tolerance) = target.settings.auth else {
                throw ReplayError(
                    "source \(source) signs without a timestamp, so `sign: stale` cannot apply; replay an old delivery unchanged instead"
                )
            }
            signing = target
            timestamp -= tolerance + 120
        case .wrongSecret:
            signing = ResolvedSource(settings: target.settings, secret: Self.wrongSecret(for: target.settings.auth))
        case .otherSource:
            guard let other = otherSource(than: target) else {
                throw ReplayError("`sign: other_source` needs a second source in the Latchkey configuration")
            }
            signing = other
        }
        var path = basePath
        do {
            switch signing.settings.auth {
            case .standardWebhooks:
                let names: StandardWebhooks.HeaderNames = signing.settings.adapter == "guesty" ? .svix : .standard
                for header in try StandardWebhooks.headers(
                    id: deliveryID, timestamp: timestamp, body: body, secrets: [signing.secret], names: names)
                {
                    headers.append((header.name, header.value))
                }
            case .bodyHMAC(let header, let prefix, let encoding, _):
                let scheme = BodyHMAC(header: header, prefix: prefix, encoding: encoding == "base64" ? .base64 : .hex)
                headers.append((header, scheme.sign(body: body, secret: signing.secret)))
            case .basic(let username, _):
                headers.append(
                    ("Authorization", HTTPBasic.authorization(user: username, password: signing.secret.revealedString)))
            case .pathToken:
                path += "/" + Self.pathSegment(signing.secret.revealedString)
            }
        } catch {
            throw ReplayError("source \(signing.settings.name): \(error.description)")
        }
        return OutgoingRequest(path: path, headers: headers, body: body)
    }

    /// The source whose signature is most like `target`'s: the same scheme first, then any scheme that signs
    /// in headers (a path token would change the URL, not the proof), then any other source.
    private func otherSource(than target: ResolvedSource) -> ResolvedSource? {
        let others = order.filter { $0 != target.settings.name }.compactMap { sources[$0] }
        func kind(_ auth: AuthSettings) -> Int {
            switch auth {
            case .standardWebhooks: 0
            case .bodyHMAC: 1
            case .basic: 2
            case .pathToken: 3
            }
        }
        let targetKind = kind(target.settings.auth)
        return others.first { kind($0.settings.auth) == targetKind } ?? others.first { kind($0.settings.auth) != 3 }
            ?? others.first
    }

    /// A secret of the right shape for `auth` that no configuration knows.
    private static func wrongSecret(for auth: AuthSettings) -> Secret {
        let random = (try? Crypto.randomBytes(count: 32)) ?? Array("latchkey-replay-wrong-secret-000".utf8)
        if case .standardWebhooks = auth { return Secret(StandardWebhooks.secretPrefix + Base64.encode(random)) }
        return Secret(Hex.encode(random))
    }

    /// Percent-encodes one path segment.
    static func pathSegment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
