import Bookings
import Foundation
import LatchkeyTestSupport
import Logging
import Reconciler
import Store
import Testing

@testable import Intake

/// The ledger decides which event becomes a reservation's stored booking: a later `updated_at` wins, equal or
/// missing ones go by receipt order; every event is numbered; only winners are put in the transaction.
@Suite struct BookingLedgerTests {
    static func event(_ reservation: String, updatedAt: TimeInterval?, guest: String = "Ada") -> BookingEvent {
        BookingEvent(
            source: "native", reservationID: reservation, listingID: "l1", status: .confirmed,
            checkIn: nil, checkOut: nil, guestName: guest, guestPhone: nil,
            updatedAt: updatedAt.map { Date(timeIntervalSince1970: $0) })
    }

    /// Records `events` as one delivery; returns the numbered bookings and the puts of its transaction.
    static func record(_ events: [BookingEvent], in ledger: BookingLedger) -> (
        numbered: [StoredBooking], puts: [String: [UInt8]], changesABooking: Bool
    ) {
        var result: ([StoredBooking], [String: [UInt8]], Bool) = ([], [:], false)
        ledger.record(events, into: Transaction()) { numbered, transaction, changesABooking in
            var puts: [String: [UInt8]] = [:]
            for case .put(let key, let value) in transaction.operations { puts[key] = value }
            result = (numbered, puts, changesABooking)
        }
        return result
    }

    @Test func laterUpdatesWin_OlderOnesAreNumberedButNotStored_AndWithoutUpdatedAtReceiptOrderDecides() throws {
        let directory = TemporaryDirectory(prefix: "ledger")
        defer { directory.remove() }
        let store = try Store.open(
            at: directory.path, configuration: StoreConfiguration(), logger: .init(label: "ledger-test"))
        defer { store.close() }
        let ledger = try BookingLedger(store: store)
        let key = StoreKeys.booking(source: "native", reservationID: "r1")

        let first = Self.record([Self.event("r1", updatedAt: 200)], in: ledger)
        #expect(first.numbered.map(\.sequence) == [1])
        #expect(first.puts[key] == first.numbered[0].encoded())
        #expect(first.changesABooking)

        let older = Self.record([Self.event("r1", updatedAt: 100, guest: "Old")], in: ledger)
        #expect(older.numbered.map(\.sequence) == [2])
        #expect(older.puts.isEmpty, "an older updated_at must not replace the stored booking")
        #expect(!older.changesABooking, "a delivery of only older bookings changes nothing (answered 200 ignored)")

        let newer = Self.record(
            [Self.event("r1", updatedAt: 300, guest: "New"), Self.event("r2", updatedAt: nil)], in: ledger)
        #expect(newer.numbered.map(\.sequence) == [3, 4])
        #expect(newer.changesABooking)
        #expect(newer.puts[key] == newer.numbered[0].encoded())
        #expect(newer.puts[StoreKeys.booking(source: "native", reservationID: "r2")] == newer.numbered[1].encoded())

        let sameTime = Self.record([Self.event("r1", updatedAt: 300, guest: "Same time, later")], in: ledger)
        #expect(sameTime.puts[key] == sameTime.numbered[0].encoded(), "equal updated_at: the later receipt wins")
        let undated = Self.record([Self.event("r2", updatedAt: nil, guest: "Later")], in: ledger)
        #expect(undated.puts.count == 1, "no updated_at: the later receipt wins")
        #expect(StoredBooking.decode(undated.puts.values.first ?? [])?.event.guestName == "Later")
    }

    @Test func forgettingDeletesTheStoredBooking_UnlessANewerOneArrivedMeanwhile() async throws {
        let directory = TemporaryDirectory(prefix: "ledger")
        defer { directory.remove() }
        let store = try Store.open(
            at: directory.path, configuration: StoreConfiguration(), logger: .init(label: "ledger-test"))
        defer { store.close() }
        let ledger = try BookingLedger(store: store)
        func commit(_ events: [BookingEvent]) async throws -> [StoredBooking] {
            let (numbered, puts, _) = Self.record(events, in: ledger)
            var transaction = Transaction()
            for (key, value) in puts { transaction.put(value, forKey: key) }
            _ = try await store.commit(transaction)
            return numbered
        }
        func forget(_ id: String, _ sequence: UInt64) async throws -> Int {
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<Int, any Error>) in
                ledger.forget(
                    [
                        Reconciler.ForgottenReservation(
                            key: ReservationKey(source: "native", reservationID: id), receivedSequence: sequence)
                    ],
                    store: store
                ) { done.resume(with: $0.mapError { $0 as any Error }) }
            }
        }
        let r1 = try await commit([Self.event("r1", updatedAt: 100)])[0]
        let r2 = try await commit([Self.event("r2", updatedAt: 100)])[0]
        let newer = try await commit([Self.event("r2", updatedAt: 200, guest: "Newer")])[0]

        #expect(try await forget("r1", r1.sequence) == 1)
        #expect(store.value(forKey: StoreKeys.booking(source: "native", reservationID: "r1")) == nil)
        #expect(
            try await forget("r2", r2.sequence) == 0, "r2 was forgotten as of an older booking: the newer one stays")
        let kept = try #require(
            store.value(forKey: StoreKeys.booking(source: "native", reservationID: "r2")).flatMap(StoredBooking.decode))
        #expect(kept.sequence == newer.sequence)
        #expect(try BookingLedger(store: store).takeStoredBookings().map(\.event.reservationID) == ["r2"])
    }
}
