import FakeSeam
import Foundation
import LatchkeyTestSupport
import Logging
import Seam
import Testing

/// The product client (URLSession) against Latchkey's fake Seam over loopback, port 0.
@Suite("End to end against the fake Seam")
struct FakeSeamEndToEndTests {
    private let front = FakeSeamSeed.DefaultDevice.frontDoor
    private let back = FakeSeamSeed.DefaultDevice.backDoor

    /// Runs `body` with a started fake (manual clock) and a client pointed at it.
    private func withFake(
        faults: FaultConfiguration = FaultConfiguration(),
        pageLimit: Int? = nil,
        apiKey: String = "seam_test_key",
        requestTimeout: Duration = .seconds(10),
        _ body: (FakeSeamServer, SeamClient) async throws -> Void
    ) async throws {
        let fake = try FakeSeamServer(port: 0, configuration: .testing(faults: faults), logger: quietLogger)
        fake.start()
        defer { fake.stop() }
        let configuration = SeamConfiguration(
            endpoint: fake.url, requestTimeout: requestTimeout, resourceTimeout: .seconds(20), pageLimit: pageLimit)
        let client = SeamClient(
            configuration: configuration, credentials: try SeamCredentials(apiKey: apiKey), logger: quietLogger)
        try await body(fake, client)
    }

    private var window: (start: Date, end: Date) {
        let start = Date(timeIntervalSince1970: 1_800_000_000 + 86_400)
        return (start, start.addingTimeInterval(4 * 86_400))
    }

    @Test func aGroupIsCreatedMovedFoundAndDeleted() async throws {
        try await withFake { fake, client in
            let devices = try await client.listDevices()
            #expect(devices.map(\.deviceID).contains(front))
            #expect(try await client.getDevice(deviceID: front).deviceID == front)

            let codes = try await client.createMultiple(
                deviceIDs: [front, back], name: "latchkey:e2e:R1", startsAt: window.start, endsAt: window.end,
                preferredCodeLength: 6)
            #expect(codes.count == 2)
            #expect(Set(codes.map(\.deviceID)) == [front, back])
            let key = try #require(codes.first?.commonCodeKey)
            #expect(codes.allSatisfy { $0.commonCodeKey == key && $0.code == codes[0].code && $0.type == .timeBound })
            #expect(codes[0].code?.count == 6)

            let later = window.start.addingTimeInterval(3600)
            try await client.updateMultiple(
                commonCodeKey: key, startsAt: later, endsAt: window.end.addingTimeInterval(3600))
            fake.service.settle()
            let moved = try await client.get(accessCodeID: codes[0].accessCodeID)
            #expect(moved.startsAt == later)

            let found = try await client.findCodes(named: "latchkey:e2e:R1", onDevices: [front, back])
            #expect(Set(found.map(\.accessCodeID)) == Set(codes.map(\.accessCodeID)))
            #expect(try await client.list(accessCodeIDs: codes.map(\.accessCodeID)).count == 2)

            for code in codes {
                guard case .deleted = try await client.delete(accessCodeID: code.accessCodeID) else {
                    Issue.record("expected the first delete to be accepted")
                    continue
                }
            }
            fake.service.advanceClock(by: 60)
            for code in codes {
                #expect(try await client.delete(accessCodeID: code.accessCodeID) == .alreadyGone)
            }
            do {
                _ = try await client.get(accessCodeID: codes[0].accessCodeID)
                Issue.record("a removed code must be gone")
            } catch let error as SeamError {
                #expect(error.isNotFound)
                #expect(error.requestID != nil)
            }
        }
    }

    @Test func listingFollowsTheFakesPagination() async throws {
        try await withFake(pageLimit: 2) { fake, client in
            var made: Set<String> = []
            for index in 0..<5 {
                let start = window.start.addingTimeInterval(Double(index) * 86_400)
                let codes = try await client.createMultiple(
                    deviceIDs: [front], name: "latchkey:e2e:page\(index)", startsAt: start,
                    endsAt: start.addingTimeInterval(3600))
                made.formUnion(codes.map(\.accessCodeID))
            }
            let listed = try await client.list(deviceID: front)
            #expect(Set(listed.map(\.accessCodeID)) == made)
            #expect(fake.service.callCount(route: "/access_codes/list") == 3)
        }
    }

    @Test func aWrongKey_IsUnauthorized() async throws {
        try await withFake(apiKey: "seam_wrong_key") { _, client in
            do {
                _ = try await client.listDevices()
                Issue.record("expected 401")
            } catch let error as SeamError {
                #expect(error.httpStatus == 401)
                #expect(error.failureClass == .unauthorized)
            }
        }
    }

