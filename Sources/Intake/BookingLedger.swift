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
    /// How receipt sequence numbers are made.
    package enum Sequencing: Sendable {
        /// One process numbers every delivery: 1, 2, 3, … (the journal).
        case local
        /// Several instances share the store (PostgreSQL): a number is the wall clock in microseconds (or one more
        /// than the last, whichever is higher) shifted left by 8 bits, with this instance's `slot` in those bits, so
        /// numbers are unique across instances and follow receipt order across them as closely as their clocks
        /// agree (two deliveries of one reservation on two instances within the clocks' skew are concurrent: either
        /// order is right). The store keeps the later booking whichever instance wrote last (``EntryOrder``), and
        /// a booking put is announced to the instance holding the work lease while `announces` says so (true on an
        /// instance whose own reconciler does not take it through the booking feed).
        case shared(slot: UInt8, announces: @Sendable () -> Bool)
    }

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

    private let sequencing: Sequencing
    /// The wall clock in microseconds since the Unix epoch (``Sequencing/shared(slot:announces:)``).
    private let microseconds: @Sendable () -> UInt64

    /// Loads every stored booking from `store`.
    /// - Parameters:
    ///   - store: The journal or PostgreSQL.
    ///   - sequencing: How deliveries are numbered; default ``Sequencing/local``.
    ///   - microseconds: The wall clock for ``Sequencing/shared(slot:announces:)``; default the system's.
    /// - Throws: ``StoreError`` when the stored bookings cannot be read.
    package init(
        store: any DurableStore, sequencing: Sequencing = .local,
        microseconds: @escaping @Sendable () -> UInt64 = BookingLedger.systemMicroseconds
    ) throws(StoreError) {
        self.sequencing = sequencing
        self.microseconds = microseconds
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

    /// The system's wall clock in microseconds since the Unix epoch.
    package static let systemMicroseconds: @Sendable () -> UInt64 = {
        UInt64(max(0, Date().timeIntervalSince1970 * 1_000_000))
    }

    /// The next receipt sequence number (see ``Sequencing``); under the state's lock.
    private func takeSequence(_ state: inout State) -> UInt64 {
        switch sequencing {
        case .local:
            defer { state.nextSequence += 1 }
            return state.nextSequence
        case .shared(let slot, _):
            // The least clock value whose number is at least `nextSequence`, or the clock's, whichever is higher.
            let clock = max((state.nextSequence + 0xFF) >> 8, microseconds())
            state.nextSequence = (clock + 1) << 8
            return clock << 8 | UInt64(slot)
        }
    }

    /// Whether the store is shared with other instances.
    private var isShared: Bool {
        if case .shared = sequencing { return true }
        return false
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
                    let booking = StoredBooking(event: events[index], sequence: takeSequence(&state))
                    let isLatest = state.latest[keys[index], default: .placeholder].replace(
                        ifSupersededBy: booking.version)
                    if isLatest {
                        changesABooking = true
                        let value = StoredBooking.encoded(event: eventJSON[index], sequence: booking.sequence)
                        if case .shared(_, let announces) = sequencing {
                            transaction.put(value, forKey: keys[index], order: booking.version.entryOrder)
                            if announces() { transaction.announce(keys[index]) }
                        } else {
                            transaction.put(value, forKey: keys[index])
                        }
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
                    if isShared {
                        // Another instance may have stored a newer booking this one never saw: the store deletes
                        // only the booking of this sequence.
                        if state.latest[key]?.receivedSequence == reservation.receivedSequence {
                            state.latest[key] = nil
                        }
                        transaction.delete(
                            key: key, ifOrderIs: EntryOrder(time: nil, sequence: Int64(reservation.receivedSequence)))
                        transaction.requiresWorkLease = true
                    } else {
                        guard state.latest[key]?.receivedSequence == reservation.receivedSequence else { continue }
                        state.latest[key] = nil
                        transaction.delete(key: key)
                    }
                    count += 1
                }
            }
            guard count > 0 else { return completion(.success(0)) }
            store.commit(transaction) { [count] result in completion(result.map { _ in count }) }
        }
    }

    /// After a failed or duplicate commit, forgets the optimistic updates of `numbered` (what ``record(_:into:submit:)``
    /// numbered).
    ///
    /// The journal (in memory, never blocks) is read again for each reservation. A shared store is not read (this
    /// runs on the thread that completed the commit, and the database decides which booking is later anyway): a
    /// reservation whose latest version is still the failed one is forgotten, so its next delivery is put and the
    /// store keeps whichever is later.
    package func revert(_ numbered: [StoredBooking], store: any DurableStore) {
        state.withLock { state in
            for booking in numbered {
                let key = StoreKeys.booking(source: booking.event.source, reservationID: booking.event.reservationID)
                if isShared {
                    if state.latest[key] == booking.version { state.latest[key] = nil }
                    continue
                }
                do throws(StoreError) {
                    state.latest[key] = try store.value(forKey: key).flatMap(StoredBooking.decode)?.version
                } catch {
                    state.latest[key] = BookingVersion(
                        updatedAt: booking.event.updatedAt, receivedSequence: 0)
                }
            }
        }
    }
}

extension BookingVersion {
    /// The store's order of a booking of this version (the same rule: ``BookingVersion/supersedes(_:)``).
    var entryOrder: EntryOrder {
        EntryOrder(time: updatedAt?.timeIntervalSinceReferenceDate, sequence: Int64(bitPattern: receivedSequence))
    }

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
