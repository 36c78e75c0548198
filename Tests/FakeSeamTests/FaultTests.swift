import FakeSeam
import Foundation
import HTTPServer
import Testing

@Suite("Fault injection and Seam's per-device rate limits")
struct FaultTests {
    private func faulted(_ configure: (inout FaultConfiguration) -> Void) -> Harness {
        var faults = FaultConfiguration()
        configure(&faults)
        return Harness(configuration: .testing(faults: faults))
    }

    @Test func serverErrorFaultAnswers5xxAndChangesNothing() async {
        let fake = faulted {
            $0.serverErrorRate = 1
            $0.serverErrorStatus = 503
        }
        let reply = await fake.post("/access_codes/create_multiple", ["device_ids": [.string(Locks.frontDoor)]])
        #expect(reply.status == 503)
        #expect(reply.errorType == "service_unavailable")
        #expect(fake.service.accessCodes.isEmpty)
    }

    @Test func rateLimitFaultAnswers429WithRetryAfter() async {
        let fake = faulted {
            $0.rateLimitRate = 1
            $0.retryAfterSeconds = 7
        }
        let reply = await fake.post("/access_codes/create", ["device_id": .string(Locks.frontDoor)])
        #expect(reply.status == 429)
        #expect(reply.headers["Retry-After"] == "7")
        #expect(reply.errorType == "rate_limit_exceeded")
        #expect(fake.service.accessCodes.isEmpty)
    }

    @Test func timeoutFaultNeverAnswersAndChangesNothing() async {
        let fake = faulted { $0.timeoutRate = 1 }
        let reply = await fake.send(
            "PUT", "/access_codes/create_multiple", body: ["device_ids": [.string(Locks.frontDoor)]],
            waitMilliseconds: 300)
        #expect(reply == nil)
        #expect(fake.service.accessCodes.isEmpty)
    }

