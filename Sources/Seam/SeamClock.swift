import Foundation

/// The wall clock the retry policy, the circuit breaker and the rate limiter read.
///
/// A protocol only so tests can move time by hand; the product uses ``SystemSeamClock``.
/// Wall-clock `Date`s (not monotonic instants) because the outbox persists `nextAttemptAt`
/// across restarts and `Retry-After` may be an HTTP date.
package protocol SeamClock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The system's wall clock.
package struct SystemSeamClock: SeamClock {
    /// Creates the system clock.
    package init() {}

    /// The current instant, `Date()`.
    package func now() -> Date { Date() }
}

extension Duration {
    /// The duration in seconds as a `TimeInterval`, for `Date` arithmetic.
    package var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// A duration from a `TimeInterval` in seconds; negative values become zero.
    package static func interval(_ seconds: TimeInterval) -> Duration {
        .nanoseconds(Int64((max(0, seconds) * 1e9).rounded()))
    }
}
