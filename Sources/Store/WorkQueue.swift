import Dispatch
import Synchronization

/// A commit waiting for the writer: the reduced record, its framed bytes, and who to tell.
struct PendingCommit: Sendable {
    /// The transaction as stored.
    var record: TransactionRecord
    /// The framed record, ready to append.
    var frame: [UInt8]
    /// Called on the writer thread once the outcome is durable (or the batch failed).
    var completion: @Sendable (Result<CommitOutcome, StoreError>) -> Void
}

/// Work for the writer thread.
enum WorkItem: Sendable {
    /// Make a transaction durable.
    case commit(PendingCommit)
    /// Compact now (after finishing a background compaction in flight), then report.
    case compact(@Sendable (Result<Void, StoreError>) -> Void)
    /// The background compaction thread is done: finish its work (remove the covered segments).
    case compactionFinished
    /// Finish a background compaction in flight, if any, then report (a test hook).
    case joinCompaction(@Sendable () -> Void)
    /// Finish queued work, close the files and stop.
    case close
}

/// The hand-off between submitting threads and the one writer thread: a locked list plus a wake-up.
final class WorkQueue: Sendable {
    private let pending = Mutex<(items: [WorkItem], isClosed: Bool)>(([], false))
    private let wake = DispatchSemaphore(value: 0)

    /// Queues an item unless the queue is closed.
    /// - Parameter item: The work.
    /// - Returns: False if the store is closed (the item was not queued).
    func submit(_ item: WorkItem) -> Bool {
        let (queued, wasEmpty) = pending.withLock { state in
            guard !state.isClosed else { return (false, false) }
            state.items.append(item)
            if case .close = item { state.isClosed = true }
            return (true, state.items.count == 1)
        }
        // One signal per empty → non-empty change: the writer takes everything queued after each wake-up, so
        // items added to a list that already waits are taken with it (no futex call per item under load).
        if queued && wasEmpty { wake.signal() }
        return queued
    }

    /// Blocks until work is queued, then takes all of it, in submission order.
    func takeAll() -> [WorkItem] {
        while true {
            wake.wait()
            let items = pending.withLock { state in
                let items = state.items
                state.items.removeAll(keepingCapacity: true)
                return items
            }
            if !items.isEmpty { return items }
        }
    }
}
