import Foundation
import Logging
import Synchronization

/// Stops calling Seam while it is clearly down (Nygard, *Release It!*): opens after a run of retryable
/// failures, stays open for a cool-down, then lets exactly one probe through; the probe's success closes it.
///
/// Only retryable failures (5xx, 429, timeouts, connection failures) count. Any answer that shows Seam is up
/// (a success, a 4xx, a 401) resets the run. While open, the outbox leaves its work pending.
/// Safe to share between tasks: the state is behind one `Mutex`.
package final class CircuitBreaker: Sendable {
    /// When the breaker trips and how long it rests.
    package struct Configuration: Sendable, Equatable {
        /// Consecutive retryable failures that open the breaker. Default 5.
        package var failureThreshold: Int
        /// How long the breaker stays open before it lets a probe through. Default 30 s.
        package var coolDown: Duration
        /// How long a probe may stay unanswered before another probe is let through (a probe whose caller
        /// never reported must not wedge the breaker half-open). Default 60 s.
        package var probeTimeout: Duration

        /// Creates a configuration; every parameter has the default its property documents.
        package init(
            failureThreshold: Int = 5, coolDown: Duration = .seconds(30), probeTimeout: Duration = .seconds(60)
        ) {
            self.failureThreshold = failureThreshold
            self.coolDown = coolDown
            self.probeTimeout = probeTimeout
        }
    }

    /// The breaker's state, for `/metrics` and logs.
    package enum State: Sendable, Equatable {
        /// Calls go through; `consecutiveFailures` retryable failures in a row so far.
        case closed(consecutiveFailures: Int)
        /// Calls are refused until `until`.
        case open(until: Date)
        /// One probe may go (`probeInFlight` false) or has gone and is awaited.
        case halfOpen(probeInFlight: Bool)

        /// `closed`, `open` or `half_open`, for a metric label.
        package var name: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half_open"
            }
        }
    }

    /// The answer to "may I call Seam now?".
    package enum Permission: Sendable, Equatable {
        /// Call.
        case allowed
        /// Call: this is the one probe; report its outcome.
        case probe
        /// Do not call before `until`; schedule the work for then.
        case rejected(until: Date)
    }

    private struct Inner {
        var state: State
        var probeStartedAt: Date?
    }

    /// The configuration in use.
    package let configuration: Configuration
    private let clock: any SeamClock
    private let logger: Logger
    private let inner = Mutex(Inner(state: .closed(consecutiveFailures: 0), probeStartedAt: nil))

    /// Creates a closed breaker.
    /// - Parameters:
    ///   - configuration: Threshold and timings; default ``Configuration/init(failureThreshold:coolDown:probeTimeout:)``.
    ///   - clock: The clock; default the system clock.
    ///   - logger: Transitions are logged here at info.
    package init(
        configuration: Configuration = Configuration(), clock: any SeamClock = SystemSeamClock(), logger: Logger
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// The current state (an open breaker whose cool-down has passed reads as half-open).
    package var state: State {
        let now = clock.now()
        return inner.withLock { inner in
            if case .open(let until) = inner.state, now >= until { return .halfOpen(probeInFlight: false) }
            return inner.state
        }
    }

    /// Asks whether a call may go now. ``Permission/probe`` is handed out once per half-open period.
    /// - Returns: The permission; after ``Permission/allowed`` or ``Permission/probe``, report the outcome with
    ///   ``record(_:)``.
    package func permission() -> Permission {
        let now = clock.now()
        let (permission, transition) = inner.withLock { inner -> (Permission, String?) in
            switch inner.state {
            case .closed:
                return (.allowed, nil)
            case .open(let until):
                guard now >= until else { return (.rejected(until: until), nil) }
                inner.state = .halfOpen(probeInFlight: true)
                inner.probeStartedAt = now
                return (.probe, "half_open")
            case .halfOpen(let probeInFlight):
                if probeInFlight, let started = inner.probeStartedAt,
                    now.timeIntervalSince(started) < configuration.probeTimeout.timeInterval
                {
                    return (.rejected(until: started.addingTimeInterval(configuration.probeTimeout.timeInterval)), nil)
                }
                inner.state = .halfOpen(probeInFlight: true)
                inner.probeStartedAt = now
                return (.probe, nil)
            }
        }
        if let transition { logger.info("Seam circuit breaker", metadata: ["breaker.state": "\(transition)"]) }
        return permission
    }

    /// Reports how an allowed call ended.
    /// - Parameter outcome: `nil` for success, else the failure's class; only ``SeamFailureClass/retryable`` counts
    ///   against Seam.
    package func record(_ outcome: SeamFailureClass?) {
        let now = clock.now()
        let transition = inner.withLock { inner -> String? in
            guard outcome == .retryable else {
                let wasClosed = if case .closed = inner.state { true } else { false }
                inner.state = .closed(consecutiveFailures: 0)
                inner.probeStartedAt = nil
                return wasClosed ? nil : "closed"
            }
            switch inner.state {
            case .closed(let failures):
                if failures + 1 >= configuration.failureThreshold {
                    inner.state = .open(until: now.addingTimeInterval(configuration.coolDown.timeInterval))
                    return "open"
                }
                inner.state = .closed(consecutiveFailures: failures + 1)
                return nil
            case .halfOpen:
                inner.state = .open(until: now.addingTimeInterval(configuration.coolDown.timeInterval))
                inner.probeStartedAt = nil
                return "open"
            case .open:
                return nil  // A late report of a call allowed before the breaker opened.
            }
        }
        if let transition { logger.info("Seam circuit breaker", metadata: ["breaker.state": "\(transition)"]) }
    }

    /// Gives back a ``Permission/probe`` that was not used (the call did not go after all), so the next caller
    /// may probe at once instead of after ``Configuration/probeTimeout``.
    package func returnProbe() {
        inner.withLock { inner in
            guard case .halfOpen(true) = inner.state else { return }
            inner.state = .halfOpen(probeInFlight: false)
            inner.probeStartedAt = nil
        }
    }

    /// Reports a successful call; the same as `record(nil)`.
    package func recordSuccess() { record(nil) }
}