    @Test func anUnknownDevice_IsAPermanentNotFound() async throws {
        try await withFake { _, client in
            do {
                _ = try await client.getDevice(deviceID: "99999999-9999-4999-8999-999999999999")
                Issue.record("expected 404")
            } catch let error as SeamError {
                #expect(error.httpStatus == 404)
                #expect(error.isNotFound)
                #expect(error.failureClass == .permanent)
                #expect(error.seamType != nil)
            }
        }
    }

    @Test func injectedFaults_AreClassifiedForTheOutbox() async throws {
        var faults = FaultConfiguration()
        faults.scripted = [
            .init(kind: .rateLimit, route: "/access_codes/create_multiple"),
            .init(kind: .serverError, route: "/access_codes/create_multiple", status: 503),
            .init(kind: .timeout, route: "/access_codes/create_multiple"),
        ]
        faults.retryAfterSeconds = 7
        try await withFake(faults: faults, requestTimeout: .seconds(1)) { fake, client in
            var failures: [SeamError] = []
            for _ in 0..<3 {
                do {
                    _ = try await client.createMultiple(
                        deviceIDs: [front], name: "latchkey:e2e:faults", startsAt: window.start, endsAt: window.end)
                    Issue.record("expected an injected fault")
                } catch let error as SeamError {
                    failures.append(error)
                }
            }
            try #require(failures.count == 3)
            #expect(failures[0].httpStatus == 429)
            #expect(failures[0].retryAfter == .seconds(7))
            #expect(failures[1].httpStatus == 503)
            #expect(failures[2].kind == .transport(.timedOut))
            #expect(failures.allSatisfy { $0.failureClass == .retryable })
            // None of the faults changed anything; the fourth call goes through.
            #expect(try await client.findCodes(named: "latchkey:e2e:faults", onDevices: [front]).isEmpty)
            #expect(
                try await client.createMultiple(
                    deviceIDs: [front], name: "latchkey:e2e:faults", startsAt: window.start, endsAt: window.end
                ).count == 1)
        }
    }

    @Test func aCrashAfterCommit_IsAnUnknownOutcome_AndTheGroupIsFoundByName() async throws {
        var faults = FaultConfiguration()
        faults.scripted = [.init(kind: .crashAfterCommit, route: "/access_codes/create_multiple")]
        try await withFake(faults: faults, requestTimeout: .seconds(1)) { _, client in
            do {
                _ = try await client.createMultiple(
                    deviceIDs: [front, back], name: "latchkey:e2e:crash", startsAt: window.start, endsAt: window.end)
                Issue.record("expected no answer")
            } catch let error as SeamError {
                #expect(error.failureClass == .retryable)
                #expect(error.outcomeIsUnknown)
            }
            // DESIGN.md: look the group up by name before creating again.
            let adopted = try await client.findCodes(named: "latchkey:e2e:crash", onDevices: [front, back])
            #expect(adopted.count == 2)
            #expect(Set(adopted.compactMap(\.commonCodeKey)).count == 1)
        }
    }

    @Test func theDeviceLimiter_KeepsUnderTheFakesPerDeviceLimit() async throws {
        try await withFake { fake, client in
            // The limiter the reconciler's pacer asks before every call (Gateway's DeviceLimiterPacer).
            let limiter = DeviceRateLimiter(clock: SystemSeamClock())
            var outcomes: [String] = []
            for index in 0..<11 {
                let start = window.start.addingTimeInterval(Double(index) * 86_400)
                guard case .granted = limiter.acquire(.create, deviceIDs: [front]) else {
                    outcomes.append("wait")
                    continue
                }
                _ = try await client.createMultiple(
                    deviceIDs: [front], name: "latchkey:e2e:rate\(index)", startsAt: start,
                    endsAt: start.addingTimeInterval(3600))
                outcomes.append("ok")
            }
            #expect(outcomes == Array(repeating: "ok", count: 10) + ["wait"])
            #expect(fake.service.callCount(route: "/access_codes/create_multiple") == 10)
        }
    }

    @Test func withoutTheLimiter_TheFakeAnswers429OnTheEleventhCreate() async throws {
        try await withFake { _, client in
            var statuses: [Int] = []
            for index in 0..<11 {
                let start = window.start.addingTimeInterval(Double(index) * 86_400)
                do {
                    _ = try await client.createMultiple(
                        deviceIDs: [front], name: "latchkey:e2e:burst\(index)", startsAt: start,
                        endsAt: start.addingTimeInterval(3600))
                    statuses.append(200)
                } catch let error as SeamError {
                    statuses.append(error.httpStatus ?? -1)
                }
            }
            #expect(statuses == Array(repeating: 200, count: 10) + [429])
        }
    }
}
