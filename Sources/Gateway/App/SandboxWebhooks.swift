import FakeSeam
import Foundation
import Synchronization
import WebhookAuth

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The built-in fake Seam's webhooks, sent to Latchkey's own `POST /seam/webhooks` the way Seam's are once its
/// webhook is configured: signed (Svix) with a secret made for this run, over loopback, once the listener is up.
///
/// Used only with the built-in fake and no `seam.webhook_secret`. Without it a sandbox would never hear that a
/// code was set or scheduled on its lock (so no `access.ready`), nor that one was changed at the keypad.
final class SandboxWebhooks: Sendable {
    /// This run's signing secret: `whsec_` and 32 random bytes in base64. The route verifies with it.
    let secret: String
    /// Latchkey's own `/seam/webhooks`, known once the listener is bound; until then a delivery waits for a retry.
    private let listenerURL = Mutex<URL?>(nil)

    /// Makes this run's secret.
    /// - Throws: ``RandomBytesError`` when the system's random source fails.
    init() throws(RandomBytesError) {
        secret = "whsec_" + Data(try Crypto.randomBytes(count: 32)).base64EncodedString()
    }

    /// Where the fake sends its events: a placeholder URL (``transport`` puts in the listener's address), this
    /// run's secret, and retries for about a minute (0.5, 1, 2, 5, 10, 20, 30 s), enough for a slow start.
    var target: WebhookTarget {
        WebhookTarget(
            url: URL(string: "http://127.0.0.1/seam/webhooks")!, secret: secret,
            retryDelays: [0.5, 1, 2, 5, 10, 20, 30])
    }

    /// Tells the loop where the listener is.
    /// - Parameters:
    ///   - host: The configured bind host; a wildcard (`0.0.0.0`, `::`, empty) is reached on loopback.
    ///   - port: The bound port.
    func listening(host: String, port: Int) {
        let reachable =
            switch host {
            case "", "0.0.0.0": "127.0.0.1"
            case "::": "[::1]"
            default: host.contains(":") ? "[\(host)]" : host
            }
        listenerURL.withLock { $0 = URL(string: "http://\(reachable):\(port)/seam/webhooks") }
    }

    /// Sends one signed request to the listener; no answer (`nil`) before it is bound or when the request fails.
    var transport: WebhookSender.Transport {
        { [self] request in
            guard let url = listenerURL.withLock({ $0 }) else { return nil }
            var request = request
            request.url = url
            // Not cancelled from outside (an unstructured task): cancelling a Swift task inside `data(for:)` makes
            // FoundationNetworking cancel the URLSessionTask, which deadlocked the shutdown (the fake's sender is
            // cancelled when it stops). The request ends by itself within its timeout.
            let exchange = Task { try await URLSession.shared.data(for: request) }
            guard let (_, response) = try? await exchange.value else { return nil }
            return (response as? HTTPURLResponse)?.statusCode
        }
    }
}
