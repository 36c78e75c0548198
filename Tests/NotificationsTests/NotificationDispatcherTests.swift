import Bookings
import Foundation
import LatchkeyTestSupport
import Logging
import Reconciler
import Seam
import Testing
import WebhookAuth

@testable import Notifications

@Suite struct NotificationDispatcherTests {
    let clock = ManualClock()
    let store = MemoryStateStore()
    let transport = ScriptedTransport()

    func endpoint(retryHours: Int = 24) throws -> NotificationEndpoint {
        try NotificationEndpoint(
            url: URL(string: "http://127.0.0.1:9/hook")!, secret: Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            includePIN: true,
            policy: DeliveryPolicy(initialBackoffSeconds: 5, maxBackoffSeconds: 3_600, retryHours: retryHours))
    }

    /// A started service over the test doubles.
    func service(_ endpoint: NotificationEndpoint) async throws -> NotificationService {
        let transport = self.transport
        return try await NotificationService.start(
            endpoints: [endpoint],
            properties: [
                Property(
                    id: "loft", name: "Loft", listings: ["native": ["lst_1"]], deviceIDs: ["dev_1", "dev_2"],
                    timeZone: "Europe/Berlin")
            ], store: store, clock: clock, makeTransport: { _ in transport }, logger: .init(label: "test"))
    }

    /// Commits `record` through the notifying store as the reconciler would.
    func commit(_ record: ReservationRecord, to service: NotificationService) async throws {
        try await service.stateStore.commit([
            .put(key: StoreKeys.reservation(record.key), value: Array(try JSONEncoder().encode(record)))
        ])
    }

    func record(_ id: String, _ statuses: [LockCodeStatus], window: CodeWindow = Records.window) -> ReservationRecord {
        var record = Records.record(statuses, window: window)
        record.key = ReservationKey(source: "native", reservationID: id)
        return record
    }

