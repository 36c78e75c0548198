import Dispatch
import Foundation
import Glibc
import LatchkeyTestSupport
import Store
import Synchronization
import SystemCalls
import Testing

/// Watches snapshot writes through the fault hook: counts them, and can hold the first one (on the thread that
/// writes it) until ``open()`` is called.
private final class SnapshotGate: Sendable {
    /// Signalled when the first snapshot write reaches the hook.
    let entered = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    private let holdsFirst: Bool
    private let count = Mutex(0)
    private let syncFailure = Mutex<Int32?>(nil)

    init(holdingTheFirst: Bool) { holdsFirst = holdingTheFirst }

    /// Snapshot writes attempted so far.
    var attempts: Int { count.withLock { $0 } }

    /// Lets the held snapshot write go on (safe to call more than once).
    func open() { released.signal() }

    /// Makes the next journal `fdatasync` fail with `errno`.
    func failNextSync(errno: Int32) { syncFailure.withLock { $0 = errno } }

    /// The hook to put in the configuration.
    var injection: FaultInjection {
        FaultInjection { point in
            if point == .journalSync { return self.syncFailure.withLock { $0.take() } }
            guard point == .snapshotWrite else { return nil }
            let attempt = self.count.withLock {
                $0 += 1
                return $0
            }
            if attempt == 1 {
                self.entered.signal()
                if self.holdsFirst { self.released.wait() }
            }
            return nil
        }
    }
}

/// Commits and waits for the outcome, at most `seconds`; nil if it did not complete in time (or failed).
private func commitWaiting(_ store: Store, _ transaction: Transaction, seconds: Double = 10) -> CommitOutcome? {
    let done = DispatchSemaphore(value: 0)
    let result = Mutex<CommitOutcome?>(nil)
    store.commit(transaction) { outcome in
        result.withLock { $0 = try? outcome.get() }
        done.signal()
    }
    guard done.wait(timeout: .now() + seconds) == .success else { return nil }
    return result.withLock { $0 }
}

/// Commits `before/i` (claim `delivery/before/i`, ~100-byte value) one at a time until the first snapshot write
/// reaches the gate; returns how many were committed.
private func commitUntilACompactionStarts(_ store: Store, gate: SnapshotGate) throws -> Int {
    var count = 0
    while gate.entered.wait(timeout: .now()) != .success {
        try #require(count < 500, "no automatic compaction started")
        let t = claimAndPut(
            "delivery/before/\(count)", entry: "before/\(count)", value: String(repeating: "x", count: 100))
        try #require(commitWaiting(store, t) == .committed, "commit \(count) before the compaction")
        count += 1
    }
    return count
}

/// The segment files in a data directory's journal, by number.
private func segmentNumbers(_ data: String) throws -> [Int] {
    try FileManager.default.contentsOfDirectory(atPath: data + "/journal").compactMap { Int($0.prefix(8)) }.sorted()
}

/// A small threshold and segments, so a few commits start an automatic compaction.
private func smallJournal(_ clock: TestClock? = nil, gate: SnapshotGate) -> StoreConfiguration {
    configuration(clock: clock) {
        $0.compactionThresholdBytes = 2048
        $0.segmentSizeLimitBytes = 1024
        $0.faults = gate.injection
    }
}

/// A store whose first automatic compaction is held in flight at its snapshot write, with `last` = `1`
/// committed after the compaction started.
private struct HeldCompaction {
    let dir = TemporaryDirectory()
    let gate = SnapshotGate(holdingTheFirst: true)
    let config: StoreConfiguration
    let store: Store
    /// The `before/i` entries committed until the compaction started.
    let before: Int

    init() throws {
        config = smallJournal(gate: gate)
        store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        before = try commitUntilACompactionStarts(store, gate: gate)
        try #require(commitWaiting(store, claimAndPut("delivery/last", entry: "last", value: "1")) == .committed)
    }

    /// Runs `body` on another thread and checks that it waits while the snapshot write is held and returns
    /// once it is released.
    func expectToWaitForTheCompaction(_ what: String, _ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            body()
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 0.3) == .timedOut, "\(what) went on with the snapshot write in flight")
        gate.open()
        #expect(done.wait(timeout: .now() + 10) == .success, "\(what) did not finish")
    }

    /// Releases the compaction, closes the store and removes the directory.
    func tearDown() {
        gate.open()
        store.close()
        dir.remove()
    }
}

