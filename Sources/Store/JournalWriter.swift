import Glibc
import Logging
import Synchronization
import SystemCalls

/// What the writer shares with readers: the committed state (updated only after `fdatasync`), the
/// writability flag and the counters. Each is behind its own lock or atomic.
final class SharedState: Sendable {
    /// The committed state; the writer is its only mutator.
    let state: Mutex<StoreState>
    /// Counters; the writer is its only mutator.
    let stats = Mutex(StoreStats())
    /// False from a failed write until the next successful one.
    let isWritable = Atomic<Bool>(true)
    /// The writer thread's `pthread_self()`, once it runs; lets `close()` notice it is called on that thread.
    let writerThread = Atomic<UInt>(0)

    /// Creates the shared state around a recovered state.
    init(_ state: StoreState) { self.state = Mutex(state) }
}

/// The single owner of the journal's file descriptors: appends batches (one `pwrite`, one `fdatasync`),
/// decides duplicates, publishes to ``SharedState`` after the sync, rolls segments and compacts.
///
/// Automatic compaction runs in the background: the writer starts a new segment, hands a copy of the state to a
/// ``BackgroundCompaction`` thread that writes the snapshot, and keeps committing; when the thread is done the
/// writer removes the covered segments. At most one compaction is in flight.
///
/// `@unchecked Sendable` because it is created by `Store.open` and then handed to the writer thread, which is
/// the only code that touches it from then on; its mutable fields are never shared.
final class JournalWriter: @unchecked Sendable {
    private let directory: DataDirectory
    private let configuration: StoreConfiguration
    private let logger: Logger
    private let shared: SharedState
    /// The writer's own queue, where the compactor thread posts ``WorkItem/compactionFinished``.
    private let queue: WorkQueue
    private var lockFD: FileDescriptor?
    private var segmentFD: FileDescriptor?
    private var segmentNumber: UInt64 = 0
    /// End of the last synced batch in the current segment: the last good offset.
    private var segmentOffset = 0
    /// How far the current segment is known to hold records or zeros written ahead of them (see
    /// ``StoreConfiguration/preallocationBytes``); appends below it do not change the file's size.
    private var preallocatedEnd = 0
    /// First segment not covered by the snapshot.
    private var replayFrom: UInt64
    /// Bytes in segments from `replayFrom` up to, not including, the current one.
    private var olderSegmentBytes = 0
    /// Size of the current snapshot; automatic compaction waits until the journal is at least this big too,
    /// so rewriting a large state stays proportional to the writes that made it.
    private var snapshotBytes = 0
    /// Set after a failed write or sync: the files must be re-opened from disk before the next batch.
    private var needsRecovery = false
    /// The background compaction in flight, if any.
    private var compaction: BackgroundCompaction?
    /// After a failed automatic compaction: the journal size the next attempt waits for (0 when none failed).
    private var compactionRetryBytes = 0

    /// Opens the journal for appending after recovery: truncates torn tails, removes obsolete segments
    /// and opens (or creates) the segment to append to.
    /// - Parameters:
    ///   - directory: The data directory (already locked through `lockFD`).
    ///   - recovered: What recovery found; must have no damage in the middle.
    ///   - lockFD: The locked `LOCK` file, closed by ``close()``.
    ///   - shared: The state readers see.
    ///   - queue: The queue ``run()`` will serve; background compactions post their completion to it.
    ///   - configuration: The store's configuration.
    ///   - logger: Where to report truncations and failures (never payloads).
    init(
        directory: DataDirectory, recovered: RecoveredJournal, lockFD: FileDescriptor, shared: SharedState,
        queue: WorkQueue,
        configuration: StoreConfiguration, logger: Logger
    ) throws(StoreError) {
        self.directory = directory
        self.queue = queue
        self.configuration = configuration
        self.logger = logger
        self.shared = shared
        self.lockFD = lockFD
        self.replayFrom = recovered.replayFrom
        self.snapshotBytes = recovered.snapshot?.bytes ?? 0
        try adoptRecoveredFiles(recovered, forceNewSegment: false)
    }

