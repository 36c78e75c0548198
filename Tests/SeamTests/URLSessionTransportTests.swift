import Foundation
import LatchkeyTestSupport
import Logging
import Seam
import Testing

/// The product transport (FoundationNetworking URLSession) against real sockets on loopback.
@Suite("URLSession transport on loopback")
struct URLSessionTransportTests {
    private func client(_ endpoint: URL, requestTimeout: Duration = .seconds(5)) throws -> SeamClient {
        let configuration = SeamConfiguration(
            endpoint: endpoint, requestTimeout: requestTimeout, resourceTimeout: .seconds(10))
        return SeamClient(
            configuration: configuration, credentials: try SeamCredentials(apiKey: TestKeys.apiKey),
            logger: quietLogger)
    }

    @Test func aCallTravelsAsPOSTWithJSONAndTheKey_AndTheAnswerDecodes() async throws {
        let server = try LoopbackServer { _ in
            LoopbackServer.response(
                status: 200, headers: ["seam-request-id": "request1"], body: SeamFixtures.createMultiple)
        }
        defer { server.stop() }
        let codes = try await client(server.endpoint).createMultiple(
            deviceIDs: ["d1", "d2"], name: "latchkey:test", startsAt: instant("2026-12-01T15:00:00Z"),
            endsAt: instant("2026-12-05T11:00:00Z"))
        #expect(codes.count == 2)

        let request = try #require(server.requests.first)
        #expect(request.requestLine == "POST /access_codes/create_multiple HTTP/1.1")
        #expect(request.header("authorization") == "Bearer \(TestKeys.apiKey)")
        #expect(request.header("content-type") == "application/json")
        let body = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect(body["device_ids"] as? [String] == ["d1", "d2"])
        #expect(body["ends_at"] as? String == "2026-12-05T11:00:00Z")
    }

    @Test func anErrorAnswer_KeepsItsStatusEnvelopeRequestIDAndRetryAfter() async throws {
        let server = try LoopbackServer { _ in
            LoopbackServer.response(
                status: 429, reason: "Too Many Requests",
                headers: ["Seam-Request-Id": "request7", "Retry-After": "12"],
                body: #"{"error":{"type":"rate_limited","message":"slow down"},"ok":false}"#)
        }
        defer { server.stop() }
        let client = try client(server.endpoint)
        do {
            try await client.updateMultiple(
                commonCodeKey: "k", startsAt: instant("2026-12-01T15:00:00Z"), endsAt: instant("2026-12-05T11:00:00Z"))
            Issue.record("expected a failure")
        } catch {
            #expect(error.httpStatus == 429)
            #expect(error.seamType == "rate_limited")
            #expect(error.requestID == "request7")
            #expect(error.retryAfter == .seconds(12))
            #expect(error.failureClass == .retryable)
        }
    }

    @Test func aServerThatNeverAnswers_TimesOut() async throws {
        let server = try LoopbackServer { _ in nil }
        defer { server.stop() }
        let client = try client(server.endpoint, requestTimeout: .seconds(1))
        let started = ContinuousClock.now
        do {
            _ = try await client.get(accessCodeID: "a")
            Issue.record("expected a timeout")
        } catch {
            #expect(error.kind == .transport(.timedOut))
            #expect(error.failureClass == .retryable)
        }
        let elapsed = ContinuousClock.now - started
        // Not before the timeout; the upper bound only catches a request that hangs. It is wide because on two
        // loaded cores (the whole suite in parallel, CI) URLSession's own timer has been seen to fire 10-15 s late.
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(60))
    }

    @Test func aSubSecondTimeout_IsRoundedUpInsteadOfFiringAtOnce() async throws {
        let server = try LoopbackServer { _ in nil }
        defer { server.stop() }
        let client = try client(server.endpoint, requestTimeout: .milliseconds(300))
        let started = ContinuousClock.now
        await #expect(throws: SeamError.self) { _ = try await client.get(accessCodeID: "a") }
        #expect(ContinuousClock.now - started >= .milliseconds(900))
    }

    @Test func aClosedPort_IsAConnectionFailure() async throws {
        let server = try LoopbackServer { _ in nil }
        let endpoint = server.endpoint
        server.stop()
        let client = try client(endpoint)
        do {
            _ = try await client.get(accessCodeID: "a")
            Issue.record("expected a connection failure")
        } catch {
            guard case .transport(.connectionFailed) = error.kind else {
                Issue.record("expected .connectionFailed, got \(error)")
                return
            }
            #expect(error.failureClass == .retryable)
        }
    }
}