@Suite("Store background compaction")
struct StoreCompactionTests {
    @Test func commitsCompleteWhileABackgroundCompactionIsInFlightAndItsSegmentsGoOnceItFinishes() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let gate = SnapshotGate(holdingTheFirst: true)
        let config = smallJournal(clock, gate: gate)
        var store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        defer {
            gate.open()
            store.close()
        }
        for i in 0..<5 {
            var t = Transaction()
            t.claim("delivery/short/\(i)", response: bytes("s\(i)"), retention: .seconds(100))
            t.put(bytes("s\(i)"), forKey: "short/\(i)")
            #expect(commitWaiting(store, t) == .committed)
        }
        clock.advance(by: 101)
        let before = try commitUntilACompactionStarts(store, gate: gate)

        // The snapshot write is held on the compactor thread: commits still complete, into the new segment.
        for i in 0..<20 {
            let t = claimAndPut("delivery/during/\(i)", entry: "during/\(i)", value: "d\(i)")
            #expect(commitWaiting(store, t) == .committed, "commit \(i) during the compaction")
        }
        #expect(store.value(forKey: "during/19") == bytes("d19"))
        #expect(store.stats().compactions == 0)
        #expect(store.stats().idempotencyKeyCount == 5 + before + 20)
        #expect(try segmentNumbers(dir.data).first == 1, "segments stay until the snapshot is installed")

        gate.open()
        try store.waitForBackgroundCompaction()
        let stats = store.stats()
        #expect(stats.compactions == 1)
        #expect(stats.entryCount == 5 + before + 20)
        // The expired claims left the live state too; the claims committed during the compaction did not.
        #expect(stats.idempotencyKeyCount == before + 20)
        #expect(store.idempotencyResponse(forKey: "delivery/during/0") == bytes("resp-delivery/during/0"))
        let report = Store.verify(at: dir.data, configuration: config)
        let replayFrom = try #require(report.snapshot?.replayFrom)
        #expect(replayFrom > 1)
        #expect(report.obsoleteSegments.isEmpty)
        #expect(try segmentNumbers(dir.data).allSatisfy { $0 >= replayFrom }, "covered segments removed")
        #expect(stats.journalBytes == report.segments.reduce(0) { $0 + $1.validBytes })
        store.close()

