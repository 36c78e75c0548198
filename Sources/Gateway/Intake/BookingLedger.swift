import Bookings
import Store
import Synchronization

/// Decides, in receipt order, which booking event becomes its reservation's latest, and numbers deliveries.
///
/// The only owner of that decision: it runs under one lock at submission time, so the order of decisions is the
/// order of journal submissions, and the journal's group commit keeps that order.
final class BookingLedger: Sendable {
    private struct State {
        var nextSequence: UInt64
        var latest: [String: StoredBooking]
    }

    private let state: Mutex<State>

    /// Loads every stored booking from `store`.
    init(store: Store) {
        var latest: [String: StoredBooking] = [:]
        var highest: UInt64 = 0
        for (key, value) in store.entries(withPrefix: StoredBooking.keyPrefix) {
            guard let booking = StoredBooking.decode(value) else { continue }
            latest[key] = booking
            highest = max(highest, booking.sequence)
        }
        state = Mutex(State(nextSequence: highest + 1, latest: latest))
    }

    /// Every stored booking, for the reconciler at start.
    var all: [StoredBooking] {
        state.withLock { Array($0.latest.values) }.sorted { $0.sequence < $1.sequence }
    }

    /// Numbers `events` and adds to `transaction` a put for each that supersedes its reservation's stored one.
    /// - Returns: The numbered events (all of them: the reconciler does its own ordering too).
    func record(_ events: [BookingEvent], into transaction: inout Transaction) -> [StoredBooking] {
        state.withLock { state in
            events.map { event in
                let booking = StoredBooking(event: event, sequence: state.nextSequence)
                state.nextSequence += 1
                let key = StoredBooking.key(source: event.source, reservationID: event.reservationID)
                if state.latest[key].map({ $0.isSuperseded(by: booking) }) ?? true {
                    state.latest[key] = booking
                    transaction.put(booking.encoded(), forKey: key)
                }
                return booking
            }
        }
    }

    /// After a failed or duplicate commit, forgets the optimistic updates of `events` by re-reading the store.
    func revert(_ events: [BookingEvent], store: Store) {
        state.withLock { state in
            for event in events {
                let key = StoredBooking.key(source: event.source, reservationID: event.reservationID)
                state.latest[key] = store.value(forKey: key).flatMap(StoredBooking.decode)
            }
        }
    }
}
