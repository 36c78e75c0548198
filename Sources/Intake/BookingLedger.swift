import Bookings
import Foundation
import Reconciler
import Store
import Synchronization

/// Decides, in receipt order, which booking event becomes its reservation's latest, and numbers deliveries.
///
/// The rule is ``BookingVersion/supersedes(_:)`` (the reconciler's too); the ledger keeps one version per
/// reservation ever received (not the whole booking, so it stays small). The only owner of that decision:
/// numbering and the journal submission happen under one lock, so the order of decisions is the order of journal
/// submissions, and the journal's group commit keeps that order.
package final class BookingLedger: Sendable {
    private struct State {
        var nextSequence: UInt64
        var latest: [String: BookingVersion]
    }

    private let state: Mutex<State>
    /// Held from numbering a delivery's events to submitting its transaction, so that the journal receives puts
    /// in the order the ledger decided them, whichever listener thread took the delivery.
    private let submission = Mutex(())

    /// The stored bookings found at start, oldest first, until ``takeStoredBookings()`` hands them over.
    private let found: Mutex<[StoredBooking]>

    /// Loads every stored booking from `store`.
    /// - Parameter store: The journal or PostgreSQL.
    /// - Throws: ``StoreError`` when the stored bookings cannot be read.
    package init(store: any DurableStore) throws(StoreError) {
        var latest: [String: BookingVersion] = [:]
        var stored: [StoredBooking] = []
        var highest: UInt64 = 0
        for (key, value) in try store.entries(withPrefix: StoreKeys.bookings) {
            guard let booking = StoredBooking.decode(value) else { continue }
            latest[key] = booking.version
            stored.append(booking)
            highest = max(highest, booking.sequence)
        }
        found = Mutex(stored.sorted { $0.sequence < $1.sequence })
        state = Mutex(State(nextSequence: highest + 1, latest: latest))
    }

    /// Every booking stored when the ledger was loaded, oldest first, for the reconciler at start. Handed over
    /// once (later calls get none), so the decoded bookings are not kept for the life of the process.
    package func takeStoredBookings() -> [StoredBooking] {
        found.withLock { bookings in
            defer { bookings = [] }
            return bookings
        }
    }

    /// Numbers `events`, adds to `transaction` a put for each that supersedes its reservation's stored one, and
    /// hands both to `submit` before any other delivery is numbered.
    /// - Parameters:
    ///   - events: The delivery's events.
    ///   - transaction: The delivery's transaction so far (its idempotency claim).
    ///   - submit: Receives the numbered events (all of them: the reconciler does its own ordering too), the
    ///     transaction, and whether any event became its reservation's latest (false: every one is older than the
    ///     booking already received, so the delivery changes nothing); it may change the transaction's claim and
    ///     must only queue the transaction (`Store.commit`). A completion it triggers at once may call
    ///     ``revert(_:store:)``.
    package func record(
        _ events: [BookingEvent], into transaction: Transaction,
        submit: (_ numbered: [StoredBooking], _ transaction: Transaction, _ changesABooking: Bool) -> Void
    ) {
        // What does not depend on the sequence number is made before taking the locks, which the listener
        // threads share: the keys and the events' JSON.
        let keys = events.map { StoreKeys.booking(source: $0.source, reservationID: $0.reservationID) }
        let eventJSON = events.map(StoredBooking.eventJSON)
        submission.withLock { _ in
            var transaction = transaction
            var changesABooking = false
            let numbered = state.withLock { state in
                events.indices.map { index in
                    let booking = StoredBooking(event: events[index], sequence: state.nextSequence)
                    state.nextSequence += 1
                    let isLatest = state.latest[keys[index], default: .placeholder].replace(
                        ifSupersededBy: booking.version)
                    if isLatest {
                        changesABooking = true
                        transaction.put(
                            StoredBooking.encoded(event: eventJSON[index], sequence: booking.sequence),
                            forKey: keys[index])
                    }
                    return booking
                }
            }
            submit(numbered, transaction, changesABooking)
        }
    }

    /// Drops the stored booking of each reservation the reconciler forgot, unless a newer booking of it was
    /// received meanwhile (its sequence differs): one journal transaction of deletes, submitted in order with
    /// every delivery's puts, so a delivery numbered after this call is never deleted by it.
    /// - Parameters:
    ///   - forgotten: What ``Reconciler/forgetReservations(endedBefore:)`` returned.
    ///   - store: The journal.
    ///   - completion: The commit's result and how many bookings it deleted (called on the journal's writer
    ///     thread; at once, with 0, when there was nothing to delete).
    package func forget(
        _ forgotten: [Reconciler.ForgottenReservation], store: any DurableStore,
        completion: @escaping @Sendable (Result<Int, StoreError>) -> Void
    ) {
        submission.withLock { _ in
            var transaction = Transaction()
            var count = 0
            state.withLock { state in
                for reservation in forgotten {
                    let key = StoreKeys.booking(
                        source: reservation.key.source, reservationID: reservation.key.reservationID)
                    guard state.latest[key]?.receivedSequence == reservation.receivedSequence else { continue }
                    state.latest[key] = nil
                    transaction.delete(key: key)
                    count += 1
                }
            }
            guard count > 0 else { return completion(.success(0)) }
            store.commit(transaction) { [count] result in completion(result.map { _ in count }) }
        }
    }

    /// After a failed or duplicate commit, forgets the optimistic updates of `events` by re-reading the store.
    ///
    /// When the store cannot be read either (PostgreSQL away), the reservation's version becomes the failed event's
    /// `updatedAt` with receipt sequence 0: the same event sent again (the sender got a 503) and any newer one are
    /// written, an older one is not (it could overwrite a newer stored booking). An event between the stored one and
    /// the failed one is then ignored, which loses nothing once the failed one is sent again.
    package func revert(_ events: [BookingEvent], store: any DurableStore) {
        state.withLock { state in
            for event in events {
                let key = StoreKeys.booking(source: event.source, reservationID: event.reservationID)
                do throws(StoreError) {
                    state.latest[key] = try store.value(forKey: key).flatMap(StoredBooking.decode)?.version
                } catch {
                    state.latest[key] = BookingVersion(updatedAt: event.updatedAt, receivedSequence: 0)
                }
            }
        }
    }
}

extension BookingVersion {
    /// What a reservation the ledger has not seen starts from: sequence 0 with no `updatedAt`, superseded by every
    /// real version (real sequences start at 1).
    fileprivate static let placeholder = BookingVersion(updatedAt: nil, receivedSequence: 0)

    /// Becomes `candidate` if it supersedes this version (``supersedes(_:)``); says whether it did. In place, so the
    /// ledger's map is looked up once per event.
    fileprivate mutating func replace(ifSupersededBy candidate: BookingVersion) -> Bool {
        guard candidate.supersedes(self) else { return false }
        self = candidate
        return true
    }
}
