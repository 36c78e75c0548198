import Foundation
import Synchronization
import SystemCalls

/// One compaction's immutable inputs, taken by the writer right after it started segment `covered + 1`.
struct CompactionJob: Sendable {
    /// The last segment the snapshot covers; the snapshot's `replayFrom` is `covered + 1`.
    let covered: UInt64
    /// Bytes in segments `replayFrom...covered`, subtracted from the journal's size once they are removed.
    let coveredBytes: Int
    /// The time claims expire against, and the snapshot's creation time.
    let now: Int64
    /// When the writer began the compaction, for the duration in the log line.
    let started: ContinuousClock.Instant

    /// Writes `state` (the committed state as of the end of segment `covered`) as the new snapshot: drops
    /// expired claims, then temp file, `fsync`, rename, directory `fsync`. Touches no journal file.
    /// - Parameters:
    ///   - state: The copy of the committed state; consumed, so a background thread frees it itself.
    ///   - directory: The data directory.
    ///   - faults: The test hook consulted at ``FaultPoint/snapshotWrite`` before the snapshot is written.
    /// - Returns: What happened, for ``JournalWriter`` to finish on its own thread.
    func run(_ state: consuming StoreState, in directory: DataDirectory, faults: FaultInjection?) -> CompactionOutcome {
        let claimsBefore = state.claims.count
        let compacted = state.compacted(now: now)
        _ = consume state
        let result: Result<Snapshot.Info, StoreError>
        if let errno = faults?.errnoFor(.snapshotWrite) {
            result = .failure(StoreError.system("snapshot write", path: directory.snapshotPath, errno: Errno(errno)))
        } else {
            result = Result { () throws(StoreError) in
                try Snapshot.write(compacted, replayFrom: covered + 1, in: directory, now: now)
            }
        }
        return CompactionOutcome(job: self, result: result, droppedExpiredClaims: compacted.claims.count < claimsBefore)
    }
}

/// What a compaction's snapshot write came to.
struct CompactionOutcome: Sendable {
    /// The inputs it ran with.
    let job: CompactionJob
    /// The installed snapshot's info, or why none was installed (the old snapshot and every segment are intact).
    let result: Result<Snapshot.Info, StoreError>
    /// True if expired claims were left out, so the live state holds claims the snapshot does not.
    let droppedExpiredClaims: Bool
}

/// A compaction running on its own thread (`lk-compactor` in `top -H`) while the writer keeps committing.
///
/// The thread gets only immutable inputs (the job and a copy of the state) and hands back a
/// ``CompactionOutcome`` through a `Mutex`; the writer alone acts on it (unlinking segments, updating its
/// counters). When done, the thread wakes the writer with ``WorkItem/compactionFinished``; the writer can also
/// wait for it with ``join()`` (before an explicit compaction, a recovery, or closing).
final class BackgroundCompaction: Sendable {
    /// The job, for the writer's bookkeeping while it runs.
    let job: CompactionJob
    private let outcome = Mutex<CompactionOutcome?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the compactor thread.
    /// - Parameters:
    ///   - job: The compaction's inputs.
    ///   - state: The copy of the committed state as of the end of segment `job.covered`.
    ///   - directory: The data directory.
    ///   - faults: The store's fault injection (tests).
    ///   - queue: Where to post ``WorkItem/compactionFinished`` when done.
    init(_ job: CompactionJob, state: StoreState, directory: DataDirectory, faults: FaultInjection?, queue: WorkQueue) {
        self.job = job
        // The state goes through a box the thread empties, so its (possibly large) copy is freed on that thread
        // as soon as the snapshot is written, not whenever the `Thread` object lets go of its closure.
        let input = Mutex<StoreState?>(state)
        let thread = Thread { [self] in
            Thread.current.name = "lk-compactor"  // set on the thread itself, as Linux wants; at most 15 bytes
            guard let state = input.withLock({ $0.take() }) else { return }
            let result = job.run(state, in: directory, faults: faults)
            outcome.withLock { $0 = result }
            finished.signal()
            _ = queue.submit(.compactionFinished)
        }
        thread.start()
    }

    /// The outcome if the thread is done, without waiting.
    var finishedOutcome: CompactionOutcome? { outcome.withLock { $0 } }

    /// Waits for the thread to finish and returns its outcome.
    func join() -> CompactionOutcome {
        if let done = finishedOutcome { return done }
        finished.wait()
        return finishedOutcome!
    }
}
