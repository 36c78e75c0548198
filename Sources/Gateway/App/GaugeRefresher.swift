import Foundation
import Observability
import Reconciler

/// Sets the gauges that describe the reconciler: outbox depth and age, dead letters, groups by state.
enum GaugeRefresher {
    static func refresh(reconciler: Reconciler, metrics: Metrics) async {
        let intents = await reconciler.outbox()
        let oldest = intents.map(\.createdAt).min().map { Date().timeIntervalSince($0) } ?? 0
        metrics.setOutbox(depth: intents.count, oldestIntentAge: max(0, oldest))
        metrics.setDeadLetters(await reconciler.deadLetterList().count)
        var counts: [AccessCodeGroupState: Int] = [:]
        for state in AccessCodeGroupState.allCases { counts[state] = 0 }
        for reservation in await reconciler.reservations() {
            let state: AccessCodeGroupState? = switch reservation.phase {
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
