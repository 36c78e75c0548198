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
        _ = BookingLedgerTests.record([failed], in: ledger)
        ledger.revert([failed], store: store)

        let older = BookingLedgerTests.record([BookingLedgerTests.event("r1", updatedAt: 200)], in: ledger)
        #expect(older.puts[key] == nil, "an event older than the failed one must not be written over what is stored")
        let again = BookingLedgerTests.record([failed], in: ledger)
        #expect(again.puts[key] != nil, "the failed event, sent again, is written")
    }
}
