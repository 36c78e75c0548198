import Foundation
import Observability
import Reconciler

/// Sets the gauges that describe the reconciler: outbox depth and age, dead letters, groups by state.
enum GaugeRefresher {
    /// The pause between refreshes: 5 s, or 49 times the last refresh when that is longer, so that counting
    /// (one pass over every reservation, inside the reconciler) takes at most 2 % of the time and of the
    /// reconciler however many reservations there are (~0.3 s for 100,000 under load).
    /// - Parameter refresh: How long the last refresh took.
    /// - Returns: How long to wait before the next one.
    static func pause(after refresh: Duration) -> Duration {
        max(.seconds(5), refresh * 49)
    }

    /// Refreshes the gauges, then waits ``pause(after:)``, until the task is cancelled.
    static func refreshPeriodically(reconciler: Reconciler, metrics: Metrics) async {
        while !Task.isCancelled {
            let took = await ContinuousClock().measure { await refresh(reconciler: reconciler, metrics: metrics) }
            try? await Task.sleep(for: pause(after: took))
        }
    }

    /// Sets every gauge once from the reconciler's state.
    static func refresh(reconciler: Reconciler, metrics: Metrics) async {
        let intents = await reconciler.outbox()
        let oldest = intents.map(\.createdAt).min().map { Date().timeIntervalSince($0) } ?? 0
        metrics.setOutbox(depth: intents.count, oldestIntentAge: max(0, oldest))
        metrics.setDeadLetters(await reconciler.deadLetterList().count)
        let stuck = Double(await reconciler.stuckReservationsFound)
        let counted = metrics.stuckReservations.value()
        if stuck > counted { metrics.stuckReservations.increment(by: stuck - counted) }
        var counts: [AccessCodeGroupState: Int] = [:]
        for state in AccessCodeGroupState.allCases { counts[state] = 0 }
        for reservation in await reconciler.reservations(ordered: false) {
            let state: AccessCodeGroupState? =
                switch reservation.phase {
                case .converged: reservation.applied == nil ? nil : .active
                case .applying: reservation.applied == nil ? .pending : .removing
                case .waiting: .waiting
                case .deadLettered: .failed
                case .noAccess, .invalidDates, .unmapped, .past: nil
                }
            if let state { counts[state, default: 0] += 1 }
        }
        metrics.setAccessCodeGroups(counts)
    }
}
