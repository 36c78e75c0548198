import Configuration
import FakeSeam
import Foundation
import Gateway
import HTTPServer
import Logging
import Reconciler
import Synchronization
import Testing
import WebhookAuth

/// The gateway with `notifications:`: a stay's codes set on every lock reach a receiver as one signed access.ready
/// carrying the PIN the locks hold; its cancellation arrives as access.revoked.
@Suite(.serialized) struct NotificationEndToEndTests {
    static let secret = "whsec_bm90aWZpY2F0aW9uLWUyZS10ZXN0LXNlY3JldCEh"

    struct Event: Sendable {
        var id: String
        var type: String
        var reservationID: String
        var pin: String?
    }

    /// What the receiver got: verified events, and how many requests failed verification.
    final class Inbox: Sendable {
        let state = Mutex<(events: [Event], refused: Int)>(([], 0))
        var events: [Event] { state.withLock { $0.events } }
        var refused: Int { state.withLock { $0.refused } }
    }

    static func receiver(_ inbox: Inbox) throws -> HTTPServer {
        let verifier = try WebhookVerifier(scheme: .standardWebhooks(), secrets: [Secret(secret)])
        var router = Router()
        router.add("POST", "/hook") { request in
            guard let delivery = try? verifier.verify(header: { request.headers[$0] }, body: request.body),
                let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                let data = object["data"] as? [String: Any]
            else {
                inbox.state.withLock { $0.refused += 1 }
                return HTTPResponse(status: 401)
            }
            let event = Event(
                id: delivery.deliveryID ?? "", type: object["type"] as? String ?? "",
                reservationID: data["reservation_id"] as? String ?? "", pin: data["pin"] as? String)
            inbox.state.withLock { $0.events.append(event) }
            return HTTPResponse(status: 204)
        }
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), handler: router,
            logger: Logger(label: "receiver"))
        server.start()
        return server
    }

    /// Polls `condition` every 10 ms, up to about 10 s.
    static func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<1_000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func codesSetOnEveryLock_SendOneSignedReady_AndACancellationRevoked() async throws {
        let inbox = Inbox()
        let receiver = try Self.receiver(inbox)
        defer {
            receiver.beginShutdown()
            receiver.waitUntilStopped()
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lk-notify-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = SandboxConfiguration.make(dataDirectory: directory)
        configuration.server.port = 0
        var endpoint = NotificationSettings(url: "http://127.0.0.1:\(receiver.port)/hook", secret: .inline(Self.secret))
        endpoint.includePIN = true
        configuration.notifications = [endpoint]
        let gateway = try await LatchkeyGateway(
            configuration: configuration, environment: [:], logger: Logger(label: "notify-e2e"))
        let harness = GatewayEndToEndTests.Harness(gateway: gateway, directory: directory)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Berlin")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let checkIn = formatter.string(from: Date().addingTimeInterval(-3_600))
        let checkOut = formatter.string(from: Date().addingTimeInterval(86_400))
        let (created, _) = try await harness.post(
            GatewayEndToEndTests.booking("n1", checkIn: checkIn, checkOut: checkOut), id: "msg_n1")
        #expect(created == 202)
        await gateway.waitUntilIdle()
        #expect(inbox.events.isEmpty, "nothing is ready before Seam says the codes are on the locks")

        // Seam's set_on_device for each code, as its webhook would deliver it.
        let fake = try #require(gateway.fakeSeam?.service)
        fake.advanceClock(by: 6)
        let codes = harness.codes(marker: "n1")
        #expect(codes.count == 2 && codes.allSatisfy { $0.status == .set })
        for code in codes { try await gateway.reconciler.recordLockEvent(accessCodeID: code.id, kind: .set) }
        try await Self.waitFor { inbox.events.contains { $0.type == "access.ready" } }
        // The same events again change nothing: still one access.ready.
        for code in codes { try await gateway.reconciler.recordLockEvent(accessCodeID: code.id, kind: .set) }
        await gateway.waitUntilIdle()
        let readies = inbox.events.filter { $0.type == "access.ready" }
        #expect(readies.count == 1)
        #expect(readies.first?.reservationID == "n1")
        #expect(readies.first.flatMap(\.pin) == codes.first?.code)

        let (cancelled, _) = try await harness.post(
            GatewayEndToEndTests.booking(
                "n1", event: "booking.cancelled", status: "cancelled", checkIn: checkIn, checkOut: checkOut,
                updatedAt: "2030-01-02T10:00:00Z"),
            id: "msg_n1_cancel")
        #expect(cancelled == 202)
        await gateway.waitUntilIdle()
        try await Self.waitFor { inbox.events.contains { $0.type == "access.revoked" } }
        let revoked = inbox.events.filter { $0.type == "access.revoked" }
        #expect(revoked.count == 1)
        #expect(revoked.first?.pin == nil)
        #expect(inbox.refused == 0)
        #expect(Set(inbox.events.map(\.id)).count == inbox.events.count)
        await gateway.stop()
    }

    @Test func theBuiltInFakesOwnWebhooks_TellLatchkeyTheCodesAreSet() async throws {
        // No API key and no seam.webhook_secret: the built-in fake signs its events with this run's secret and
        // sends them to Latchkey's own /seam/webhooks, as Seam does once its webhook is set up.
        let inbox = Inbox()
        let receiver = try Self.receiver(inbox)
        defer {
            receiver.beginShutdown()
            receiver.waitUntilStopped()
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lk-sandbox-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = SandboxConfiguration.make(dataDirectory: directory)
        configuration.server.port = 0
        configuration.notifications = [
            NotificationSettings(url: "http://127.0.0.1:\(receiver.port)/hook", secret: .inline(Self.secret))
        ]
        let gateway = try await LatchkeyGateway(
            configuration: configuration, environment: [:], logger: Logger(label: "sandbox-webhooks"))
        let harness = GatewayEndToEndTests.Harness(gateway: gateway, directory: directory)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Berlin")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let (created, _) = try await harness.post(
            GatewayEndToEndTests.booking(
                "s1", checkIn: formatter.string(from: Date().addingTimeInterval(-3_600)),
                checkOut: formatter.string(from: Date().addingTimeInterval(86_400))),
            id: "msg_s1")
        #expect(created == 202)
        await gateway.waitUntilIdle()
        try #require(gateway.fakeSeam?.service).advanceClock(by: 6)
        try await Self.waitFor { inbox.events.contains { $0.type == "access.ready" } }
        #expect(inbox.events.filter { $0.type == "access.ready" }.map(\.reservationID) == ["s1"])
        let snapshot = await gateway.reconciler.reservation(ReservationKey(source: "native", reservationID: "s1"))
        #expect(snapshot?.applied?.codes.allSatisfy { $0.status == .set } == true)
        let deliveries = try #require(gateway.fakeSeam?.service).webhookDeliveries
        #expect(!deliveries.isEmpty && deliveries.allSatisfy { $0.delivered || $0.attempts == 0 })
        await gateway.stop()
    }
}