        // Everything committed before, during and after the copy is there after a reopen.
        store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        for i in 0..<5 {
            #expect(store.value(forKey: "short/\(i)") == bytes("s\(i)"))
            #expect(store.idempotencyResponse(forKey: "delivery/short/\(i)") == nil)
        }
        for i in 0..<before {
            #expect(store.value(forKey: "before/\(i)") == bytes(String(repeating: "x", count: 100)))
            #expect(store.idempotencyResponse(forKey: "delivery/before/\(i)") == bytes("resp-delivery/before/\(i)"))
        }
        for i in 0..<20 {
            #expect(store.value(forKey: "during/\(i)") == bytes("d\(i)"))
            #expect(store.idempotencyResponse(forKey: "delivery/during/\(i)") == bytes("resp-delivery/during/\(i)"))
        }
        #expect(store.stats().idempotencyKeyCount == before + 20)
    }

    @Test func aFailedBackgroundSnapshotKeepsTheStoreWritableAndIsRetriedOnlyAfterTheJournalGrows() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let gate = SnapshotGate(holdingTheFirst: false)
        let config = smallJournal(gate: gate)
        let log = LogCapture()
        var store = try openStore(at: dir.data, configuration: config, logger: log.logger)
        defer { store.close() }
        // A directory where the snapshot goes makes the snapshot's rename fail.
        let blocker = dir.data + "/snapshot/blocker"
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: true)
        // Waiting for each compaction after each commit makes the journal's size at the failure exact.
        var before = 0
        while gate.attempts == 0 {
            let t = claimAndPut(
                "delivery/before/\(before)", entry: "before/\(before)", value: String(repeating: "x", count: 100))
            try #require(commitWaiting(store, t) == .committed)
            try store.waitForBackgroundCompaction()
            before += 1
            try #require(before < 500)
        }
        #expect(store.stats().compactions == 0)
        #expect(log.messages.contains { $0.contains("automatic compaction failed") })
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir.data).allSatisfy { !$0.hasPrefix("snapshot.tmp") })
        #expect(try segmentNumbers(dir.data).first == 1, "the journal stays the truth")

        // Each commit is one batch; no retry until the journal has grown by a quarter of the threshold.
        let failedAt = store.stats().journalBytes
        var after = 0
        while store.stats().journalBytes <= failedAt + 2048 / 4 {
            #expect(gate.attempts == 1, "retried after \(after) commits")
            #expect(store.isWritable)
            try #require(
                commitWaiting(store, claimAndPut("delivery/after/\(after)", entry: "after/\(after)", value: "a"))
                    == .committed)
            try store.waitForBackgroundCompaction()
            after += 1
            try #require(after < 100)
        }
        #expect(after >= 2)
        #expect(gate.attempts == 2)
        #expect(store.stats().compactions == 0, "the directory still blocks the snapshot")

        // Once the snapshot can be written, the next retry succeeds.
        try FileManager.default.removeItem(atPath: dir.data + "/snapshot")
        while store.stats().compactions == 0 {
            try #require(
                commitWaiting(store, claimAndPut("delivery/after/\(after)", entry: "after/\(after)", value: "a"))
                    == .committed)
            try store.waitForBackgroundCompaction()
            after += 1
            try #require(after < 200)
        }
        #expect(gate.attempts == 3)
        store.close()

        store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        #expect(store.entries(withPrefix: "before/").count == before)
        #expect(store.entries(withPrefix: "after/").count == after)
        for i in 0..<after {
            #expect(store.idempotencyResponse(forKey: "delivery/after/\(i)") == bytes("resp-delivery/after/\(i)"))
        }
    }

    @Test func closeDuringABackgroundCompactionWaitsForItAndFinishesIt() throws {
        let held = try HeldCompaction()
        defer { held.tearDown() }
        held.expectToWaitForTheCompaction("close()") { held.store.close() }
        #expect(held.store.stats().compactions == 1)
        let report = Store.verify(at: held.dir.data, configuration: held.config)
        #expect(report.isHealthy)
        #expect(report.obsoleteSegments.isEmpty, "close removed the covered segments")
        #expect((report.snapshot?.replayFrom ?? 0) > 1)

        let reopened = try openStore(at: held.dir.data, configuration: held.config, logger: quietLogger)
        defer { reopened.close() }
        #expect(reopened.entries(withPrefix: "before/").count == held.before)
        #expect(reopened.value(forKey: "last") == bytes("1"))
    }

    @Test func anExplicitCompactionWaitsForTheOneInFlightThenCompactsAgain() throws {
        let held = try HeldCompaction()
        defer { held.tearDown() }
        let failure = Mutex<StoreError?>(nil)
        held.expectToWaitForTheCompaction("compact()") {
            do throws(StoreError) { try held.store.compact() } catch { failure.withLock { $0 = error } }
        }
        #expect(failure.withLock { $0 } == nil)
        let stats = held.store.stats()
        #expect(stats.compactions == 2)
        #expect(stats.journalBytes == 0)
        #expect(try segmentNumbers(held.dir.data).count == 1)
        #expect(held.store.entries(withPrefix: "before/").count == held.before)
        #expect(Store.verify(at: held.dir.data, configuration: held.config).entryCount == held.before + 1)
    }

    @Test func aFailedWriteDuringABackgroundCompactionRecoversAfterItFinishes() throws {
        let held = try HeldCompaction()
        defer { held.tearDown() }
        // The failed sync makes the writer reload from disk, which first waits for the snapshot write.
        held.gate.failNextSync(errno: EIO)
        let failedWithEIO = Mutex(false)
        held.expectToWaitForTheCompaction("recovery") {
            let failed = DispatchSemaphore(value: 0)
            held.store.commit(claimAndPut("delivery/lost", entry: "lost", value: "1")) { outcome in
                if case .failure(let error) = outcome { failedWithEIO.withLock { $0 = error.errno == Errno(EIO) } }
                failed.signal()
            }
            failed.wait()
        }
        #expect(failedWithEIO.withLock { $0 })
        #expect(commitWaiting(held.store, claimAndPut("delivery/lost", entry: "lost", value: "2")) == .committed)
        #expect(held.store.isWritable)
        #expect(held.store.stats().compactions == 1)
        #expect(held.store.entries(withPrefix: "before/").count == held.before)
        held.store.close()

        let reopened = try openStore(at: held.dir.data, configuration: held.config, logger: quietLogger)
        defer { reopened.close() }
        #expect(reopened.entries(withPrefix: "before/").count == held.before)
        #expect(reopened.value(forKey: "last") == bytes("1"))
        #expect(reopened.value(forKey: "lost") == bytes("2"))
        #expect(Store.verify(at: held.dir.data, configuration: held.config).obsoleteSegments.isEmpty)
    }
}
