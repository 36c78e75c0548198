import Configuration
import Foundation
import Gateway
import Logging
import Observability
import Testing
import WebhookAuth

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The admin API's answers as openapi/latchkey.yaml describes them, and the journal metrics fed by the store.
@Suite(.serialized) struct AdminAPITests {
    static let token = "admin-test-token"

    struct Answer {
        var status: Int
        var response: HTTPURLResponse
        var json: [String: Any]
    }

    static func start() async throws -> (LatchkeyGateway, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lk-admin-\(UUID().uuidString)")
            .path
        var configuration = SandboxConfiguration.make(dataDirectory: directory)
        configuration.server.port = 0
        let gateway = try await LatchkeyGateway(
            configuration: configuration, environment: ["LATCHKEY_ADMIN_TOKEN": token],
            logger: Logger(label: "admin-test"))
        return (gateway, directory)
    }

    static func call(
        _ gateway: LatchkeyGateway, _ method: String, _ path: String, token: String? = token, body: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(gateway.port)\(path)")!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return Answer(status: http.statusCode, response: http, json: json)
    }

    static func book(_ gateway: LatchkeyGateway, _ id: String) async throws -> Answer {
        let body = """
            {"event":"booking.created","booking":{"id":"\(id)","listing_id":"\(SandboxConfiguration.sampleListing)","status":"confirmed",\
            "check_in":"2030-07-14T15:00:00","check_out":"2030-07-19T11:00:00","guest":{"name":"Ada Lovelace"},"updated_at":"2030-01-01T10:00:00Z"}}
            """
        var headers = ["Content-Type": "application/json"]
        for header in try StandardWebhooks.headers(
            id: "msg_\(id)", timestamp: Int(Date().timeIntervalSince1970), body: Array(body.utf8),
            secrets: [Secret(SandboxConfiguration.nativeSecret)])
        {
            headers[header.name] = header.value
        }
        return try await call(gateway, "POST", "/webhooks/native", token: nil, body: body, headers: headers)
    }

    @Test func reservationView_HasRFC3339Dates_AndThePINOnlyWhenAsked() async throws {
        let (gateway, directory) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let accepted = try await Self.book(gateway, "adm1")
        #expect(accepted.status == 202)
        #expect(accepted.json["reservation_ids"] as? [String] == ["adm1"])
        await gateway.waitUntilIdle()

        let plain = try await Self.call(gateway, "GET", "/v1/reservations/native/adm1")
        #expect(plain.status == 200)
        #expect(plain.json["pin"] == nil)
        #expect(plain.json["phase"] as? String == "converged")
        let locks = try #require(plain.json["locks"] as? [[String: Any]])
        #expect(locks.count == 2)
        #expect(locks.first?["starts_at"] as? String == "2030-07-14T12:30:00Z")
        let withPIN = try await Self.call(gateway, "GET", "/v1/reservations/native/adm1?include_pin=true")
        #expect((withPIN.json["pin"] as? String)?.allSatisfy(\.isNumber) == true)
        let bad = try await Self.call(gateway, "GET", "/v1/reservations/native/adm1?include_pin=yes")
        #expect(bad.status == 400)
        await gateway.stop()
    }

    @Test func lists_HonourLimitAndTotal_AndRetryTellsUnknownFromQueued() async throws {
        let (gateway, directory) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try await Self.call(gateway, "GET", "/v1/outbox?limit=5")
        #expect(outbox.status == 200)
        #expect(outbox.json["total"] as? Int == 0)
        #expect(outbox.response.value(forHTTPHeaderField: "Cache-Control") == "no-store")
        let letters = try await Self.call(gateway, "GET", "/v1/dead-letters")
        #expect(letters.json["dead_letters"] as? [Any] != nil)
        for limit in ["0", "1001", "x"] {
            let refused = try await Self.call(gateway, "GET", "/v1/outbox?limit=\(limit)")
            #expect(refused.status == 400, "limit=\(limit)")
            #expect((refused.json["error"] as? [String: Any])?["type"] as? String == "bad_request")
        }
        let unknown = try await Self.call(gateway, "POST", "/v1/outbox/dl_nope/retry")
        #expect(unknown.status == 404)
        #expect((unknown.json["error"] as? [String: Any])?["type"] as? String == "unknown_intent")
        let wrong = try await Self.call(gateway, "GET", "/v1/outbox", token: "wrong")
        #expect(wrong.status == 401)
        #expect(wrong.response.value(forHTTPHeaderField: "WWW-Authenticate") == #"Bearer realm="latchkey""#)
        await gateway.stop()
    }

    @Test func everyJournalSync_IsObservedInTheFsyncAndGroupCommitHistograms() async throws {
        let (gateway, directory) = try await Self.start()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = gateway.metrics.journalFsyncDuration.snapshot().count
        #expect(try await Self.book(gateway, "m1").status == 202)
        #expect(try await Self.book(gateway, "m2").status == 202)
        await gateway.waitUntilIdle()
        let fsyncs = gateway.metrics.journalFsyncDuration.snapshot()
        let batches = gateway.metrics.groupCommitBatchSize.snapshot()
        #expect(fsyncs.count >= before + 2)
        #expect(batches.count == fsyncs.count)
        #expect(batches.sum >= Double(batches.count))
        await gateway.stop()
    }
}
