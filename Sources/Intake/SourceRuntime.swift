import Bookings
import Configuration
import WebhookAuth

/// One configured PMS source, ready to take deliveries: its verifier (with resolved secrets) and its adapter.
package struct SourceRuntime: Sendable {
    /// The source's name, the `{source}` of `/webhooks/{source}`.
    package let name: String
    /// Checks each delivery's signature or credentials.
    package let verifier: WebhookVerifier
    /// Turns bodies into booking events.
    package let adapter: any PMSAdapter
    /// Whether deliveries carry a secret path token (`/webhooks/{source}/{token}`).
    package let usesPathToken: Bool

    /// Resolves the source's secrets and builds its verifier.
    /// - Throws: ``ConfigurationError`` naming the source when a secret is missing or unusable.
    package init(_ settings: SourceSettings, environment: [String: String]) throws(ConfigurationError) {
        name = settings.name
        verifier = try settings.makeVerifier(environment: environment)
        adapter = try settings.makeAdapter()
        usesPathToken = settings.usesPathToken
    }
}
