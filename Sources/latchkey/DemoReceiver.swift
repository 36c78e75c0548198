import Foundation
import HTTPServer
import Logging
import Synchronization
import WebhookAuth

/// `latchkey demo`'s stand-in for a guest-messaging system: a receiver on a loopback port that verifies each
/// notification's Standard Webhooks signature (as a real receiver does with the `standardwebhooks` library),
/// de-duplicates by `webhook-id`, and keeps the events for the demo to print.
final class DemoReceiver: Sendable {
    /// One verified event.
    struct Event: Sendable {
        var webhookID: String
        var type: String
        var reservationID: String
        var propertyName: String
        var locks: Int
        var startsAtLocal: String
        var endsAtLocal: String
        var timeZone: String
        var pin: String?
        var reason: String?
    }

    /// The receiver's signing secret (printed nowhere; a sandbox value like the native source's).
    static let secret = "whsec_bGF0Y2hrZXktZGVtby1yZWNlaXZlci1zZWNyZXQhIQ=="

    /// What arrived, shared with the route's handler.
    private final class Inbox: Sendable {
        let state = Mutex<(events: [Event], ids: Set<String>, refused: Int)>(([], [], 0))
    }

    private let server: HTTPServer
    private let received = Inbox()

    /// The URL Latchkey posts to.
    var url: String { "http://127.0.0.1:\(server.port)/guest-messages" }
    /// The events received, first delivery of each `webhook-id` only.
    var events: [Event] { received.state.withLock { $0.events } }

    /// Starts listening on a free loopback port.
    init(logger: Logger) throws {
        let verifier = try WebhookVerifier(scheme: .standardWebhooks(), secrets: [Secret(Self.secret)])
        var router = Router()
        let received = self.received
        router.add("POST", "/guest-messages") { request in
            guard let delivery = try? verifier.verify(header: { request.headers[$0] }, body: request.body),
                let id = delivery.deliveryID,
                let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                let data = object["data"] as? [String: Any]
            else {
                received.state.withLock { $0.refused += 1 }
                return .error(status: 401, type: "unauthorized", message: "signature or body not valid")
            }
            let window = data["window"] as? [String: Any]
            let event = Event(
                webhookID: id, type: object["type"] as? String ?? "?",
                reservationID: data["reservation_id"] as? String ?? "?",
                propertyName: (data["property"] as? [String: Any])?["name"] as? String ?? "?",
                locks: (data["locks"] as? [Any])?.count ?? 0,
                startsAtLocal: window?["starts_at_local"] as? String ?? "-",
                endsAtLocal: window?["ends_at_local"] as? String ?? "-",
                timeZone: window?["time_zone"] as? String ?? "", pin: data["pin"] as? String,
                reason: data["reason"] as? String)
            received.state.withLock {
                if $0.ids.insert(id).inserted { $0.events.append(event) }
            }
            return HTTPResponse(status: 204)
        }
        server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), handler: router, logger: logger)
        server.start()
    }

    /// Stops the listener.
    func stop() {
        server.beginShutdown()
        server.waitUntilStopped()
    }

    /// One line per event: type, reservation, property, locks, window in the property's zone, PIN (masked unless
    /// `showPins`), "signature verified".
    static func line(_ event: Event, showPins: Bool) -> String {
        let pin = event.pin.map { showPins ? $0 : String(repeating: "•", count: $0.count) }
        var parts = [
            event.type.padding(toLength: 15, withPad: " ", startingAt: 0),
            event.reservationID.padding(toLength: 9, withPad: " ", startingAt: 0), event.propertyName,
            "\(event.locks) lock\(event.locks == 1 ? "" : "s")",
            "\(event.startsAtLocal) → \(event.endsAtLocal) \(event.timeZone)",
        ]
        if let pin { parts.append("PIN \(pin)") }
        if let reason = event.reason { parts.append("reason \(reason)") }
        return "← " + parts.joined(separator: "  ") + "  (signature verified)"
    }
}
