import Foundation
import Logging
import Seam
import Synchronization
import Testing

@Suite("Call gate: breaker, limiter and retry policy together")
struct SeamCallGateTests {
    private let clock = ManualClock()
    private let gate: SeamCallGate
    private let t0: Date

    init() {
        t0 = clock.now()
        gate = SeamCallGate(
            policy: RetryPolicy(),
            breaker: CircuitBreaker(
                configuration: .init(failureThreshold: 2, coolDown: .seconds(30)), clock: clock,
                logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() }),
            limiter: DeviceRateLimiter(clock: clock),
            clock: clock,
            random: SeededRandom(seed: 11))
    }

    private func failing(_ status: Int, retryAfter: Duration? = nil) -> @Sendable () async throws(SeamError) -> Int {
        { () async throws(SeamError) -> Int in
            throw SeamError(
                kind: .http(status: status), route: "/access_codes/create_multiple", message: "m",
                retryAfter: retryAfter)
        }
    }

    @Test func aSuccess_PassesItsValueThroughAndTakesASlotPerDevice() async {
        let outcome = await gate.perform(.create, deviceIDs: ["a", "b"], attempt: 1, firstAttemptAt: t0) { 42 }
        guard case .succeeded(42) = outcome else {
            Issue.record("expected success, got \(outcome)")
            return
        }
        #expect(gate.limiter.earliestStart(.create, deviceIDs: ["a"]) == t0)
        for _ in 0..<9 { _ = gate.limiter.acquire(.create, deviceIDs: ["b"]) }
        #expect(gate.limiter.earliestStart(.create, deviceIDs: ["b"]) == t0.addingTimeInterval(61))
    }

    @Test func aDeviceAtItsLimit_DefersTheCallWithoutMakingIt() async {
        for _ in 0..<10 { _ = gate.limiter.acquire(.delete, deviceIDs: ["a"]) }
        for _ in 0..<10 { _ = gate.limiter.acquire(.delete, deviceIDs: ["a"]) }
        let calls = Mutex(0)
        let outcome = await gate.perform(.delete, deviceIDs: ["a"], attempt: 1, firstAttemptAt: t0) {
            calls.withLock { $0 += 1 }
        }
        guard case .notYet(let until, .rateLimited) = outcome else {
            Issue.record("expected a rate-limit deferral, got \(outcome)")
            return
        }
        #expect(until == t0.addingTimeInterval(61))
        #expect(calls.withLock { $0 } == 0)
    }

    @Test func a429_BlocksTheDevicesForRetryAfterAndSchedulesARetryNoSooner() async {
        let outcome = await gate.perform(
            .update, deviceIDs: ["a", "b"], attempt: 1, firstAttemptAt: t0, failing(429, retryAfter: .seconds(20)))
        guard case .retry(let at, let error) = outcome else {
            Issue.record("expected a retry, got \(outcome)")
            return
        }
        #expect(error.httpStatus == 429)
        #expect(at >= t0.addingTimeInterval(20))
        #expect(gate.limiter.earliestStart(.update, deviceIDs: ["b"]) == t0.addingTimeInterval(20))
        #expect(gate.limiter.earliestStart(.create, deviceIDs: ["b"]) == t0)
    }

    @Test func consecutiveOutages_OpenTheBreaker_ThenCallsWaitForTheCoolDown() async {
        for attempt in 1...2 {
            let outcome = await gate.perform(nil, deviceIDs: [], attempt: attempt, firstAttemptAt: t0, failing(503))
            guard case .retry = outcome else {
                Issue.record("expected a retry, got \(outcome)")
                return
            }
        }
        let calls = Mutex(0)
        let outcome = await gate.perform(.create, deviceIDs: ["a"], attempt: 3, firstAttemptAt: t0) {
            calls.withLock { $0 += 1 }
        }
        guard case .notYet(let until, .circuitOpen) = outcome else {
            Issue.record("expected a circuit deferral, got \(outcome)")
            return
        }
        #expect(until == t0.addingTimeInterval(30))
        #expect(calls.withLock { $0 } == 0)
        // The deferral took no rate-limit slot.
        for _ in 0..<10 { #expect(gate.limiter.acquire(.create, deviceIDs: ["a"]) == .granted) }
    }

    @Test func aPermanentFailure_Stops() async {
        let outcome = await gate.perform(.create, deviceIDs: ["a"], attempt: 1, firstAttemptAt: t0, failing(400))
        guard case .stop(.permanent, let error) = outcome else {
            Issue.record("expected a stop, got \(outcome)")
            return
        }
        #expect(error.httpStatus == 400)
        #expect(gate.breaker.state == .closed(consecutiveFailures: 0))
    }
}