    /// Truncates torn tails, deletes obsolete segments, and opens the segment to append to: the last one if
    /// it has room and `forceNewSegment` is false, else a new one.
    private func adoptRecoveredFiles(_ recovered: RecoveredJournal, forceNewSegment: Bool) throws(StoreError) {
        for scan in recovered.segments {
            guard let damage = scan.damage, damage.isTornTail else { continue }
            try StoreError.catching { () throws(SystemCallError) in
                let fd = try FileDescriptor.open(scan.path, .writeOnly)
                defer { fd.close() }
                try fd.resize(to: scan.validBytes, path: scan.path)
                try fd.synchronize(path: scan.path)
            }
            logger.notice(
                "store: truncated a torn tail of \(scan.tornBytes) bytes (\(damage.reason))",
                metadata: [
                    "store.file": "\(scan.path)", "store.offset": "\(scan.validBytes)",
                    "store.bytes_dropped": "\(scan.tornBytes)",
                ])
        }
        if !recovered.obsoleteSegments.isEmpty {
            try StoreError.catching { () throws(SystemCallError) in
                for number in recovered.obsoleteSegments { try FileSystem.remove(directory.segmentPath(number)) }
                try FileSystem.synchronizeDirectory(directory.journalPath)
            }
            logger.info("store: removed \(recovered.obsoleteSegments.count) segments already in the snapshot")
        }
        replayFrom = recovered.replayFrom
        let last = recovered.segments.last
        olderSegmentBytes = recovered.segments.dropLast().reduce(0) { $0 + $1.validBytes }
        if let last, !forceNewSegment, last.validBytes < configuration.segmentSizeLimitBytes {
            try inject(.create, path: last.path)
            segmentFD = try StoreError.catching { () throws(SystemCallError) in
                try FileDescriptor.open(last.path, .writeOnly)
            }
            segmentNumber = last.number
            segmentOffset = last.validBytes
            preallocatedEnd = last.damage == nil ? last.size : last.validBytes
        } else {
            olderSegmentBytes += last?.validBytes ?? 0
            try startSegment(max((last?.number ?? 0) + 1, replayFrom))
        }
        publishSizes()
    }

    // MARK: - The writer thread

    /// The writer thread's loop: takes queued work, commits it in groups, and returns after `.close` (which
    /// first finishes a background compaction in flight).
    func run() {
        shared.writerThread.store(UInt(pthread_self()), ordering: .releasing)
        while true {
            var commits: [PendingCommit] = []
            for item in queue.takeAll() {
                switch item {
                case .commit(let commit):
                    commits.append(commit)
                case .compact(let reply):
                    commitInBatches(commits)
                    commits.removeAll()
                    reply(Result { () throws(StoreError) in try compact() })
                case .compactionFinished:
                    finishBackgroundCompaction(wait: false)
                case .joinCompaction(let reply):
                    commitInBatches(commits)
                    commits.removeAll()
                    finishBackgroundCompaction(wait: true)
                    reply()
                case .close:
                    commitInBatches(commits)
                    finishBackgroundCompaction(wait: true)
                    close()
                    return
                }
            }
            commitInBatches(commits)
        }
    }

    /// Splits `commits` into batches of at most ``StoreConfiguration/maxBatchBytes`` and commits each.
    private func commitInBatches(_ commits: [PendingCommit]) {
        var start = 0
        while start < commits.count {
            var end = start
            var bytes = 0
            while end < commits.count
                && (end == start || bytes + commits[end].frame.count <= configuration.maxBatchBytes)
            {
                bytes += commits[end].frame.count
                end += 1
            }
            commitBatch(commits[start..<end])
            start = end
        }
        if !commits.isEmpty { compactIfDue() }
    }

