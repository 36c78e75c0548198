import Foundation

/// How the outbox worker paces and retries.
package struct ReconcilerConfiguration: Sendable, Hashable {
    /// Reservations worked on at once. Default 4.
    package var maxConcurrentReservations: Int
    /// Calls made for one intent before it becomes a dead letter. Default 8.
    package var maxAttempts: Int
    /// The first backoff ceiling, in seconds; doubled per failure. Default 1.
    package var backoffBase: TimeInterval
    /// The largest backoff ceiling, in seconds. Default 300.
    package var backoffCap: TimeInterval
    /// Code-name rules. Default ``CodeNaming/init(maxLength:)`` with 60 characters.
    package var naming: CodeNaming
    /// How long a reservation whose work stopped because its state could not be stored (a full or failing
    /// disk) waits before it is worked on again, in seconds. Default 5.
    package var storeRetryDelay: TimeInterval
    /// Whether ``Reconciler/apply(_:)`` stores the record of a reservation that has none stored yet (nothing was
    /// done for it in Seam, no look-up, no dead letter). Default true: the reconciler alone then knows every
    /// booking after a restart. A caller that keeps every reservation's latest booking durably itself and hands
    /// them all to `apply` at each start sets false (the gateway's booking ledger does): its bookings then cost one
    /// durable write and one stored copy each, not two. A record is stored from its first Seam call on either way.
    package var storesRecordsBeforeActing: Bool
    /// How often every reservation is checked for work left undone with none queued, in flight or parked (see
    /// `Reconciler.checkInvariant()`), in seconds; 0 turns the periodic sweep off (the check after every worker
    /// pass stays). Default 300. A sweep plans every reservation once (a few microseconds each).
    package var invariantSweepInterval: TimeInterval
    /// When the pre-arrival checks run. Default ``ArrivalAssuranceSettings/init(checkLeadTimes:backupCodeLeadTime:recheckAfter:)``
    /// with its documented defaults (48 h and 2 h, backup point 1 h, re-check after 10 min).
    package var arrival: ArrivalAssuranceSettings

    /// Creates a configuration with the documented defaults.
    package init(
        maxConcurrentReservations: Int = 4, maxAttempts: Int = 8, backoffBase: TimeInterval = 1,
        backoffCap: TimeInterval = 300, naming: CodeNaming = CodeNaming(), storeRetryDelay: TimeInterval = 5,
        storesRecordsBeforeActing: Bool = true, invariantSweepInterval: TimeInterval = 300,
        arrival: ArrivalAssuranceSettings = ArrivalAssuranceSettings()
    ) {
        self.arrival = arrival
        self.maxConcurrentReservations = max(1, maxConcurrentReservations)
        self.maxAttempts = max(1, maxAttempts)
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
        self.naming = naming
        self.storeRetryDelay = max(0, storeRetryDelay)
        self.storesRecordsBeforeActing = storesRecordsBeforeActing
        self.invariantSweepInterval = max(0, invariantSweepInterval)
    }

    /// Full-jitter exponential backoff: a random delay in `[0, min(cap, base·2^(failures−1))]`, at least
    /// `retryAfter` when the server sent one.
    /// - Parameters:
    ///   - failures: Failed calls so far (≥ 1).
    ///   - retryAfter: The server's `Retry-After`, in seconds.
    ///   - jitter: Picks a value in `0…ceiling`.
    /// - Returns: The delay in seconds.
    package func backoff(afterFailures failures: Int, retryAfter: TimeInterval?, jitter: (Double) -> Double)
        -> TimeInterval
    {
        let ceiling = min(backoffCap, backoffBase * pow(2, Double(max(0, failures - 1))))
        let delay = min(ceiling, max(0, jitter(ceiling)))
        return max(delay, retryAfter ?? 0)
    }
}
