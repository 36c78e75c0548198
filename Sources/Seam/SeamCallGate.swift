import Foundation
import Synchronization

/// One place where a Seam call meets the circuit breaker, the per-device rate limiter and the retry policy, so
/// the outbox worker cannot forget a step: wait while the breaker is open or the devices are at their limit;
/// otherwise call, report the outcome to the breaker, block the devices after a 429, and turn a failure into
/// "retry at" or "stop".
///
/// The gate never sleeps and never retries by itself: it answers with an ``Outcome`` the worker persists
/// (`nextAttemptAt`), so backoff survives restarts.
package final class SeamCallGate: Sendable {
    /// What became of one request to call Seam.
    package enum Outcome<Value: Sendable>: Sendable {
        /// The call succeeded.
        case succeeded(Value)
        /// The call was not made; ask again at `until`. Does not count as an attempt.
        case notYet(until: Date, reason: WaitReason)
        /// The call was made and failed retryably; try again at `at` (attempt + 1).
        case retry(at: Date, error: SeamError)
        /// The call was made and must not be retried; see the reason (dead-letter, or hold for the operator
        /// when ``RetryPolicy/StopReason/unauthorized``).
        case stop(RetryPolicy.StopReason, error: SeamError)
    }

    /// Why a call was not made.
    package enum WaitReason: Sendable, Equatable {
        /// The circuit breaker is open (Seam looks down).
        case circuitOpen
        /// A device is at its per-minute limit for this operation, or Seam said 429 for it.
        case rateLimited
    }

    /// The retry policy.
    package let policy: RetryPolicy
    /// The breaker shared by every call to Seam.
    package let breaker: CircuitBreaker
    /// The per-device pacing.
    package let limiter: DeviceRateLimiter
    private let clock: any SeamClock
    private let random: Mutex<any RandomNumberGenerator & Sendable>

    /// Creates a gate.
    /// - Parameters:
    ///   - policy: Backoff and budget; default ``RetryPolicy/init(base:cap:maxAttempts:maxElapsed:retryAfterCap:retryAfterJitter:)``.
    ///   - breaker: The breaker.
    ///   - limiter: The rate limiter.
    ///   - clock: The clock; default the system clock. Use the same clock for the breaker and limiter.
    ///   - random: The jitter source; default the system generator. Seed it in tests.
    package init(
        policy: RetryPolicy = RetryPolicy(),
        breaker: CircuitBreaker,
        limiter: DeviceRateLimiter,
        clock: any SeamClock = SystemSeamClock(),
        random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.policy = policy
        self.breaker = breaker
        self.limiter = limiter
        self.clock = clock
        self.random = Mutex(random)
    }

    /// Makes one attempt at a Seam call, if the breaker and the limiter allow it now.
    /// - Parameters:
    ///   - operation: The rate-limited kind of call, or nil for reads (list, get), which Seam does not pace.
    ///   - deviceIDs: The devices the call touches (every lock of the group for create/update, the code's lock
    ///     for delete).
    ///   - attempt: The number of this attempt, from 1 (persist it with the work item).
    ///   - firstAttemptAt: When the first attempt was made (persist it too); for attempt 1, pass now.
    ///   - call: The client call, e.g. `{ try await client.createMultiple(...) }`.
    /// - Returns: The outcome.
    package func perform<Value: Sendable>(
        _ operation: DeviceRateLimiter.Operation?,
        deviceIDs: [String],
        attempt: Int,
        firstAttemptAt: Date,
        _ call: () async throws(SeamError) -> Value
    ) async -> Outcome<Value> {
        if let operation {
            let start = limiter.earliestStart(operation, deviceIDs: deviceIDs)
            if start > clock.now() { return .notYet(until: start, reason: .rateLimited) }
        }
        let permission = breaker.permission()
        if case .rejected(let until) = permission { return .notYet(until: until, reason: .circuitOpen) }
        if let operation, case .notBefore(let start) = limiter.acquire(operation, deviceIDs: deviceIDs) {
            // Another task took the last slot in between.
            if permission == .probe { breaker.returnProbe() }
            return .notYet(until: start, reason: .rateLimited)
        }

        do {
            let value = try await call()
            breaker.recordSuccess()
            return .succeeded(value)
        } catch {
            breaker.record(error.failureClass)
            let now = clock.now()
            if let operation, error.httpStatus == 429 {
                let pause = error.retryAfter ?? limiter.limits.window
                limiter.block(operation, deviceIDs: deviceIDs, until: now.addingTimeInterval(pause.timeInterval))
            }
            let decision = random.withLock { random in
                policy.decide(
                    afterAttempt: attempt, error: error, firstAttemptAt: firstAttemptAt, now: now, using: &random)
            }
            switch decision {
            case .retry(_, let at): return .retry(at: at, error: error)
            case .stop(let reason): return .stop(reason, error: error)
            }
        }
    }
}