    /// Commits one group: decides duplicates, appends the rest with one write and one sync, publishes,
    /// then completes every transaction of the group.
    private func commitBatch(_ batch: ArraySlice<PendingCommit>) {
        if needsRecovery {
            do {
                try recoverFromDisk()
            } catch {
                fail(batch, with: error)
                return
            }
        }
        let now = configuration.clock()
        var outcomes = [CommitOutcome](repeating: .committed, count: batch.count)
        var toWrite: [Int] = []
        var claimedInBatch: [KeyDigest: Int] = [:]
        shared.state.withLock { state in
            for (i, commit) in zip(batch.indices, batch) {
                if let claim = commit.record.claim {
                    if let first = claimedInBatch[claim.digest] {
                        outcomes[i - batch.startIndex] = .duplicate(
                            originalResponse: batch[first].record.claim!.response)
                        continue
                    }
                    if let original = state.response(for: claim.digest, now: now) {
                        outcomes[i - batch.startIndex] = .duplicate(originalResponse: original)
                        continue
                    }
                    claimedInBatch[claim.digest] = i
                }
                toWrite.append(i)
            }
        }
        if !toWrite.isEmpty {
            var buffer: [UInt8] = []
            buffer.reserveCapacity(toWrite.reduce(0) { $0 + batch[$1].frame.count })
            for i in toWrite { buffer.append(contentsOf: batch[i].frame) }
            let syncSeconds: Double
            do {
                syncSeconds = try append(buffer)
            } catch {
                handleWriteFailure(error)
                fail(batch, with: error)
                return
            }
            shared.state.withLock { state in
                for i in toWrite { state.apply(batch[i].record, now: now) }
            }
            configuration.onBatchSynced?(toWrite.count, syncSeconds)
        }
        if !toWrite.isEmpty { shared.isWritable.store(true, ordering: .releasing) }
        shared.stats.withLock { stats in
            stats.transactionsCommitted += toWrite.count
            stats.duplicates += batch.count - toWrite.count
            if !toWrite.isEmpty {
                stats.isWritable = true
                stats.lastError = nil
            }
        }
        publishSizes()
        let complete = { for (commit, outcome) in zip(batch, outcomes) { commit.completion(.success(outcome)) } }
        if let around = configuration.aroundCompletions { around(complete) } else { complete() }
        if segmentOffset >= configuration.segmentSizeLimitBytes {
            do {
                try startSegment(segmentNumber + 1)
            } catch {
                handleWriteFailure(error)
            }
        }
    }

    /// Writes `bytes` at the end of the current segment and syncs them; advances the last good offset only
    /// after the sync returned.
    /// - Returns: How long the `fdatasync` took, in seconds.
    private func append(_ bytes: [UInt8]) throws(StoreError) -> Double {
        let path = directory.segmentPath(segmentNumber)
        try inject(.journalWrite, path: path)
        preallocate(through: segmentOffset + bytes.count, path: path)
        guard let segment = segmentFD else {
            throw StoreError.system("pwrite", path: path, errno: .badFileDescriptor)  // recovery left no segment
        }
        try StoreError.catching { () throws(SystemCallError) in
            try segment.writeAll(bytes, atOffset: segmentOffset, path: path)
        }
        try inject(.journalSync, path: path)
        let syncStarted = ContinuousClock.now
        try StoreError.catching { () throws(SystemCallError) in try segment.synchronizeData(path: path) }
        let syncTook = ContinuousClock.now - syncStarted
        shared.stats.withLock {
            $0.batchesWritten += 1
            $0.journalSyncs += 1
        }
        segmentOffset += bytes.count
        return Double(syncTook.components.seconds) + Double(syncTook.components.attoseconds) / 1e18
    }

    /// Makes sure the segment holds at least `end` bytes, writing ``StoreConfiguration/preallocationBytes`` of
    /// zeros past it when it does not: the `fdatasync` of a batch that only overwrites zeros need not also write
    /// the file's size, which halves its cost (measured: 107 vs 218 µs per 16 KiB write and sync on this VM's
    /// ext4). The zeros reach the disk with the batch's own sync. A failure only costs that saving: the
    /// batch's write that follows reports any real problem.
    private func preallocate(through end: Int, path: String) {
        guard configuration.preallocationBytes > 0, end > preallocatedEnd, let segment = segmentFD else { return }
        let zeros = [UInt8](repeating: 0, count: configuration.preallocationBytes)
        do {
            try segment.writeAll(zeros, atOffset: end, path: path)
            preallocatedEnd = end + zeros.count
        } catch {
            preallocatedEnd = end
        }
    }

    /// Completes every transaction of `batch` with `error`.
    private func fail(_ batch: ArraySlice<PendingCommit>, with error: StoreError) {
        for commit in batch { commit.completion(.failure(error)) }
    }

    /// Marks the store unwritable and tries to re-open its files at once (it is retried before the next batch).
    private func handleWriteFailure(_ error: StoreError) {
        logger.error(
            "store: write failed; the batch was not acknowledged",
            metadata: ["store.error": "\(error)"])
        needsRecovery = true
        shared.isWritable.store(false, ordering: .releasing)
        shared.stats.withLock {
            $0.failedBatches += 1
            $0.isWritable = false
            $0.lastError = error
        }
        do {
            try recoverFromDisk()
        } catch {
            logger.error(
                "store: re-opening the journal failed; will retry before the next write",
                metadata: ["store.error": "\(error)"])
        }
    }

