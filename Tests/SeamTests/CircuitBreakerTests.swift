import Foundation
import LatchkeyTestSupport
import Seam
import Testing

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    private let clock = ManualClock()
    private let logs = LogCapture()

    private func breaker(threshold: Int = 3) -> CircuitBreaker {
        CircuitBreaker(
            configuration: .init(failureThreshold: threshold, coolDown: .seconds(30), probeTimeout: .seconds(60)),
            clock: clock, logger: logs.logger)
    }

    /// A breaker opened by one failure whose cool-down has passed and whose probe is out.
    private func breakerWithProbeOut() -> CircuitBreaker {
        let breaker = breaker(threshold: 1)
        breaker.record(.retryable)
        clock.advance(by: 30)
        #expect(breaker.permission() == .probe)
        return breaker
    }

    @Test func opensAfterTheThresholdOfConsecutiveRetryableFailures() {
        let breaker = breaker()
        breaker.record(.retryable)
        breaker.record(.retryable)
        #expect(breaker.state == .closed(consecutiveFailures: 2))
        #expect(breaker.permission() == .allowed)
        breaker.record(.retryable)
        #expect(breaker.state == .open(until: clock.now().addingTimeInterval(30)))
        #expect(breaker.permission() == .rejected(until: clock.now().addingTimeInterval(30)))
    }

    @Test func answersThatShowSeamIsUp_ResetTheRun() {
        let breaker = breaker()
        for outcome: SeamFailureClass? in [
            .retryable, .retryable, .permanent, .retryable, .retryable, nil, .retryable, .retryable, .unauthorized,
        ] {
            breaker.record(outcome)
        }
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }

    @Test func afterTheCoolDown_ExactlyOneProbeGoes() {
        let breaker = breaker(threshold: 1)
        breaker.record(.retryable)
        clock.advance(by: 29)
        #expect(breaker.permission() == .rejected(until: clock.now().addingTimeInterval(1)))
        clock.advance(by: 1)
        #expect(breaker.state == .halfOpen(probeInFlight: false))
        #expect(breaker.permission() == .probe)
        #expect(breaker.state == .halfOpen(probeInFlight: true))
        guard case .rejected = breaker.permission() else {
            Issue.record("a second caller must not pass while the probe is out")
            return
        }
    }

    @Test func aSuccessfulProbe_ClosesTheBreaker() {
        let breaker = breakerWithProbeOut()
        breaker.recordSuccess()
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.permission() == .allowed)
    }

    @Test func aFailedProbe_ReopensForAnotherCoolDown() {
        let breaker = breakerWithProbeOut()
        clock.advance(by: 2)
        breaker.record(.retryable)
        #expect(breaker.state == .open(until: clock.now().addingTimeInterval(30)))
        #expect(breaker.state.name == "open")
        let transitions = logs.text.split(separator: "\n").map { $0.split(separator: "breaker.state=").last ?? "" }
        #expect(transitions == ["open", "half_open", "open"])
    }

    @Test func aProbeNeverReported_IsReplacedAfterTheProbeTimeout() {
        let breaker = breakerWithProbeOut()
        clock.advance(by: 59)
        #expect(breaker.permission() == .rejected(until: clock.now().addingTimeInterval(1)))
        clock.advance(by: 1)
        #expect(breaker.permission() == .probe)
    }

    @Test func aReturnedProbe_LetsTheNextCallerProbeAtOnce() {
        let breaker = breakerWithProbeOut()
        guard case .rejected = breaker.permission() else {
            Issue.record("the probe is out")
            return
        }
        breaker.returnProbe()
        #expect(breaker.permission() == .probe)
    }
}
