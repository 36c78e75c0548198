import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization
import SystemCalls

/// Latchkey's durable, idempotent flat-file store: webhook deliveries with their idempotency keys,
/// each reservation's desired and applied state, and outbox intents and results.
///
/// - Durability: a commit completes only after its journal record was written and `fdatasync` returned.
///   Transactions submitted together share one write and one sync (group commit) on one writer thread.
/// - Reads (``value(forKey:)``, ``entries(withPrefix:)``, ``idempotencyResponse(forKey:)``) are served from
///   memory and see a transaction only once it is durable.
/// - A failed write or sync fails its whole batch with a ``StoreError`` (answer 503 + Retry-After); the
///   store re-opens its files from disk and ``isWritable`` is false until a write succeeds again.
/// - One process per directory: `DIR/LOCK` is held with `flock` while open.
/// - Automatic compaction writes its snapshot on a background thread while commits go on; segments are
///   removed only after the snapshot is installed (rename, then directory `fsync`), so a crash at any point
///   reopens with everything.
package final class Store: Sendable {
    private let directory: DataDirectory
    private let configuration: StoreConfiguration
    private let shared: SharedState
    private let queue: WorkQueue
    private let writerFinished = DispatchSemaphore(value: 0)
    private let isClosed = Mutex(false)

    private init(directory: DataDirectory, configuration: StoreConfiguration, shared: SharedState, queue: WorkQueue) {
        self.directory = directory
        self.configuration = configuration
        self.shared = shared
        self.queue = queue
    }

    deinit { close() }

    /// Opens (creating if needed) the store in `directory`: takes the lock, loads the snapshot, replays the
    /// journal (cutting off a torn final record, with a log line saying how many bytes), and starts the writer.
    /// - Parameters:
    ///   - directory: The data directory; created with mode 0700 if missing.
    ///   - configuration: Tuning; default ``StoreConfiguration/init(idempotencyRetention:compactionThresholdBytes:segmentSizeLimitBytes:maxBatchBytes:maxRecordBytes:minimumFreeBytesAtOpen:)``.
    ///   - logger: Where truncations, compactions and failures are reported (never payloads).
    /// - Returns: The open store.
    /// - Throws: ``StoreError/Code/locked`` if another process holds the directory; ``StoreError/Code/notWritable``
    ///   or ``StoreError/Code/diskFull`` if it cannot be written; ``StoreError/Code/corruptJournal`` (naming file and
    ///   offset) for damage before the journal's end; ``StoreError/Code/corruptSnapshot``.
    package static func open(
        at directory: String, configuration: StoreConfiguration = StoreConfiguration(), logger: Logger
    ) throws(StoreError) -> Store {
        let dir = DataDirectory(path: directory)
        if let errno = configuration.faults?.errnoFor(.create) {
            throw StoreError.system("mkdir", path: directory, errno: Errno(errno))
        }
        try DataDirectory.makePrivateDirectory(dir.path)
        try DataDirectory.makePrivateDirectory(dir.journalPath)
        let lockFD = try acquireLock(dir)
        do throws(StoreError) {
            let available = try StoreError.catching { () throws(SystemCallError) in
                try FileSystem.availableBytes(dir.path)
            }
            guard available >= configuration.minimumFreeBytesAtOpen else {
                throw StoreError(
                    .diskFull,
                    "only \(available) bytes are free on the data directory's file system "
                        + "(at least \(configuration.minimumFreeBytesAtOpen) needed); free space, then start again",
                    path: dir.path, errno: .noSpace)
            }
            try StoreError.catching { () throws(SystemCallError) in
                for name in try FileSystem.contentsOfDirectory(dir.path)
                where name.hasPrefix(DataDirectory.snapshotTempPrefix) {
                    try FileSystem.remove(dir.path + "/" + name)
                }
            }
            let recovered = try Recovery.load(dir, now: configuration.clock(), maxPayload: configuration.maxRecordBytes)
            if let damaged = recovered.middleDamage, let damage = damaged.damage {
                throw StoreError.corruptJournal(path: damaged.path, damage: damage)
            }
            let shared = SharedState(recovered.state)
            let queue = WorkQueue()
            let writer = try JournalWriter(
                directory: dir, recovered: recovered, lockFD: lockFD, shared: shared,
                queue: queue, configuration: configuration, logger: logger)
            let store = Store(directory: dir, configuration: configuration, shared: shared, queue: queue)
            let finished = store.writerFinished
            let thread = Thread {
                Thread.current.name = "lk-journal"  // set on the thread itself, as Linux wants; at most 15 bytes
                writer.run()
                finished.signal()
            }
            thread.start()
            logger.info(
                "store: opened",
                metadata: [
                    "store.dir": "\(dir.path)", "store.entries": "\(recovered.state.entries.count)",
                    "store.idempotency_keys": "\(recovered.state.claims.count)",
                    "store.segments": "\(recovered.segments.count)",
                ])
            return store
        } catch {
            lockFD.close()
            throw error
        }
    }

    /// Takes `DIR/LOCK` with `flock(LOCK_EX|LOCK_NB)` and writes this process's pid into it.
    private static func acquireLock(_ dir: DataDirectory) throws(StoreError) -> FileDescriptor {
        let fd = try StoreError.catching { () throws(SystemCallError) in
            try FileDescriptor.open(dir.lockPath, .readWrite, options: .create)
        }
        let locked: Bool
        do {
            locked = try fd.tryLockExclusively(path: dir.lockPath)
        } catch {
            fd.close()
            throw StoreError(error, path: dir.lockPath)
        }
        guard locked else {
            var holder = ""
            if let bytes = try? fd.read(upTo: 32, atOffset: 0), !bytes.isEmpty {
                holder =
                    " (pid "
                    + String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) + ")"
            }
            fd.close()
            throw StoreError(
                .locked,
                "the data directory \(dir.path) is in use by another Latchkey process\(holder); "
                    + "stop it, or give this one another data directory",
                path: dir.lockPath, errno: .wouldBlock)
        }
        do throws(SystemCallError) {
            try fd.resize(to: 0, path: dir.lockPath)
            try fd.writeAll(Array("\(getpid())\n".utf8), atOffset: 0, path: dir.lockPath)
        } catch {
            fd.close()
            throw StoreError(error)
        }
        return fd
    }

    // MARK: - Writing

    /// Submits a transaction; `completion` runs on the writer thread once the outcome is durable, or with an
    /// error if its batch could not be written. Keep `completion` short and never block in it. A transaction
    /// larger than ``StoreConfiguration/maxRecordBytes`` (or a commit after ``close()``) completes at once, on the
    /// calling thread, with an error.
    /// - Parameters:
    ///   - transaction: The changes and optional idempotency claim.
    ///   - completion: Receives ``CommitOutcome/committed``, ``CommitOutcome/duplicate(originalResponse:)``, or an error.
    package func commit(
        _ transaction: Transaction, completion: @escaping @Sendable (Result<CommitOutcome, StoreError>) -> Void
    ) {
        let record = TransactionRecord(
            transaction, now: configuration.clock(),
            defaultRetention: configuration.idempotencyRetention)
        let payload = record.encoded()
        guard payload.count <= configuration.maxRecordBytes else {
            completion(
                .failure(
                    StoreError(
                        .invalidTransaction,
                        "the transaction encodes to \(payload.count) bytes, more than the \(configuration.maxRecordBytes) allowed; "
                            + "store large payloads in smaller pieces")))
            return
        }
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + Frame.headerSize)
        Frame.append(kind: .transaction, payload: payload, to: &frame)
        let pending = PendingCommit(record: record, frame: frame, completion: completion)
        if !queue.submit(.commit(pending)) { completion(.failure(Self.closedError(directory))) }
    }

    /// Compacts now: writes a snapshot of live entries and unexpired idempotency keys atomically and removes
    /// the journal segments it covers. Blocks until done (commits wait meanwhile; automatic compaction, by
    /// contrast, writes its snapshot in the background); never call it from a commit completion.
    /// - Throws: The I/O error that stopped compaction (the store stays consistent and keeps working).
    package func compact() throws(StoreError) {
        try awaitWriter { reply in .compact(reply) }.get()
    }

    /// Blocks until an automatic compaction in flight, if any, has finished and its covered segments are
    /// removed. For tests that assert on ``stats()`` after automatic compactions; never call it from a commit
    /// completion.
    /// - Throws: ``StoreError/Code/closed`` after ``close()``.
    package func waitForBackgroundCompaction() throws(StoreError) {
        try awaitWriter { reply in .joinCompaction({ reply(.success(())) }) }.get()
    }

    /// Queues the work item `make` builds around a reply, and blocks until the writer replies.
    private func awaitWriter(
        _ make: (@escaping @Sendable (Result<Void, StoreError>) -> Void) -> WorkItem
    ) -> Result<Void, StoreError> {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, StoreError>?>(nil)
        guard
            queue.submit(
                make({ result in
                    outcome.withLock { $0 = result }
                    done.signal()
                }))
        else { return .failure(Self.closedError(directory)) }
        done.wait()
        return outcome.withLock { $0! }
    }

    /// Finishes queued commits, closes the files and releases the lock, then returns (called from a commit
    /// completion it returns at once and the writer closes just after). Later commits fail with
    /// ``StoreError/Code/closed``. Safe to call more than once; `deinit` calls it.
    package func close() {
        let first = isClosed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        _ = queue.submit(.close)
        // A completion (running on the writer thread) may drop the last reference to the store; waiting for the
        // writer there would wait for itself. The writer still finishes the queue and closes the files.
        if shared.writerThread.load(ordering: .acquiring) != UInt(pthread_self()) { writerFinished.wait() }
    }

    private static func closedError(_ directory: DataDirectory) -> StoreError {
        StoreError(.closed, "the store was closed; open it again to commit", path: directory.path)
    }

    // MARK: - Reading (committed, durable state only)

    /// The value stored under `key`, or nil.
    /// - Parameter key: The key, e.g. `reservation/guesty/123`.
    package func value(forKey key: String) -> [UInt8]? {
        shared.state.withLock { $0.entries[key] }
    }

    /// Every entry whose key starts with `prefix`, sorted by key. Costs one pass over all entries.
    /// - Parameter prefix: E.g. `outbox/`.
    package func entries(withPrefix prefix: String) -> [(key: String, value: [UInt8])] {
        let found = shared.state.withLock { state in state.entries.filter { $0.key.hasPrefix(prefix) } }
        return found.map { (key: $0.key, value: $0.value) }.sorted { $0.key < $1.key }
    }

    /// The response stored with an unexpired claim of `key`, or nil if the key is unclaimed or expired.
    /// - Parameter key: The idempotency key.
    package func idempotencyResponse(forKey key: String) -> [UInt8]? {
        let digest = KeyDigest(of: key)
        let now = configuration.clock()
        return shared.state.withLock { $0.response(for: digest, now: now) }
    }

    /// False from a failed write or sync until a write succeeds again.
    package var isWritable: Bool { shared.isWritable.load(ordering: .acquiring) }

    /// Counters and sizes.
    package func stats() -> StoreStats {
        var stats = shared.stats.withLock { $0 }
        stats.isWritable = isWritable
        return stats
    }
}