    /// Re-opens the store's state from disk after a failed write or sync. Pages of a failed `fdatasync`
    /// are never trusted: the segment is cut back to the last good offset and synced, the state is rebuilt
    /// from the files, and appends continue in a new segment. A background compaction in flight is finished
    /// first, so no snapshot rename races the reload.
    private func recoverFromDisk() throws(StoreError) {
        finishBackgroundCompaction(wait: true)
        if let segment = segmentFD {
            let path = directory.segmentPath(segmentNumber)
            try StoreError.catching { () throws(SystemCallError) in
                try segment.resize(to: segmentOffset, path: path)
                try segment.synchronize(path: path)
            }
            segment.close()
            segmentFD = nil
        }
        let recovered = try Recovery.load(
            directory, now: configuration.clock(), maxPayload: configuration.maxRecordBytes)
        if let damaged = recovered.middleDamage, let damage = damaged.damage {
            throw StoreError.corruptJournal(path: damaged.path, damage: damage)
        }
        shared.state.withLock { $0 = recovered.state }
        try adoptRecoveredFiles(recovered, forceNewSegment: true)
        needsRecovery = false
        logger.notice(
            "store: journal re-opened from disk after a failed write",
            metadata: ["store.segment": "\(segmentNumber)"])
    }

    // MARK: - Segments and compaction

    /// Creates segment `number`, syncs the journal directory, and makes it the current segment.
    private func startSegment(_ number: UInt64) throws(StoreError) {
        let path = directory.segmentPath(number)
        try inject(.create, path: path)
        let fd = try StoreError.catching { () throws(SystemCallError) in
            try FileDescriptor.open(path, .writeOnly, options: [.create, .exclusiveCreate])
        }
        do {
            try FileSystem.synchronizeDirectory(directory.journalPath)
        } catch {
            fd.close()
            throw StoreError(error)
        }
        if let segment = segmentFD {
            olderSegmentBytes += segmentOffset
            // The zeros written ahead are no longer needed; recovery reads them as the end either way, so a
            // failure here (or a crash before it reaches the disk) is harmless.
            if preallocatedEnd > segmentOffset {
                try? segment.resize(to: segmentOffset, path: directory.segmentPath(segmentNumber))
            }
            segment.close()
        }
        segmentFD = fd
        segmentNumber = number
        segmentOffset = 0
        preallocatedEnd = 0
    }

    /// Bytes in the journal: segments from `replayFrom` through the current one.
    private var journalBytes: Int { olderSegmentBytes + segmentOffset }

    /// Starts a background compaction when none is in flight and the journal has grown past
    /// ``StoreConfiguration/compactionThresholdBytes``, past the current snapshot's size, and (after a failed
    /// attempt) past the size the retry waits for.
    private func compactIfDue() {
        let threshold = max(configuration.compactionThresholdBytes, snapshotBytes, compactionRetryBytes)
        guard compaction == nil, !needsRecovery, journalBytes > threshold else { return }
        do {
            let (job, state) = try beginCompaction()
            compaction = BackgroundCompaction(
                job, state: state, directory: directory, faults: configuration.faults,
                queue: queue)
        } catch {
            automaticCompactionFailed(error)
        }
    }

    /// Applies the background compaction's outcome if it is done (or, with `wait`, once it is done); a failure
    /// is logged and postpones the next automatic attempt.
    /// - Parameter wait: Whether to block until the compactor thread finishes.
    private func finishBackgroundCompaction(wait: Bool) {
        guard let running = compaction, let outcome = wait ? running.join() : running.finishedOutcome else { return }
        compaction = nil
        do {
            try finishCompaction(outcome)
        } catch {
            automaticCompactionFailed(error)
        }
    }

    /// Logs a failed automatic compaction and makes the next attempt wait until the journal has grown by another
    /// quarter of ``StoreConfiguration/compactionThresholdBytes``, so a failing disk is not hit after every batch.
    /// The segments stay: the journal is still the truth.
    private func automaticCompactionFailed(_ error: StoreError) {
        let step = configuration.compactionThresholdBytes / 4
        let (retryAt, overflow) = journalBytes.addingReportingOverflow(step)
        compactionRetryBytes = overflow ? .max : retryAt
        logger.error(
            "store: automatic compaction failed; retried once the journal grows by another \(step) bytes",
            metadata: ["store.error": "\(error)", "store.journal_bytes": "\(journalBytes)"])
    }

    /// Compacts now and waits: finishes a background compaction in flight, then writes a snapshot of live
    /// entries and unexpired claims and removes the segments it covers, all on the writer thread.
    func compact() throws(StoreError) {
        finishBackgroundCompaction(wait: true)
        if needsRecovery { try recoverFromDisk() }
        let (job, state) = try beginCompaction()
        try finishCompaction(job.run(state, in: directory, faults: configuration.faults))
    }