    @Test func delayedTimeoutFaultAnswersLateAfterMakingTheChange() async throws {
        let fake = faulted {
            $0.timeoutRate = 1
            $0.timeoutMode = .delay
            $0.timeoutDelayMilliseconds = 400
        }
        let started = ContinuousClock.now
        let reply = try #require(
            await fake.send("POST", "/access_codes/create_multiple", body: ["device_ids": [.string(Locks.frontDoor)]]))
        #expect(ContinuousClock.now - started >= .milliseconds(400))
        #expect(reply.status == 200)
        #expect(fake.service.accessCodes.count == 1)
    }

    @Test func crashAfterCommitMakesTheChangeButNeverAnswers() async {
        let fake = faulted { $0.crashAfterCommitRate = 1 }
        let reply = await fake.send(
            "PUT", "/access_codes/create_multiple",
            body: ["device_ids": [.string(Locks.frontDoor), .string(Locks.backDoor)]], waitMilliseconds: 300)
        #expect(reply == nil)
        #expect(fake.service.accessCodes.count == 2)
    }

    @Test func latencyDelaysEveryAnswer() async throws {
        let fake = faulted { $0.latencyMilliseconds = 250 }
        let started = ContinuousClock.now
        let reply = try #require(await fake.send("GET", "/devices/list"))
        #expect(reply.status == 200)
        #expect(ContinuousClock.now - started >= .milliseconds(250))
    }

    @Test func scriptedFaultsHitTheNextMatchingCallsInOrderThenStop() async {
        let fake = faulted {
            $0.scripted = [
                .init(kind: .serverError, route: "/access_codes/create_multiple", status: 500),
                .init(kind: .rateLimit, route: "/access_codes/create_multiple"),
            ]
        }
        let devices = await fake.send("GET", "/devices/list")
        #expect(devices?.status == 200)
        let first = await fake.post("/access_codes/create_multiple", ["device_ids": [.string(Locks.frontDoor)]])
        #expect(first.status == 500)
        #expect(first.errorType == "internal_server_error")
        let second = await fake.post("/access_codes/create_multiple", ["device_ids": [.string(Locks.frontDoor)]])
        #expect(second.status == 429)
        let third = await fake.post("/access_codes/create_multiple", ["device_ids": [.string(Locks.frontDoor)]])
        #expect(third.status == 200)
    }

    @Test func fractionalFaultsRepeatExactlyForTheSameSeedAndOnlyOnListedRoutes() async {
        func run() async -> [Int] {
            let fake = faulted {
                $0.seed = 42
                $0.serverErrorRate = 0.5
                $0.routes = ["/devices/list"]
                $0.enforceDeviceRateLimits = false
            }
            var statuses: [Int] = []
            for _ in 0..<20 { statuses.append(await fake.send("GET", "/devices/list")?.status ?? 0) }
            let other = await fake.send("GET", "/devices/get?device_id=\(Locks.frontDoor)")
            #expect(other?.status == 200)
            return statuses
        }
        let first = await run()
        let second = await run()
        #expect(first == second)
        #expect(first.contains(503) && first.contains(200))
    }

    @Test func faultsCanBeReplacedAtRunTimeThroughTheControlRoute() async throws {
        let fake = Harness()
        let set = try #require(
            await fake.send(
                "POST", "/_fake/faults", body: ["server_error_rate": 1, "server_error_status": 502], key: nil))
        #expect(set.status == 200)
        #expect(await fake.send("GET", "/devices/list")?.status == 502)
        #expect(await fake.send("GET", "/_fake/state", key: nil)?.status == 200)
        let bad = try #require(await fake.send("POST", "/_fake/faults", body: ["timeout_rate": 2], key: nil))
        #expect(bad.status == 400)
        _ = await fake.send("POST", "/_fake/faults", body: [:], key: nil)
        #expect(await fake.send("GET", "/devices/list")?.status == 200)
    }

    @Test func eleventhCreateOnOneDeviceInAMinuteIs429UntilTheWindowPasses() async {
        let fake = Harness()
        for _ in 0..<10 {
            #expect(await fake.post("/access_codes/create", ["device_id": .string(Locks.frontDoor)]).status == 200)
        }
        fake.service.advanceClock(by: 30)
        let limited = await fake.post(
            "/access_codes/create_multiple", ["device_ids": [.string(Locks.backDoor), .string(Locks.frontDoor)]])
        #expect(limited.status == 429)
        #expect(limited.headers["Retry-After"] == "30")
        #expect(fake.service.accessCodes.count == 10)
        #expect(await fake.post("/access_codes/create", ["device_id": .string(Locks.backDoor)]).status == 200)
        fake.service.advanceClock(by: 30)
        #expect(await fake.post("/access_codes/create", ["device_id": .string(Locks.frontDoor)]).status == 200)
    }

    @Test func deletesAllowTwentyPerDevicePerMinute() async throws {
        let fake = faulted { $0.enforceDeviceRateLimits = false }
        var ids: [String] = []
        for _ in 0..<21 { ids += await fake.createMultiple([Locks.frontDoor]).compactMap { $0.s("access_code_id") } }
        try fake.service.setFaults(FaultConfiguration())
        for id in ids.prefix(20) {
            #expect(await fake.post("/access_codes/delete", ["access_code_id": .string(id)]).status == 200)
        }
        #expect(await fake.post("/access_codes/delete", ["access_code_id": .string(ids[20])]).status == 429)
    }

    @Test func callsAreCountedPerRouteAndDevice() async {
        let fake = Harness()
        _ = await fake.createMultiple([Locks.frontDoor, Locks.backDoor])
        _ = await fake.createMultiple([Locks.frontDoor])
        _ = await fake.send("GET", "/access_codes/list?device_id=\(Locks.frontDoor)")
        #expect(fake.service.callCount(route: "/access_codes/create_multiple", deviceID: Locks.frontDoor) == 2)
        #expect(fake.service.callCount(route: "/access_codes/create_multiple", deviceID: Locks.backDoor) == 1)
        #expect(fake.service.callCount(route: "/access_codes/list") == 1)
        let minute = Int(fake.service.now.timeIntervalSince1970 / 60)
        #expect(fake.service.callCounts.allSatisfy { $0.key.minute == minute })
    }

    @Test func sameSeedGivesTheSameIdsAndPINs() async {
        func codes() async -> [String] {
            let fake = Harness()
            return await fake.createMultiple([Locks.frontDoor, Locks.backDoor]).compactMap {
                "\($0.s("access_code_id") ?? "") \($0.s("code") ?? "")"
            }
        }
        let first = await codes()
        #expect(first.count == 2)
        #expect(await codes() == first)
        var other = FaultConfiguration()
        other.seed = 99
        let different = await Harness(configuration: .testing(faults: other)).createMultiple([Locks.frontDoor]).first?
            .s("access_code_id")
        #expect(different != nil && !first.contains { $0.hasPrefix(different ?? "") })
    }
}
