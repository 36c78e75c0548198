import Dispatch
import Foundation
import Glibc
import LatchkeyTestSupport
import Store
import Synchronization
import SystemCalls
import Testing

/// Makes the next operation at a point fail once with an errno.
private final class FaultSwitch: Sendable {
    private let armed = Mutex<[FaultPoint: Int32]>([:])
    func failNext(_ point: FaultPoint, errno: Int32) { armed.withLock { $0[point] = errno } }
    var injection: FaultInjection {
        FaultInjection { point in self.armed.withLock { $0.removeValue(forKey: point) } }
    }
}

@Suite("Store files, locking and failures")
struct StoreFailureTests {
    @Test func aSecondOpenOfTheSameDirectoryFailsWithLockedNamingTheDirectory() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let first = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        #expect { try Store.open(at: dir.data, configuration: configuration(), logger: quietLogger) } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .locked && error.message.contains(dir.data)
                && error.message.contains("pid \(getpid())")
        }
        first.close()
        let second = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        second.close()
    }

    @Test func filesAre0600AndDirectories0700() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await writeCompactedStore(at: dir.data)
        #expect(permissions(dir.data) == 0o700)
        #expect(permissions(dir.data + "/journal") == 0o700)
        #expect(permissions(dir.data + "/LOCK") == 0o600)
        #expect(permissions(dir.data + "/snapshot") == 0o600)
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.data + "/journal") {
            #expect(permissions(dir.data + "/journal/" + name) == 0o600)
        }
    }

    @Test func anExistingDirectoryOpenToOthersIsTightenedTo0700() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        #expect(mkdir(dir.data, 0o755) == 0 && chmod(dir.data, 0o755) == 0)
        let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        store.close()
        #expect(permissions(dir.data) == 0o700)
    }

    @Test func aFailedSyncFailsTheWholeBatchAndTheStoreRecovers() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = FaultSwitch()
        let config = configuration { $0.faults = faults.injection }
        var store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        #expect(try await store.commit(claimAndPut("delivery/before", entry: "before", value: "1")) == .committed)
        faults.failNext(.journalSync, errno: EIO)
        await #expect { try await store.commit(claimAndPut("delivery/lost", entry: "lost", value: "1")) } throws: {
            ($0 as? StoreError)?.code == .io && ($0 as? StoreError)?.errno == Errno(EIO)
        }
        #expect(!store.isWritable)
        #expect(store.stats().failedBatches == 1)
        #expect(store.value(forKey: "lost") == nil)
        #expect(store.idempotencyResponse(forKey: "delivery/lost") == nil)
        // The retry of the same request is not a duplicate: nothing of it was kept.
        #expect(try await store.commit(claimAndPut("delivery/lost", entry: "lost", value: "2")) == .committed)
        #expect(store.isWritable)
        store.close()
        store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        defer { store.close() }
        #expect(store.value(forKey: "before") == bytes("1"))
        #expect(store.value(forKey: "lost") == bytes("2"))
        #expect(Store.verify(at: dir.data).tornTailBytes == 0)
    }

    @Test func aFullDiskDuringAppendFailsWithDiskFull() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = FaultSwitch()
        let store = try openStore(
            at: dir.data, configuration: configuration { $0.faults = faults.injection },
            logger: quietLogger)
        defer { store.close() }
        faults.failNext(.journalWrite, errno: ENOSPC)
        await #expect { try await store.commit(claimAndPut("delivery/x", entry: "x", value: "1")) } throws: {
            ($0 as? StoreError)?.code == .diskFull && ($0 as? StoreError)?.isRetryable == true
        }
        #expect(!store.isWritable)
        #expect(store.stats().lastError?.code == .diskFull)
        #expect(try await store.commit(claimAndPut("delivery/x", entry: "x", value: "1")) == .committed)
        #expect(store.isWritable)
    }

    @Test func openFailsClearlyWhenTheDirectoryIsReadOnly() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = FaultSwitch()
        faults.failNext(.create, errno: EROFS)
        #expect {
            try Store.open(
                at: dir.data, configuration: configuration { $0.faults = faults.injection }, logger: quietLogger)
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .notWritable && error.description.contains("not writable")
        }
    }

    @Test func openFailsClearlyWhenThePathIsAFile() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        #expect(FileManager.default.createFile(atPath: dir.data, contents: Data()))
        #expect { try Store.open(at: dir.data, configuration: configuration(), logger: quietLogger) } throws: {
            ($0 as? StoreError)?.code == .notWritable && ($0 as? StoreError)?.path == dir.data
        }
    }

    @Test func openFailsClearlyWhenTheDiskIsFull() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = configuration { $0.minimumFreeBytesAtOpen = .max }
        #expect { try Store.open(at: dir.data, configuration: config, logger: quietLogger) } throws: {
            ($0 as? StoreError)?.code == .diskFull && ($0 as? StoreError)?.message.contains("free space") == true
        }
        // The lock was released: a normal open works.
        try openStore(at: dir.data, configuration: configuration(), logger: quietLogger).close()
    }

    @Test func releasingTheLastReferenceInsideACompletionClosesWithoutDeadlock() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let called = DispatchSemaphore(value: 0)
        do {
            let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
            store.commit(claimAndPut("delivery/1", entry: "e", value: "v")) { [store] _ in
                _ = store.isWritable
                called.signal()
            }
        }
        #expect(called.wait(timeout: .now() + 10) == .success)
        // The writer closes and releases the lock shortly after.
        var reopened: Store?
        for _ in 0..<200 where reopened == nil {
            reopened = try? Store.open(at: dir.data, configuration: configuration(), logger: quietLogger)
            if reopened == nil { usleep(10_000) }
        }
        #expect(reopened?.value(forKey: "e") == bytes("v"))
        reopened?.close()
    }

    @Test func aCommitIsInvisibleToReadsUntilItsSyncReturned() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let holder = Mutex<Store?>(nil)
        let seenBeforeSync = Mutex<[[UInt8]?]>([])
        let config = configuration { config in
            config.faults = FaultInjection { point in
                if point == .journalSync, let store = holder.withLock({ $0 }) {
                    let value = store.value(forKey: "reservation/1")
                    seenBeforeSync.withLock { $0.append(value) }
                }
                return nil
            }
        }
        let store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        holder.withLock { $0 = store }
        defer {
            holder.withLock { $0 = nil }
            store.close()
        }
        var t = Transaction()
        t.put(bytes("confirmed"), forKey: "reservation/1")
        #expect(try await store.commit(t) == .committed)
        #expect(seenBeforeSync.withLock { $0 } == [nil])
        #expect(store.value(forKey: "reservation/1") == bytes("confirmed"))
    }

    @Test func segmentsLeftByAnInterruptedCompactionAreIgnoredAndRemoved() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        _ = try await store.commit(claimAndPut("delivery/1", entry: "k", value: "1"))
        let first = dir.data + "/journal/00000001.log"
        let saved = try #require(FileManager.default.contents(atPath: first))
        try store.compact()
        _ = try await store.commit(claimAndPut("delivery/2", entry: "k", value: "2"))
        store.close()
        // As if the process died after installing the snapshot but before unlinking the old segment.
        #expect(FileManager.default.createFile(atPath: first, contents: saved))
        let report = Store.verify(at: dir.data)
        #expect(report.isHealthy)
        #expect(report.obsoleteSegments == [1])
        store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        defer { store.close() }
        #expect(store.value(forKey: "k") == bytes("2"))
        #expect(!FileManager.default.fileExists(atPath: first))
    }
}