    /// The first step of a compaction, on the writer thread: starts segment `covered + 1` (directory synced), so
    /// every commit from now on lands after what the snapshot will hold, and takes a copy of the committed state,
    /// which is exactly segments `replayFrom...covered` on top of the current snapshot.
    /// - Returns: The job and the state to write.
    private func beginCompaction() throws(StoreError) -> (CompactionJob, StoreState) {
        let covered = segmentNumber
        try startSegment(covered + 1)
        let job = CompactionJob(
            covered: covered, coveredBytes: olderSegmentBytes, now: configuration.clock(),
            started: .now)
        return (job, shared.state.withLock { $0 })
    }

    /// The last step of a compaction, on the writer thread, once its snapshot is installed (renamed and the
    /// directory synced): unlinks segments `replayFrom...covered`, syncs the journal directory, and updates the
    /// sizes. A crash before the unlinks leaves segments below the snapshot's `replayFrom`, which recovery skips
    /// and removes. If expired claims were left out of the snapshot, the live state drops them too; it keeps every
    /// claim and entry committed since the copy, as ``StoreState/compacted(now:)`` keeps all entries and only
    /// drops claims expired at the job's `now`.
    /// - Parameter outcome: What the snapshot write came to.
    /// - Throws: The snapshot write's error (nothing changed), or the error of an unlink or sync (the snapshot is
    ///   in place; leftover segments are removed at the next open).
    private func finishCompaction(_ outcome: CompactionOutcome) throws(StoreError) {
        let job = outcome.job
        let info = try outcome.result.get()
        let firstCovered = replayFrom
        replayFrom = job.covered + 1
        olderSegmentBytes -= job.coveredBytes
        snapshotBytes = info.bytes
        compactionRetryBytes = 0
        if outcome.droppedExpiredClaims {
            // Pruned outside the lock so readers are not held up; the writer is the state's only mutator.
            let pruned = shared.state.withLock { $0 }.compacted(now: job.now)
            shared.state.withLock { $0 = pruned }
        }
        defer { publishSizes() }
        try StoreError.catching { () throws(SystemCallError) in
            for number in firstCovered...job.covered { try FileSystem.remove(directory.segmentPath(number)) }
            try FileSystem.synchronizeDirectory(directory.journalPath)
        }
        shared.stats.withLock { $0.compactions += 1 }
        let took = ContinuousClock.now - job.started
        let milliseconds = took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000
        logger.info(
            "store: compacted",
            metadata: [
                "store.entries": "\(info.entryCount)", "store.idempotency_keys": "\(info.claimCount)",
                "store.snapshot_bytes": "\(info.bytes)", "store.duration_ms": "\(milliseconds)",
            ])
    }

    /// Closes the segment and releases the lock.
    func close() {
        segmentFD?.close()
        segmentFD = nil
        lockFD?.close()
        lockFD = nil
    }

    /// Copies sizes into the counters.
    private func publishSizes() {
        let (entries, claims, arena) = shared.state.withLock { ($0.entries.count, $0.claims.count, $0.arena.count) }
        shared.stats.withLock {
            $0.entryCount = entries
            $0.idempotencyKeyCount = claims
            $0.responseArenaBytes = arena
            $0.journalBytes = olderSegmentBytes + segmentOffset
            $0.currentSegment = segmentNumber
        }
    }

    /// Fails with the injected errno, if a test asked for one at `point`.
    private func inject(_ point: FaultPoint, path: String) throws(StoreError) {
        if let errno = configuration.faults?.errnoFor(point) {
            throw StoreError.system(
                point == .journalSync ? "fdatasync" : point == .journalWrite ? "pwrite" : "open",
                path: path, errno: Errno(errno))
        }
    }
}

extension StoreError {
    /// The error for damage in the middle of a segment.
    /// - Parameters:
    ///   - path: The segment.
    ///   - damage: What the scan found.
    static func corruptJournal(path: String, damage: SegmentScan.Damage) -> StoreError {
        StoreError(
            .corruptJournal,
            "journal record at offset \(damage.offset) is damaged (\(damage.reason)) and valid records follow it; "
                + "refusing to start so acknowledged data is not silently dropped. Run `latchkey store verify`, "
                + "then restore the directory from a backup",
            path: path, offset: damage.offset)
    }
}