    @Test func theEventIsStoredInTheSameTransactionAsTheRecordAndSentSigned() async throws {
        let service = try await service(try endpoint())
        defer { Task { await service.stop() } }
        try await commit(record("r1", [.set, .unconfirmed]), to: service)
        try await commit(record("r1", [.set, .set]), to: service)
        let last = try #require(store.transactions.last)
        #expect(last.contains(StoreKeys.reservation(ReservationKey(source: "native", reservationID: "r1"))))
        #expect(last.contains(where: { $0.hasPrefix(StoreKeys.notifications) }))
        try await eventually("the delivery") { transport.sent.count == 1 }
        let sent = try #require(transport.sent.first)
        #expect(sent.body.contains("\"type\":\"access.ready\""))
        #expect(sent.body.contains("\"pin\":\"4821\""))
        let verifier = try WebhookVerifier(
            scheme: .standardWebhooks(), secrets: [Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")])
        _ = try verifier.verify(header: { sent.headers[$0] }, body: Array(sent.body.utf8))
        try await eventually("delivered counted") { await service.dispatcher.stats().first?.delivered == 1 }
    }

    @Test func retriesKeepTheWebhookIDAndHonourRetryAfter() async throws {
        transport.answer { _ in SeamHTTPResponse(status: 503, headers: ["Retry-After": "7200"]) }
        let service = try await service(try endpoint())
        defer { Task { await service.stop() } }
        try await commit(record("r1", [.set, .set]), to: service)
        try await eventually("the first attempt recorded") { await service.dispatcher.stats().first?.retrying == 1 }
        clock.advance(by: 3_600)
        try await Task.sleep(for: .milliseconds(50))
        #expect(transport.sent.count == 1, "Retry-After 7200 s asks for two hours")
        transport.answer { _ in SeamHTTPResponse(status: 200) }
        clock.advance(by: 3_601)
        try await eventually("the retry") { transport.sent.count == 2 }
        #expect(Set(transport.sent.map(\.id)).count == 1)
        try await eventually("delivered") { await service.dispatcher.stats().first?.delivered == 1 }
        #expect(await service.dispatcher.stats().first?.retrying == 0)
    }

    @Test func aReservationsEventsGoInOrderOthersAreNotHeldUp() async throws {
        let service = try await service(try endpoint())
        defer { Task { await service.stop() } }
        transport.answer { sent in
            SeamHTTPResponse(status: sent.body.contains("\"reservation_id\":\"r1\"") ? 500 : 200)
        }
        try await commit(record("r1", [.set, .set]), to: service)
        let moved = CodeWindow(
            startsAt: Records.window.startsAt.addingTimeInterval(3_600), endsAt: Records.window.endsAt)
        try await commit(record("r1", [.set, .set], window: moved), to: service)
        try await commit(record("r2", [.set, .set]), to: service)
        try await eventually("r2 delivered while r1 waits") {
            let stats = await service.dispatcher.stats().first
            return stats?.delivered == 1 && stats?.retrying == 1
        }
        #expect(!transport.sent.contains { $0.body.contains("access.changed") }, "r1's second event waited")
        transport.answer { _ in SeamHTTPResponse(status: 200) }
        clock.advance(by: 3_600)
        try await eventually("all delivered") { await service.dispatcher.stats().first?.delivered == 3 }
        let r1 = transport.sent.filter { $0.body.contains("\"reservation_id\":\"r1\"") && !$0.body.isEmpty }
        let firstChanged = try #require(r1.firstIndex { $0.body.contains("access.changed") })
        #expect(r1[..<firstChanged].allSatisfy { $0.body.contains("access.ready") })
        #expect(r1.last?.body.contains("access.changed") == true)
    }

    @Test func a410DisablesTheEndpointDurablyUntilEnabled() async throws {
        transport.answer { _ in SeamHTTPResponse(status: 410) }
        let endpoint = try endpoint()
        var service = try await service(endpoint)
        try await commit(record("r1", [.set, .set]), to: service)
        try await eventually("disabled") { await service.dispatcher.stats().first?.disabled == true }
        #expect(store.value(StoreKeys.notificationEndpoint(endpoint.id)) != nil)
        clock.advance(by: 86_400)
        try await Task.sleep(for: .milliseconds(50))
        #expect(transport.sent.count == 1, "a disabled endpoint gets nothing")
        await service.stop()
        // A restart keeps it disabled; enabling it sends the held event with the same id.
        service = try await self.service(endpoint)
        #expect(await service.dispatcher.stats().first?.disabled == true)
        // Held, not lost (attempts are counted from the start, so it shows as pending again).
        #expect(await service.dispatcher.stats().first?.pending == 1)
        transport.answer { _ in SeamHTTPResponse(status: 204) }
        try await service.dispatcher.enable(endpointID: endpoint.id)
        try await eventually("delivered after enabling") { await service.dispatcher.stats().first?.delivered == 1 }
        #expect(Set(transport.sent.map(\.id)).count == 1)
        #expect(store.value(StoreKeys.notificationEndpoint(endpoint.id)) == nil)
        await service.stop()
    }

    @Test func aDeliveryIsGivenUpAfterTheRetryPeriod() async throws {
        transport.answer { _ in SeamHTTPResponse(status: 500) }
        let service = try await service(try endpoint(retryHours: 24))
        defer { Task { await service.stop() } }
        try await commit(record("r1", [.set, .set]), to: service)
        try await eventually("the first attempt recorded") { await service.dispatcher.stats().first?.retrying == 1 }
        let key = ReservationKey(source: "native", reservationID: "r1")
        var hours = 0
        while await service.dispatcher.stats().first?.expired == 0, hours < 30 {
            // Every backoff is at most an hour: each hour brings one more attempt (recorded before the clock
            // moves again), until the day is over.
            clock.advance(by: 3_600)
            hours += 1
            try await eventually("an attempt in hour \(hours)") {
                let delivery = await service.dispatcher.notifications(for: key).first?.deliveries.values.first
                return delivery?.state == .expired || delivery?.attempts == hours + 1
            }
        }
        #expect(await service.dispatcher.stats().first?.expired == 1)
        #expect(hours == 24, "given up once 24 hours had passed, not before")
        #expect(transport.sent.count == 25, "one attempt at the start and one each hour")
    }

    @Test func anUndeliveredEventIsSentAfterARestartWithTheSameID() async throws {
        transport.answer { _ in SeamHTTPResponse(status: 503) }
        let endpoint = try endpoint()
        var service = try await service(endpoint)
        try await commit(record("r1", [.set, .set]), to: service)
        try await eventually("the first attempt") { transport.sent.count == 1 }
        await service.stop()
        transport.answer { _ in SeamHTTPResponse(status: 200) }
        service = try await self.service(endpoint)
        try await eventually("delivered after the restart") { await service.dispatcher.stats().first?.delivered == 1 }
        #expect(Set(transport.sent.map(\.id)).count == 1)
        // The record read at start is the one compared with: committing it again makes no second event.
        try await commit(record("r1", [.set, .set]), to: service)
        try await Task.sleep(for: .milliseconds(20))
        #expect(transport.sent.count == 2)
        await service.stop()
    }
}
