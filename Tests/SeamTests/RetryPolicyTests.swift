import Foundation
import Seam
import Testing

@Suite("Retry policy")
struct RetryPolicyTests {
    private let policy = RetryPolicy()
    private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func ceilings_DoubleFromTheBaseUpToTheCap() {
        let ceilings = (1...12).map { policy.ceiling(afterAttempt: $0) }
        #expect(Array(ceilings.prefix(10)) == [2, 4, 8, 16, 32, 64, 128, 256, 512, 600].map { Duration.seconds($0) })
        #expect(ceilings.suffix(2) == [.seconds(600), .seconds(600)])
        #expect(policy.ceiling(afterAttempt: 10_000) == .seconds(600))
    }

    @Test func backoff_IsFullJitterWithinZeroAndTheCeiling() {
        var random = SeededRandom(seed: 42)
        for attempt in 1...12 {
            let ceiling = policy.ceiling(afterAttempt: attempt)
            let draws = (0..<200).map { _ in policy.backoff(afterAttempt: attempt, using: &random) }
            #expect(draws.allSatisfy { $0 >= .zero && $0 <= ceiling })
            // Full jitter spreads over the whole range, not a band near the ceiling.
            #expect(draws.contains { $0 < ceiling * 0.1 })
            #expect(draws.contains { $0 > ceiling * 0.9 })
        }
    }

    @Test func backoff_IsReproducibleWithTheSameSeed() {
        var a = SeededRandom(seed: 7)
        var b = SeededRandom(seed: 7)
        var c = SeededRandom(seed: 8)
        let first = (1...8).map { policy.backoff(afterAttempt: $0, using: &a) }
        #expect(first == (1...8).map { policy.backoff(afterAttempt: $0, using: &b) })
        #expect(first != (1...8).map { policy.backoff(afterAttempt: $0, using: &c) })
    }

    @Test func retryAfter_IsAFloorForTheDelay() {
        var random = SeededRandom(seed: 1)
        for _ in 0..<50 {
            guard
                case .retry(let delay, let at) = policy.decide(
                    afterAttempt: 1, failure: .retryable, retryAfter: .seconds(30), firstAttemptAt: t0, now: t0,
                    using: &random)
            else {
                Issue.record("expected a retry")
                return
            }
            #expect(delay >= .seconds(30) && delay <= .seconds(31))
            #expect(abs(at.timeIntervalSince(t0) - delay.timeInterval) < 0.001)
        }
    }

    @Test func retryAfter_ShorterThanTheBackoff_DoesNotShortenIt() {
        var random = SeededRandom(seed: 3)
        var withHeader = SeededRandom(seed: 3)
        let plain = policy.decide(afterAttempt: 9, failure: .retryable, firstAttemptAt: t0, now: t0, using: &random)
        let floored = policy.decide(
            afterAttempt: 9, failure: .retryable, retryAfter: .zero, firstAttemptAt: t0, now: t0, using: &withHeader)
        guard case .retry(let a, _) = plain, case .retry(let b, _) = floored else {
            Issue.record("expected retries")
            return
        }
        #expect(b >= a)
    }

    @Test func retryAfter_IsCutToItsCap() {
        var random = SeededRandom(seed: 5)
        let decision = policy.decide(
            afterAttempt: 1, failure: .retryable, retryAfter: .seconds(86_400), firstAttemptAt: t0, now: t0,
            using: &random)
        guard case .retry(let delay, _) = decision else {
            Issue.record("expected a retry, got \(decision)")
            return
        }
        #expect(delay >= .seconds(3600) && delay <= .seconds(3601))
    }

    @Test func permanentAndUnauthorized_StopAtOnce() {
        var random = SeededRandom(seed: 1)
        #expect(
            policy.decide(afterAttempt: 1, failure: .permanent, firstAttemptAt: t0, now: t0, using: &random)
                == .stop(.permanent))
        #expect(
            policy.decide(afterAttempt: 1, failure: .unauthorized, firstAttemptAt: t0, now: t0, using: &random)
                == .stop(.unauthorized))
    }

    @Test func budget_StopsAfterMaxAttempts() {
        let policy = RetryPolicy(maxAttempts: 3, maxElapsed: nil)
        var random = SeededRandom(seed: 1)
        let decisions = (1...3).map {
            policy.decide(afterAttempt: $0, failure: .retryable, firstAttemptAt: t0, now: t0, using: &random)
        }
        #expect(decisions.prefix(2).allSatisfy { if case .retry = $0 { true } else { false } })
        #expect(decisions.last == .stop(.attemptsExhausted(attempts: 3)))
    }

    @Test func budget_StopsWhenTheNextAttemptWouldPassMaxElapsed() {
        let policy = RetryPolicy(base: .seconds(60), cap: .seconds(60), maxAttempts: nil, maxElapsed: .seconds(3600))
        var random = SeededRandom(seed: 9)
        let early = policy.decide(
            afterAttempt: 5, failure: .retryable, firstAttemptAt: t0, now: t0.addingTimeInterval(60), using: &random)
        #expect({ if case .retry = early { true } else { false } }())
        let late = policy.decide(
            afterAttempt: 50, failure: .retryable, firstAttemptAt: t0, now: t0.addingTimeInterval(3600), using: &random)
        #expect(late == .stop(.timeExhausted(elapsed: .seconds(3600))))
    }

    @Test func decideFromAnError_ReadsItsClassAndRetryAfter() {
        var random = SeededRandom(seed: 2)
        let throttled = SeamError(
            kind: .http(status: 429), route: "/r", message: "slow down", retryAfter: .seconds(120))
        guard
            case .retry(let delay, _) = policy.decide(
                afterAttempt: 1, error: throttled, firstAttemptAt: t0, now: t0, using: &random)
        else {
            Issue.record("expected a retry")
            return
        }
        #expect(delay >= .seconds(120))
    }
}

@Suite("Retry-After parsing")
struct RetryAfterTests {
    private let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT

    @Test func delaySeconds_Parse() {
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse(" 0 ", now: now) == .zero)
    }

    @Test func httpDates_InAllThreeFormsParseToTheDelayFromNow() {
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:50:07 GMT", now: now) == .seconds(30))
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:50:07 GMT", now: now) == .seconds(30))
        #expect(RetryAfter.parse("Sun Nov  6 08:50:07 1994", now: now) == .seconds(30))
    }

    @Test func aDateInThePast_MeansNow() {
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == .zero)
    }

    @Test(arguments: ["", "-5", "1.5", "soon", "Sun, 06 Nov 1994"])
    func garbage_IsIgnored(value: String) {
        #expect(RetryAfter.parse(value, now: now) == nil)
    }
}
