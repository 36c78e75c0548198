import Foundation
import Glibc
import LatchkeyTestSupport
import Store
import Synchronization
import Testing

@Suite("Store read-only access and sync observer")
struct StoreReadOnlyTests {
    private func put(_ store: Store, _ key: String, _ value: String) async throws {
        var transaction = Transaction()
        transaction.put(Array(value.utf8), forKey: key)
        _ = try await store.commit(transaction)
    }

    private func segmentFiles(_ data: String) throws -> [String: Int] {
        let journal = data + "/journal"
        var sizes: [String: Int] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: journal) {
            sizes[name] = (try FileManager.default.attributesOfItem(atPath: journal + "/" + name)[.size] as? Int) ?? -1
        }
        return sizes
    }

    @Test func readOnlySnapshotSeesCommittedEntriesOfAnOpenStoreWithoutChangingFiles() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store.open(at: dir.data, logger: quietLogger)
        defer { store.close() }
        try await put(store, "reconciler/reservation/a", "one")
        try await put(store, "booking/native/b", "two")
        let before = try segmentFiles(dir.data)

        let entries = try Store.readOnlySnapshot(at: dir.data)

        #expect(entries["reconciler/reservation/a"] == Array("one".utf8))
        #expect(entries["booking/native/b"] == Array("two".utf8))
        #expect(try segmentFiles(dir.data) == before)
        // The writer still works: the lock was never taken.
        try await put(store, "after", "three")
        #expect(try Store.readOnlySnapshot(at: dir.data)["after"] == Array("three".utf8))
    }

    @Test func readOnlySnapshotLeavesOutATornTailAndDoesNotTruncateIt() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store.open(at: dir.data, logger: quietLogger)
        try await put(store, "kept", "yes")
        store.close()
        let segment = try #require(try segmentFiles(dir.data).keys.sorted().last)
        let path = dir.data + "/journal/" + segment
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data([0x4C, 0x4B, 0x01, 0x00, 0x00, 0x10]))  // a record cut short, as a write in progress
        handle.closeFile()
        let tornSize = try segmentFiles(dir.data)[segment]

        let entries = try Store.readOnlySnapshot(at: dir.data)

        #expect(entries["kept"] == Array("yes".utf8))
        #expect(try segmentFiles(dir.data)[segment] == tornSize)
    }

    @Test func readOnlySnapshotOfAMissingDirectoryNamesIt() {
        #expect {
            try Store.readOnlySnapshot(at: "/nonexistent/latchkey-data")
        } throws: { error in
            (error as? StoreError)?.path == "/nonexistent/latchkey-data"
        }
    }

    @Test func onBatchSyncedReportsEachSyncedBatchWithItsRecordCount() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let seen = Mutex<[(records: Int, seconds: Double)]>([])
        var configuration = StoreConfiguration()
        configuration.onBatchSynced = { records, seconds in seen.withLock { $0.append((records, seconds)) } }
        let store = try Store.open(at: dir.data, configuration: configuration, logger: quietLogger)
        defer { store.close() }
        try await put(store, "a", "1")
        try await put(store, "b", "2")
        var duplicate = Transaction()
        duplicate.claim("delivery/x", response: [1])
        _ = try await store.commit(duplicate)
        _ = try await store.commit(duplicate)  // a duplicate writes nothing and syncs nothing

        let observed = seen.withLock { $0 }
        #expect(observed.count == 3)
        #expect(observed.allSatisfy { $0.records == 1 && $0.seconds >= 0 && $0.seconds < 10 })
    }

    @Test func aroundCompletionsWrapsEachBatchsCompletions() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let inside = Atomic<Bool>(false)
        let scopes = Atomic<Int>(0)
        var configuration = StoreConfiguration()
        configuration.aroundCompletions = { complete in
            scopes.add(1, ordering: .relaxed)
            inside.store(true, ordering: .relaxed)
            complete()
            inside.store(false, ordering: .relaxed)
        }
        let store = try Store.open(at: dir.data, configuration: configuration, logger: quietLogger)
        defer { store.close() }
        let completedInside = Mutex<[Bool]>([])
        for key in ["a", "b"] {
            var transaction = Transaction()
            transaction.put(Array("1".utf8), forKey: key)
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                store.commit(transaction) { _ in
                    completedInside.withLock { $0.append(inside.load(ordering: .relaxed)) }
                    done.resume()
                }
            }
        }
        #expect(completedInside.withLock { $0 } == [true, true])
        #expect(scopes.load(ordering: .relaxed) == 2, "one scope per group commit")
    }
}
