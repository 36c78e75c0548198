import Bookings
import Foundation
import Logging

// The invariant: a reservation with work to do always has it queued, in flight, waiting or parked.

extension Reconciler {
    // MARK: - The invariant

    /// Checks that every reservation whose desired state differs from its applied state has work queued, in
    /// flight, waiting on a store retry, or parked in a dead letter. One that breaks it is logged, counted
    /// (``stuckReservationsFound``) and put back to work: no reservation can be stuck silently.
    /// Runs after every worker pass and every ``ReconcilerConfiguration/invariantSweepInterval``.
    /// - Returns: The reservations that broke it.
    @discardableResult
    package func checkInvariant() -> [ReservationKey] {
        guard !stopped else { return [] }
        var stuck: [ReservationKey] = []
        for key in records.keys where isStuck(key) {
            stuck.append(key)
        }
        for key in stuck.sorted() { putBackToWork(key) }
        return stuck
    }

    /// How many reservations ``checkInvariant()`` found stuck since start.
    package var stuckReservationsFound: Int { stuckFound }

    /// For tests of ``checkInvariant()`` only: forgets that `key` is queued, as a lost wake-up would.
    func loseQueuedWorkForTesting(_ key: ReservationKey) {
        guard queued.remove(key) != nil else { return }
        var kept = FIFO<ReservationKey>()
        while let next = queue.popFirst() {
            if next != key { kept.append(next) }
        }
        queue = kept
    }

    /// Whether `key` breaks the invariant: work to do, none queued, in flight, waiting or parked.
    func isStuck(_ key: ReservationKey) -> Bool {
        isIdle(key) && records[key]?.blockedBy == nil && nextOperation(for: key) != nil
    }

    func isIdle(_ key: ReservationKey) -> Bool {
        running[key] == nil && !queued.contains(key) && storeRetries[key] == nil && !rerun.contains(key)
    }

    func putBackToWork(_ key: ReservationKey) {
        stuckFound += 1
        logger.error(
            "reservation has work to do but none queued, in flight or dead-lettered; put back to work",
            metadata: [
                "reservation": "\(key)", "operation": "\(nextOperation(for: key)?.label ?? "-")",
            ])
        schedule(key)
    }

    /// Starts the periodic invariant sweep. It sleeps on the system's clock, not the reconciler's: it is upkeep,
    /// not part of any reservation's timeline (a test clock that jumps ahead on every sleep stays the tests').
    func startSweeper() {
        let interval = configuration.invariantSweepInterval
        guard interval > 0, sweeper == nil else { return }
        sweeper = Task {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(interval))
                } catch {
                    return
                }
                self.checkInvariant()
            }
        }
    }
}
