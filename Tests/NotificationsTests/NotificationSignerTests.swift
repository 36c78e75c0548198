import Foundation
import LatchkeyTestSupport
import Reconciler
import Testing
import WebhookAuth

@testable import Notifications

@Suite struct NotificationSignerTests {
    /// The first vector of Tests/WebhookAuthTests/Fixtures/library-vectors.json, signed by the `standardwebhooks`
    /// Python library (scripts/gen-signature-vectors.py).
    @Test func signsLikeTheStandardWebhooksLibrary() throws {
        let data = try Data(contentsOf: RepositoryFiles.url("Tests/WebhookAuthTests/Fixtures/library-vectors.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let vectors = try #require(root["vectors"] as? [[String: Any]])
        let vector = try #require(vectors.first { $0["library"] as? String == "standardwebhooks" })
        let secret = try #require((vector["secrets"] as? [String])?.first)
        let headers = try NotificationSigner.headers(
            id: try #require(vector["id"] as? String), timestamp: try #require(vector["timestamp"] as? Int),
            body: Array(try #require(vector["body"] as? String).utf8), secret: Secret(secret))
        let byName = Dictionary(uniqueKeysWithValues: headers.map { ($0.name, $0.value) })
        #expect(byName["webhook-signature"] == vector["signature"] as? String)
        #expect(byName["webhook-id"] == vector["id"] as? String)
        #expect(byName["webhook-timestamp"] == String(try #require(vector["timestamp"] as? Int)))
        #expect(byName["Content-Type"] == "application/json")
    }

    @Test func theBodyCarriesThePINOnlyWhenAsked() throws {
        let row = StoredNotification(
            sequence: 1, id: "msg_1", type: .ready, reservation: Records.key,
            occurredAt: Date(timeIntervalSince1970: 1_900_000_000), propertyID: "loft", propertyName: "Loft",
            timeZone: "Europe/Berlin", locks: [.init(deviceID: "dev_1", status: "set")], window: Records.window,
            previousWindow: nil, pin: AccessPIN("4821"), backupCode: nil, reason: nil, failedDeviceIDs: [],
            deliveries: [:])
        let without = String(decoding: NotificationBody(row, includePIN: false).encoded(), as: UTF8.self)
        let with = String(decoding: NotificationBody(row, includePIN: true).encoded(), as: UTF8.self)
        #expect(!without.contains("4821"))
        #expect(!without.contains("\"pin\""))
        #expect(with.contains("\"pin\":\"4821\""))
        #expect(with.contains("\"type\":\"access.ready\""))
        #expect(with.contains("\"timestamp\":\"2030-03-17T17:46:40Z\""))
        // The window in UTC and in the property's zone (Berlin is UTC+1 until the end of March).
        #expect(with.contains("\"starts_at\":\"2030-03-18T21:33:20Z\""))
        #expect(with.contains("\"starts_at_local\":\"2030-03-18T22:33:20+01:00\""))
        #expect(with.contains("\"reservation_id\":\"res_1\""))
        #expect(with.contains("\"source\":\"native\""))
    }

    @Test func backoffIsFullJitterDoublingToItsCapWithRetryAfterAsAFloor() {
        let policy = DeliveryPolicy(initialBackoffSeconds: 5, maxBackoffSeconds: 3_600, retryHours: 24)
        #expect(policy.backoff(afterFailures: 1, retryAfter: nil) { $0 } == 5)
        #expect(policy.backoff(afterFailures: 3, retryAfter: nil) { $0 } == 20)
        #expect(policy.backoff(afterFailures: 30, retryAfter: nil) { $0 } == 3_600)
        #expect(policy.backoff(afterFailures: 3, retryAfter: nil) { _ in 0 } == 0)
        #expect(policy.backoff(afterFailures: 1, retryAfter: 7_200) { $0 } == 7_200)
    }
}
