import Foundation

/// Parses the `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
package enum RetryAfter {
    /// The delay a `Retry-After` value asks for.
    /// - Parameters:
    ///   - value: The header value: `120`, or `Sun, 06 Nov 1994 08:49:37 GMT` (the obsolete RFC 850 and asctime
    ///     date forms are accepted too).
    ///   - now: The instant the response arrived; a date in the past gives zero.
    /// - Returns: The delay, or nil when the value is neither form.
    package static func parse(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            // Beyond Int64: absurdly long; the retry policy cuts it to its cap anyway.
            guard let seconds = Int64(text) else { return .seconds(Int64(Int32.max)) }
            return .seconds(seconds)
        }
        for format in httpDateFormats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                return .interval(date.timeIntervalSince(now))
            }
        }
        return nil
    }

    /// IMF-fixdate, RFC 850, asctime (RFC 9110 §5.6.7).
    private static let httpDateFormats = [
        "EEE, dd MMM yyyy HH:mm:ss 'GMT'",
        "EEEE, dd-MMM-yy HH:mm:ss 'GMT'",
        "EEE MMM d HH:mm:ss yyyy",
    ]
}

/// When to try a failed Seam call again: full-jitter exponential backoff (AWS "Exponential Backoff and Jitter"),
/// `Retry-After` honoured as a floor, within a budget of attempts and elapsed time. A pure value: the caller
/// passes the clock reading and the random source, so schedules are reproducible in tests.
///
/// With the defaults the ceilings of the jitter range are 2 s, 4 s, 8 s, … 512 s, then 600 s for every later
/// attempt; the actual delay is uniform in `0…ceiling`.
package struct RetryPolicy: Sendable, Equatable {
    /// The ceiling of the first retry's delay; it doubles per attempt. Default 2 s.
    package var base: Duration
    /// The largest ceiling. Default 10 minutes.
    package var cap: Duration
    /// Most attempts in all, the first included; `nil` for no limit. Default 100.
    package var maxAttempts: Int?
    /// Longest time from the first attempt to the start of the last one; `nil` for no limit. Default 24 hours.
    package var maxElapsed: Duration?
    /// A `Retry-After` longer than this is cut to it (a sane maximum for a bogus header). Default 1 hour.
    package var retryAfterCap: Duration
    /// Random spread added on top of a `Retry-After` floor so that waiting callers do not return in step.
    /// Default 1 s.
    package var retryAfterJitter: Duration

    /// Creates a policy; every parameter has the default its property documents.
    package init(
        base: Duration = .seconds(2),
        cap: Duration = .seconds(600),
        maxAttempts: Int? = 100,
        maxElapsed: Duration? = .seconds(24 * 3600),
        retryAfterCap: Duration = .seconds(3600),
        retryAfterJitter: Duration = .seconds(1)
    ) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
        self.maxElapsed = maxElapsed
        self.retryAfterCap = retryAfterCap
        self.retryAfterJitter = retryAfterJitter
    }

    /// What to do after a failed attempt.
    package enum Decision: Sendable, Equatable {
        /// Try again after `delay`, i.e. at `at`.
        case retry(after: Duration, at: Date)
        /// Stop; see ``StopReason``.
        case stop(StopReason)
    }

    /// Why a policy says to stop.
    package enum StopReason: Sendable, Equatable {
        /// The failure is permanent (other 4xx, bad request, undecodable answer): dead-letter it.
        case permanent
        /// The credentials were refused: keep the work pending and alert the operator.
        case unauthorized
        /// ``maxAttempts`` attempts were made.
        case attemptsExhausted(attempts: Int)
        /// The next attempt would start later than ``maxElapsed`` after the first.
        case timeExhausted(elapsed: Duration)
    }

    /// The ceiling of the jitter range for the retry after failed attempt number `attempt`:
    /// `min(cap, base · 2^(attempt−1))`.
    /// - Parameter attempt: The number of the attempt that failed, from 1.
    /// - Returns: The ceiling.
    package func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 62)
        let ceiling = base.timeInterval * pow(2, Double(exponent))
        return .interval(min(cap.timeInterval, ceiling))
    }

    /// A full-jitter delay: uniform in `0…ceiling(afterAttempt:)`.
    /// - Parameters:
    ///   - attempt: The number of the attempt that failed, from 1.
    ///   - random: The random source (seed it in tests).
    /// - Returns: The delay.
    package func backoff(afterAttempt attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        .interval(Double.random(in: 0...ceiling(afterAttempt: attempt).timeInterval, using: &random))
    }

    /// Decides what to do after attempt number `attempt` failed.
    /// - Parameters:
    ///   - attempt: The number of the attempt that just failed, from 1.
    ///   - failure: The failure class (``SeamError/failureClass``).
    ///   - retryAfter: The server's `Retry-After`, if any (``SeamError/retryAfter``); a floor for the delay.
    ///   - firstAttemptAt: When the first attempt started (persist it with the work item).
    ///   - now: The current instant.
    ///   - random: The random source.
    /// - Returns: ``Decision/retry(after:at:)`` or ``Decision/stop(_:)``.
    package func decide(
        afterAttempt attempt: Int,
        failure: SeamFailureClass,
        retryAfter: Duration? = nil,
        firstAttemptAt: Date,
        now: Date,
        using random: inout some RandomNumberGenerator
    ) -> Decision {
        switch failure {
        case .permanent: return .stop(.permanent)
        case .unauthorized: return .stop(.unauthorized)
        case .retryable: break
        }
        if let maxAttempts, attempt >= maxAttempts {
            return .stop(.attemptsExhausted(attempts: attempt))
        }
        var delay = backoff(afterAttempt: attempt, using: &random)
        if let retryAfter {
            let jitter = Double.random(in: 0...retryAfterJitter.timeInterval, using: &random)
            let floor = min(retryAfter, retryAfterCap) + .interval(jitter)
            delay = max(delay, floor)
        }
        let at = now.addingTimeInterval(delay.timeInterval)
        if let maxElapsed, at.timeIntervalSince(firstAttemptAt) > maxElapsed.timeInterval {
            return .stop(.timeExhausted(elapsed: .interval(now.timeIntervalSince(firstAttemptAt))))
        }
        return .retry(after: delay, at: at)
    }

    /// Decides what to do after `error` ended attempt number `attempt`; reads its class and `Retry-After`.
    /// - Parameters:
    ///   - attempt: The number of the attempt that just failed, from 1.
    ///   - error: The failure.
    ///   - firstAttemptAt: When the first attempt started.
    ///   - now: The current instant.
    ///   - random: The random source.
    /// - Returns: The decision.
    package func decide(
        afterAttempt attempt: Int,
        error: SeamError,
        firstAttemptAt: Date,
        now: Date,
        using random: inout some RandomNumberGenerator
    ) -> Decision {
        decide(
            afterAttempt: attempt, failure: error.failureClass, retryAfter: error.retryAfter,
            firstAttemptAt: firstAttemptAt, now: now, using: &random)
    }
}
