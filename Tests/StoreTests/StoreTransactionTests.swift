import Dispatch
import Foundation
import LatchkeyTestSupport
import Store
import Synchronization
import Testing

@Suite("Store transactions and idempotency")
struct StoreTransactionTests {
    // Puts and deletes, a repeated claim and concurrent claims of one key: StoreContractTests, on every backend.

    @Test func theLaterOfTwoBackToBackClaimsIsTheDuplicate() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        defer { store.close() }
        // Submitted back to back without waiting: usually one group, and the outcome is the same either way.
        let results = Mutex<[Int: CommitOutcome]>([:])
        let done = DispatchGroup()
        for i in 0..<2 {
            done.enter()
            var t = Transaction()
            t.claim("delivery/same", response: bytes("first-\(i)"))
            t.put(bytes("\(i)"), forKey: "order/\(i)")
            store.commit(t) { result in
                results.withLock { $0[i] = try? result.get() }
                done.leave()
            }
        }
        done.wait()
        let outcomes = results.withLock { $0 }
        #expect(outcomes[0] == .committed)
        #expect(outcomes[1] == .duplicate(originalResponse: bytes("first-0")))
        #expect(store.value(forKey: "order/1") == nil)
    }

    @Test func anExpiredClaimCanBeClaimedAgain() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let store = try openStore(at: dir.data, configuration: configuration(clock: clock), logger: quietLogger)
        defer { store.close() }
        var t = Transaction()
        t.claim("delivery/short", response: bytes("a"), retention: .seconds(60))
        #expect(try await store.commit(t) == .committed)
        clock.advance(by: 59)
        #expect(try await store.commit(t) == .duplicate(originalResponse: bytes("a")))
        clock.advance(by: 2)
        #expect(store.idempotencyResponse(forKey: "delivery/short") == nil)
        t.claim("delivery/short", response: bytes("b"), retention: .seconds(60))
        #expect(try await store.commit(t) == .committed)
        #expect(store.idempotencyResponse(forKey: "delivery/short") == bytes("b"))
    }

    @Test func theDefaultRetentionIsSevenDaysAndConfigurable() async throws {
        #expect(StoreConfiguration().idempotencyRetention == .seconds(7 * 24 * 3600))
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let store = try openStore(
            at: dir.data, configuration: configuration(clock: clock) { $0.idempotencyRetention = .seconds(3600) },
            logger: quietLogger)
        defer { store.close() }
        _ = try await store.commit(claimAndPut("delivery/r", entry: "e", value: "v"))
        clock.advance(by: 3599)
        #expect(store.idempotencyResponse(forKey: "delivery/r") != nil)
        clock.advance(by: 1)
        #expect(store.idempotencyResponse(forKey: "delivery/r") == nil)
    }

    @Test func entriesWithPrefixAreFilteredAndSorted() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        defer { store.close() }
        var t = Transaction()
        for key in ["outbox/3", "reservation/guesty/1", "outbox/1", "outbox/2"] { t.put(bytes(key), forKey: key) }
        _ = try await store.commit(t)
        let found = store.entries(withPrefix: "outbox/")
        #expect(found.map(\.key) == ["outbox/1", "outbox/2", "outbox/3"])
        #expect(found.map(\.value) == [bytes("outbox/1"), bytes("outbox/2"), bytes("outbox/3")])
    }

    @Test func anOversizedTransactionIsRejectedWithoutBeingWritten() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try openStore(
            at: dir.data, configuration: configuration { $0.maxRecordBytes = 1024 }, logger: quietLogger)
        defer { store.close() }
        var t = Transaction()
        t.put([UInt8](repeating: 7, count: 2000), forKey: "big")
        await #expect { try await store.commit(t) } throws: { ($0 as? StoreError)?.code == .invalidTransaction }
        #expect(store.value(forKey: "big") == nil)
        #expect(store.stats().journalBytes == 0)
    }

    @Test func commitsAfterCloseFailWithClosed() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        store.close()
        store.close()
        await #expect { try await store.commit(Transaction()) } throws: { ($0 as? StoreError)?.code == .closed }
    }

    @Test func concurrentCommitsShareFsyncs() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        defer { store.close() }
        let count = 300
        let committed = Atomic<Int>(0)
        let done = DispatchGroup()
        for i in 0..<count {
            done.enter()
            store.commit(claimAndPut("delivery/\(i)", entry: "k/\(i)", value: "v")) { result in
                if case .success(.committed) = result { committed.add(1, ordering: .relaxed) }
                done.leave()
            }
        }
        done.wait()
        let stats = store.stats()
        #expect(committed.load(ordering: .relaxed) == count)
        #expect(stats.transactionsCommitted == count)
        #expect(stats.journalSyncs < count / 2, "group commit should share syncs: \(stats.journalSyncs) for \(count)")
        #expect(stats.journalSyncs == stats.batchesWritten)
    }
}
