import FakeSeam
import Foundation
import HTTPServer
import LatchkeyTestSupport
import Synchronization
import Testing
import WebhookAuth

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP exchange over a real socket.
private func call(
    _ fake: FakeSeamServer, _ method: String, _ target: String, body: JSONValue? = nil, timeout: TimeInterval = 5
) async throws -> (status: Int, headers: [String: String], json: JSONValue) {
    var request = URLRequest(url: URL(string: fake.url.absoluteString + target)!)
    request.httpMethod = method
    request.timeoutInterval = timeout
    request.setValue("Bearer seam_test_key", forHTTPHeaderField: "Authorization")
    if let body {
        request.httpBody = Data(body.encoded)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    let headers = http.allHeaderFields.reduce(into: [String: String]()) {
        $0[String(describing: $1.key).lowercased()] = String(describing: $1.value)
    }
    return (http.statusCode, headers, (try? JSONValue.parse([UInt8](data))) ?? .null)
}

@Suite("Over sockets: the fake on Latchkey's HTTP listener", .serialized)
struct SocketTests {
    @Test func linkedGroupRoundTripWithTheVerbsTheSDKsUse() async throws {
        let fake = try FakeSeamServer(port: 0, configuration: .testing(), logger: quietLogger)
        fake.start()
        defer { fake.stop() }
        let created = try await call(
            fake, "PUT", "/access_codes/create_multiple",
            body: [
                "device_ids": [.string(Locks.frontDoor), .string(Locks.backDoor)], "preferred_code_length": 5,
            ])
        #expect(created.status == 200)
        #expect(created.headers["seam-request-id"] != nil)
        let codes = try #require(created.json["access_codes"]?.arrayValue)
        let ids = codes.compactMap { $0.s("access_code_id") }
        let key = try #require(codes.first?.s("common_code_key"))
        let listed = try await call(
            fake, "GET", "/access_codes/list?access_code_ids=\(ids[0])&access_code_ids=\(ids[1])&_strict=true")
        #expect(listed.json["access_codes"]?.arrayValue?.count == 2)
        let now = fake.service.now
        let moved = try await call(
            fake, "PATCH", "/access_codes/update_multiple",
            body: [
                "common_code_key": .string(key), "starts_at": .string(SeamTime.format(now.addingTimeInterval(60))),
                "ends_at": .string(SeamTime.format(now.addingTimeInterval(3600))),
            ])
        #expect(moved.json == ["ok": true])
        let deleted = try await call(fake, "DELETE", "/access_codes/delete?access_code_id=\(ids[0])")
        #expect(deleted.json["action_attempt"]?.s("action_type") == "DELETE_ACCESS_CODE")
        fake.service.advanceClock(by: 10)
        let gone = try await call(fake, "GET", "/access_codes/get?access_code_id=\(ids[0])")
        #expect(gone.status == 404)
    }

    /// Starts a fake whose next create_multiple meets `kind`, sends one that the client gives up on after
    /// 3 s, and returns how many codes the front door then has. (With 0.5 s, a CI run under full load once saw the
    /// client give up before it had even sent the request, so the fake never saw it.)
    private func codesAfterUnansweredCreate(_ kind: FaultConfiguration.Kind) async throws -> Int {
        var faults = FaultConfiguration()
        faults.scripted = [.init(kind: kind, route: "/access_codes/create_multiple")]
        let fake = try FakeSeamServer(port: 0, configuration: .testing(faults: faults), logger: quietLogger)
        fake.start()
        defer { fake.stop() }
        await #expect(throws: (any Error).self) {
            _ = try await call(
                fake, "PUT", "/access_codes/create_multiple", body: ["device_ids": [.string(Locks.frontDoor)]],
                timeout: 3)
        }
        // The client may give up before the fake has even read the request on a busy machine: wait until the
        // fake has seen the call, then look.
        let deadline = ContinuousClock.now + .seconds(10)
        while fake.service.callCount(route: "/access_codes/create_multiple") == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(fake.service.callCount(route: "/access_codes/create_multiple") == 1)
        let listed = try await call(fake, "GET", "/access_codes/list?device_id=\(Locks.frontDoor)")
        #expect(listed.status == 200)
        return listed.json["access_codes"]?.arrayValue?.count ?? -1
    }

    @Test func injectedTimeoutLeavesTheClientWaitingAndChangesNothing() async throws {
        #expect(try await codesAfterUnansweredCreate(.timeout) == 0)
    }

    @Test func injectedCrashAfterCommitLeavesTheClientWaitingButKeepsTheChange() async throws {
        #expect(try await codesAfterUnansweredCreate(.crashAfterCommit) == 1)
    }

    @Test func webhooksArriveSignedSoWebhookAuthVerifiesThem() async throws {
        let received = Mutex<[(headers: HTTPHeaders, body: [UInt8])]>([])
        var router = Router()
        router.add("POST", "/seam") { request in
            received.withLock { $0.append((request.headers, request.body)) }
            return HTTPResponse(status: 204)
        }
        try await withLoopbackServer(handler: router) { receiver in
            let secret = try StandardWebhooks.generateSecret()
            let target = WebhookTarget(
                url: URL(string: "http://127.0.0.1:\(receiver.port)/seam")!, secret: secret.revealedString,
                retryDelays: [0.05])
            let fake = try FakeSeamServer(port: 0, configuration: .testing(webhook: target), logger: quietLogger)
            fake.start()
            defer { fake.stop() }
            _ = try await call(
                fake, "PUT", "/access_codes/create_multiple", body: ["device_ids": [.string(Locks.garage)]])
            fake.service.advanceClock(by: 5)
            for _ in 0..<300 where received.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(10)) }
            let deliveries = received.withLock { $0 }
            try #require(deliveries.count == 2)
            let verifier = try WebhookVerifier(scheme: .standardWebhooks(), secrets: [secret])
            for delivery in deliveries {
                _ = try verifier.verify(header: { delivery.headers[$0] }, body: delivery.body)
            }
            let types = deliveries.compactMap { (try? JSONValue.parse($0.body))?.s("event_type") }
            #expect(types == ["access_code.created", "access_code.set_on_device"])
            let wrong = try WebhookVerifier(
                scheme: .standardWebhooks(), secrets: [try StandardWebhooks.generateSecret()])
            #expect(throws: AuthFailure.self) {
                _ = try wrong.verify(header: { deliveries[0].headers[$0] }, body: deliveries[0].body)
            }
        }
    }

    @Test func concurrentClientsEachGetTheirOwnCodes() async throws {
        var faults = FaultConfiguration()
        faults.enforceDeviceRateLimits = false
        let fake = try FakeSeamServer(port: 0, configuration: .testing(faults: faults), logger: quietLogger)
        fake.start()
        defer { fake.stop() }
        let ids = try await withThrowingTaskGroup(of: [String].self) { group in
            for i in 0..<60 {
                group.addTask {
                    let device = [Locks.frontDoor, Locks.backDoor, Locks.garage][i % 3]
                    let reply = try await call(
                        fake, "PUT", "/access_codes/create_multiple", body: ["device_ids": [.string(device)]])
                    return reply.json["access_codes"]?.arrayValue?.compactMap { $0.s("access_code_id") } ?? []
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(ids.count == 60)
        #expect(Set(ids).count == 60)
        #expect(fake.service.accessCodes.count == 60)
        #expect(fake.service.callCount(route: "/access_codes/create_multiple") == 60)
    }
}
