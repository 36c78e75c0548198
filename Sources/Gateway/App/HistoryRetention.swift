import Foundation
import Intake
import Logging
import Reconciler
import Store

/// Forgets reservations long past: the reconciler's records and the ledger's stored bookings (guest names and
/// phones included), so that neither memory nor the journal grows with every reservation ever received.
struct HistoryRetention: Sendable {
    /// The first sweep after a start: 1 minute (not at once, so a start is not slowed by it).
    static let firstSweepAfter: Duration = .seconds(60)
    /// The pause between sweeps: 1 hour.
    static let sweepEvery: Duration = .seconds(3600)

    /// Days after a stay's access window ended (``LatchkeyConfiguration/historyRetentionDays``).
    let days: Int
    let reconciler: Reconciler
    let ledger: BookingLedger
    let store: any DurableStore
    let logger: Logger

    /// One sweep; failures are logged and left for the next one.
    /// - Returns: How many reservations were forgotten.
    @discardableResult
    func sweep(now: Date = Date()) async -> Int {
        let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
        do {
            let forgotten = try await reconciler.forgetReservations(endedBefore: cutoff)
            guard !forgotten.isEmpty else { return 0 }
            let deleted = try await withCheckedThrowingContinuation { (done: CheckedContinuation<Int, any Error>) in
                ledger.forget(forgotten, store: store) { done.resume(with: $0.mapError { $0 as any Error }) }
            }
            logger.info(
                "forgot reservations whose stays ended more than \(days) days ago",
                metadata: [
                    "reservations": "\(forgotten.count)", "bookings_deleted": "\(deleted)",
                ])
            return forgotten.count
        } catch {
            logger.warning(
                "could not forget old reservations; the next sweep tries again", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
