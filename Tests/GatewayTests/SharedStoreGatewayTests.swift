import Configuration
import FakeSeam
import Foundation
import Gateway
import LatchkeyTestSupport
import Logging
import PostgresStore
import Reconciler
import Testing
import WebhookAuth

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Two gateways on one PostgreSQL database, both serving: one holds the work lease and runs the reconciler; a
/// booking or a Seam event received by the other reaches it through the database; when the holder stops, the other
/// takes the lease and the work. Against a real server (``PostgresCluster``) and one fake Seam both call.
@Suite(
    "Two instances on one PostgreSQL database", .serialized,
    .enabled(if: PostgresCluster.isAvailable, Comment(rawValue: PostgresCluster.unavailableReason ?? "")))
struct SharedStoreGatewayTests {
    static let adminToken = "admin-token-for-tests"
    static let seamWebhookSecret = "whsec_" + Data(repeating: 7, count: 24).base64EncodedString()

    /// A sandbox configuration on `url`, calling `fake` with its test key.
    static func configuration(url: String, fake: FakeSeamServer, directory: String) -> LatchkeyConfiguration {
        var configuration = SandboxConfiguration.make(dataDirectory: directory)
        configuration.server.port = 0
        configuration.seam.apiKey = .inline("seam_test_key")
        configuration.seam.endpoint = fake.url.absoluteString
        configuration.seam.webhookSecret = .inline(seamWebhookSecret)
        configuration.store.backend = .postgresql
        configuration.store.postgresql = PostgreSQLSettings(url: .inline(url))
        configuration.adminToken = .inline(adminToken)
        return configuration
    }

    static func request(
        _ method: String, _ port: Int, _ path: String, body: String? = nil, secret: String? = nil, id: String = ""
    ) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(adminToken)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let body, let secret {
            for header in try StandardWebhooks.headers(
                id: id, timestamp: Int(Date().timeIntervalSince1970), body: Array(body.utf8), secrets: [Secret(secret)])
            {
                request.setValue(header.value, forHTTPHeaderField: header.name)
            }
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func bothServe_TheHolderDoesTheWork_AndTheOtherTakesItOverWhenTheHolderStops() async throws {
        let url = try PostgresCluster.shared().makeDatabase()
        _ = try PostgresStore.migrate(configuration: PostgresStoreConfiguration(url: url))
        let fake = try FakeSeamServer(port: 0, configuration: FakeSeamConfiguration(), logger: quietLogger)
        fake.start()
        defer { fake.stop() }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let first = try await LatchkeyGateway(
            configuration: Self.configuration(url: url, fake: fake, directory: directory.appending("a")),
            environment: [:], logger: quietLogger)
        await first.waitUntilWorking()
        let second = try await LatchkeyGateway(
            configuration: Self.configuration(url: url, fake: fake, directory: directory.appending("b")),
            environment: [:], logger: quietLogger)
        try await Task.sleep(for: .milliseconds(600))
        #expect(!second.isWorking, "two instances hold the work lease")
        #expect(try await Self.request("GET", second.port, "/readyz").1.contains(#""work_lease":"waiting""#))
        #expect(try await Self.request("GET", first.port, "/readyz").1.contains(#""work_lease":"held""#))
        let (admin, adminBody) = try await Self.request("GET", second.port, "/v1/dead-letters")
        #expect(admin == 503 && adminBody.contains("not_the_working_instance"))

        // A booking taken by the instance without the lease: the holder makes its group.
        let booking = GatewayEndToEndTests.booking("shared-1")
        let secret = SandboxConfiguration.nativeSecret
        #expect(
            try await Self.request("POST", second.port, "/webhooks/native", body: booking, secret: secret, id: "m1").0
                == 202)
        #expect(
            try await Self.request("POST", first.port, "/webhooks/native", body: booking, secret: secret, id: "m1").0
                == 200)
        func codes(_ reservation: String) -> [AccessCodeRecord] {
            fake.service.accessCodes.filter { ($0.name ?? "").contains("[lk:native:\(reservation)]") }
        }
        try await eventually("the holder to make the group", attempts: 300, interval: .milliseconds(50)) {
            codes("shared-1").count == 2
        }

        // A Seam event received by the instance without the lease reaches the holder's record.
        let code = try #require(codes("shared-1").first)
        let event =
            #"{"event_type":"access_code.set_on_device","access_code_id":"\#(code.id)","device_id":"\#(code.deviceID)"}"#
        #expect(
            try await Self.request(
                "POST", second.port, "/seam/webhooks", body: event, secret: Self.seamWebhookSecret, id: "msg_seam_1"
            ).0 == 200)
        try await eventually("the holder to record the lock's event", attempts: 300, interval: .milliseconds(50)) {
            await first.reconciler.reservation(ReservationKey(source: "native", reservationID: "shared-1"))?
                .applied?.codes.first { $0.accessCodeID == code.id }?.status == .set
        }

        // The holder stops: the other takes the lease and the work, and acts on a cancellation it receives.
        await first.stop()
        try await eventually("the other instance to take the work", attempts: 300, interval: .milliseconds(50)) {
            second.isWorking
        }
        let cancellation = GatewayEndToEndTests.booking(
            "shared-1", event: "booking.cancelled", status: "cancelled", updatedAt: "2030-01-02T10:00:00Z")
        #expect(
            try await Self.request(
                "POST", second.port, "/webhooks/native", body: cancellation, secret: secret, id: "m2"
            )
            .0 == 202)
        try await eventually("the group to be removed", attempts: 300, interval: .milliseconds(50)) {
            codes("shared-1").isEmpty
        }
        // Now the admin API is this instance's.
        let late = try await Self.request("GET", second.port, "/v1/dead-letters")
        #expect(late.0 == 200, "\(late)")
        await second.stop()
    }
}
