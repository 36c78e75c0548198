import Bookings
import Foundation
import Store
import Synchronization
import Testing

@testable import Intake

/// A store that cannot be read (PostgreSQL away): every read throws, commits are refused.
private final class UnreadableStore: DurableStore {
    var backendName: String { "unreadable" }
    func commit(_ transaction: Transaction, completion: @escaping @Sendable (Result<CommitOutcome, StoreError>) -> Void)
    {
        completion(.failure(StoreError(.unavailable, "away")))
    }
    func value(forKey key: String) throws(StoreError) -> [UInt8]? { throw StoreError(.unavailable, "away") }
    func entries(withPrefix prefix: String) throws(StoreError) -> [(key: String, value: [UInt8])] { [] }
    func idempotencyResponse(forKey key: String) -> [UInt8]? { nil }
    var isWritable: Bool { false }
    func stats() -> StoreStats { StoreStats() }
    func close() {}
}

/// After a failed commit that cannot be re-read, the ledger keeps the failed event's `updated_at` as a floor.
@Suite struct LedgerRevertTests {
    @Test func anUnreadableStoreKeepsOlderEventsOutAndLetsTheSameOneAgainIn() throws {
        let store = UnreadableStore()
        let ledger = try BookingLedger(store: store)
        let key = StoreKeys.booking(source: "native", reservationID: "r1")
        _ = BookingLedgerTests.record([BookingLedgerTests.event("r1", updatedAt: 100)], in: ledger)
        let failed = BookingLedgerTests.event("r1", updatedAt: 300)
        let numbered = BookingLedgerTests.record([failed], in: ledger).numbered
        ledger.revert(numbered, store: store)

        let older = BookingLedgerTests.record([BookingLedgerTests.event("r1", updatedAt: 200)], in: ledger)
        #expect(older.puts[key] == nil, "an event older than the failed one must not be written over what is stored")
        let again = BookingLedgerTests.record([failed], in: ledger)
        #expect(again.puts[key] != nil, "the failed event, sent again, is written")
    }

    @Test func aSharedStoreGetsOrderedAnnouncedPutsNumberedUniquelyPerInstance_AndARevertLeavesTheOrderToTheStore()
        throws
    {
        let store = UnreadableStore()
        let clock = Mutex<UInt64>(1_000)
        let ledger = try BookingLedger(
            store: store, sequencing: .shared(slot: 7, announces: { true }), microseconds: { clock.withLock { $0 } })
        let key = StoreKeys.booking(source: "native", reservationID: "r1")
        var transactions: [Transaction] = []
        var numbered: [StoredBooking] = []
        for updatedAt in [100.0, 300] {
            ledger.record([BookingLedgerTests.event("r1", updatedAt: updatedAt)], into: Transaction()) {
                bookings, transaction, _ in
                transactions.append(transaction)
                numbered += bookings
            }
        }
        // The holder of the work lease announces nothing: its booking feed hands its bookings over.
        let holder = try BookingLedger(store: store, sequencing: .shared(slot: 1, announces: { false }))
        holder.record([BookingLedgerTests.event("r1", updatedAt: 100)], into: Transaction()) { _, transaction, _ in
            #expect(transaction.announcements.isEmpty && transaction.orders[key] != nil)
        }
        // The clock stands still: the second number is the next one, both carry the instance's slot.
        #expect(numbered.map(\.sequence) == [1_000 << 8 | 7, 1_001 << 8 | 7])
        #expect(transactions.map(\.announcements) == [[key], [key]])
        #expect(
            transactions[1].orders[key]
                == EntryOrder(
                    time: Date(timeIntervalSince1970: 300).timeIntervalSinceReferenceDate,
                    sequence: Int64(1_001 << 8 | 7)))
        clock.withLock { $0 = 5_000 }
        ledger.record([BookingLedgerTests.event("r2", updatedAt: 1)], into: Transaction()) { bookings, _, _ in
            numbered += bookings
        }
        #expect(numbered.last?.sequence == 5_000 << 8 | 7)

        // The commit of the later one failed: the ledger does not read the database (it decides by order), so
        // an older event is put again and the store keeps whichever is later.
        ledger.revert([numbered[1]], store: store)
        let older = BookingLedgerTests.record([BookingLedgerTests.event("r1", updatedAt: 200)], in: ledger)
        #expect(older.puts[key] != nil)
    }

    @Test func theStoresOrderDecidesAsTheBookingOrderDoes() {
        let times: [Date?] = [nil, Date(timeIntervalSince1970: 100), Date(timeIntervalSince1970: 200)]
        let versions = times.flatMap { time in [1, 2].map { BookingVersion(updatedAt: time, receivedSequence: $0) } }
        for a in versions {
            for b in versions {
                #expect(a.entryOrder.supersedes(b.entryOrder) == a.supersedes(b), "\(a) over \(b)")
            }
        }
    }
}
