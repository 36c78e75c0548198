import FakeSeam
import Foundation
import HTTPServer
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What the injected transport saw, and what it answers.
final class RecordingTransport: Sendable {
    struct Sent: Sendable {
        let headers: [String: String]
        let body: JSONValue
    }

    private let sent = Mutex<[Sent]>([])
    private let statuses = Mutex<[Int?]>([])

    /// Answers with `statuses` in order, then 200.
    init(statuses: [Int?] = []) { self.statuses.withLock { $0 = statuses } }

    var requests: [Sent] { sent.withLock { $0 } }

    var transport: WebhookSender.Transport {
        { request in
            let headers = (request.allHTTPHeaderFields ?? [:]).reduce(into: [String: String]()) {
                $0[$1.key.lowercased()] = $1.value
            }
            let body = (try? JSONValue.parse([UInt8](request.httpBody ?? Data()))) ?? .null
            self.sent.withLock { $0.append(Sent(headers: headers, body: body)) }
            return self.statuses.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
        }
    }
}

@Suite("Webhooks: Seam events, Svix headers, retries")
struct WebhookTests {
    private static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    private func harness(_ transport: RecordingTransport, signer: WebhookSender.Signer? = nil) -> Harness {
        let target = WebhookTarget(
            url: URL(string: "http://127.0.0.1:9/seam")!, secret: Self.secret, retryDelays: [0.01, 0.01])
        let service = FakeSeamService(
            configuration: .testing(webhook: target),
            webhookSigner: signer ?? { id, timestamp, _ in
                [("svix-id", id), ("svix-timestamp", String(timestamp)), ("svix-signature", "v1,test")]
            },
            webhookTransport: transport.transport
        )
        return Harness(service: service)
    }

    private func waitForDeliveries(_ fake: Harness, count: Int) async {
        for _ in 0..<200 where fake.service.webhookDeliveries.filter({ $0.delivered || $0.abandoned }).count < count {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func lifecycleEventsAreSentAsSeamEventObjectsWithSvixHeaders() async throws {
        let transport = RecordingTransport()
        let fake = harness(transport)
        let codes = await fake.createMultiple([Locks.frontDoor, Locks.backDoor])
        fake.service.advanceClock(by: 5)
        _ = await fake.post("/access_codes/delete", ["access_code_id": .string(codes[0].s("access_code_id") ?? "")])
        fake.service.advanceClock(by: 5)
        await waitForDeliveries(fake, count: 6)
        let sent = transport.requests
        #expect(
            sent.map { $0.body.s("event_type") } == [
                "access_code.created", "access_code.created", "access_code.set_on_device", "access_code.set_on_device",
                "access_code.deleted", "access_code.removed_from_device",
            ])
        let set = try #require(sent.first { $0.body.s("event_type") == "access_code.set_on_device" })
        for key in [
            "event_id", "workspace_id", "created_at", "occurred_at", "access_code_id", "device_id",
            "connected_account_id", "code",
        ] {
            #expect(set.body[key] != nil && set.body[key] != .null, "set_on_device lacks \(key)")
        }
        #expect(set.body.s("code") == codes[0].s("code"))
        #expect(set.headers["svix-id"] == set.body.s("event_id"))
        let timestamp = try #require(Int(set.headers["svix-timestamp"] ?? ""))
        #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 60)
        #expect(set.headers["svix-signature"]?.hasPrefix("v1,") == true)
        #expect(set.headers["content-type"] == "application/json")
    }

    @Test func failedToSetEventCarriesTheErrorArrays() async throws {
        let transport = RecordingTransport()
        let fake = harness(transport)
        _ = await fake.createMultiple([Locks.shed])
        fake.service.advanceClock(by: 5)
        await waitForDeliveries(fake, count: 2)
        let failed = try #require(transport.requests.last?.body)
        #expect(failed.s("event_type") == "access_code.failed_to_set_on_device")
        #expect(failed["access_code_errors"]?.arrayValue?.first?.s("error_code") == "failed_to_set_on_device")
        #expect(failed["device_errors"]?.arrayValue?.first?.s("error_code") == "device_offline")
        for key in [
            "access_code_warnings", "device_warnings", "connected_account_errors", "connected_account_warnings",
        ] {
            #expect(failed[key] == [], "missing \(key)")
        }
    }

    @Test func failedDeliveryIsRetriedWithTheSameSvixIdThenGivenUp() async {
        let transport = RecordingTransport(statuses: [500, nil, 503])
        let fake = harness(transport)
        _ = await fake.createMultiple([Locks.frontDoor])
        await waitForDeliveries(fake, count: 1)
        let sent = transport.requests
        #expect(sent.count == 3)
        #expect(Set(sent.compactMap { $0.headers["svix-id"] }).count == 1)
        let delivery = fake.service.webhookDeliveries.first
        #expect(delivery?.abandoned == true)
        #expect(delivery?.attempts == 3)
        #expect(delivery?.lastStatus == 503)
    }

    @Test func retryThatSucceedsCountsAsDelivered() async {
        let transport = RecordingTransport(statuses: [502])
        let fake = harness(transport)
        _ = await fake.createMultiple([Locks.frontDoor])
        await waitForDeliveries(fake, count: 1)
        #expect(transport.requests.count == 2)
        #expect(fake.service.webhookDeliveries.first?.delivered == true)
        #expect(fake.service.webhookDeliveries.first?.attempts == 2)
    }
}
