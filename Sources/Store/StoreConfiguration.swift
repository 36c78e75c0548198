import Glibc

/// Tuning for a ``Store``. Every field has a default suited to a gateway handling up to a few
/// hundred webhooks a second with up to a few million idempotency keys.
package struct StoreConfiguration: Sendable {
    /// How long a claimed idempotency key is remembered when a ``Transaction/Claim`` gives no retention of its own.
    /// Default: 7 days. Keep it longer than the longest retry window of any provider (24 h is a floor).
    package var idempotencyRetention: Duration
    /// Journal size, in bytes, past which the writer compacts automatically (snapshot + remove old segments);
    /// it also waits until the journal is larger than the current snapshot, so that large states are not
    /// rewritten too often. The snapshot is written on a background thread while commits go on; after a failed
    /// automatic compaction the next attempt waits until the journal has grown by another quarter of this.
    /// Default: 64 MiB (about 800,000 small transactions). `Int.max` turns automatic compaction off.
    package var compactionThresholdBytes: Int
    /// Size, in bytes, past which the writer starts a new journal segment. Default: 16 MiB.
    package var segmentSizeLimitBytes: Int
    /// Largest group of transactions, in encoded bytes, written with one `write` and one `fdatasync`.
    /// Default: 4 MiB.
    package var maxBatchBytes: Int
    /// Zeros, in bytes, written ahead of the records at the end of the current segment whenever an append would
    /// grow the file, so that most `fdatasync` calls only flush data and not the file's size as well. Recovery
    /// reads trailing zeros as the end of the records. Default: 1 MiB; 0 turns it off.
    package var preallocationBytes: Int
    /// Largest single encoded transaction, in bytes; larger ones fail with ``StoreError/Code/invalidTransaction``.
    /// Default: 16 MiB.
    package var maxRecordBytes: Int
    /// Free space, in bytes, the file system must have when the store opens, or open fails with
    /// ``StoreError/Code/diskFull``. Default: 1 MiB.
    package var minimumFreeBytesAtOpen: Int
    /// Called on the writer thread after each successful `fdatasync` of a group commit, with the number of
    /// transactions it made durable and how long the `fdatasync` took, in seconds. For metrics (journal sync
    /// latency, group-commit batch sizes); it must return quickly and must not call back into the store.
    /// Default: nil (nothing is called).
    package var onBatchSynced: (@Sendable (_ records: Int, _ fsyncSeconds: Double) -> Void)? = nil
    /// Runs the completions of one group commit (its argument) on the writer thread, so that what they have in
    /// common can be done once per batch: the gateway gathers their log lines into one `write`
    /// (`LogLines.gathered`). It must call its argument exactly once. Default: nil (the completions run as they are).
    package var aroundCompletions: (@Sendable (() -> Void) -> Void)? = nil
    /// The wall clock, in whole seconds since the Unix epoch, used for idempotency expiry. Default: `time(nil)`.
    /// Tests replace it to move time forward.
    package var clock: @Sendable () -> Int64
    /// A hook that lets tests make chosen system calls fail with an errno. Default: none.
    package var faults: FaultInjection?

    /// Creates a configuration; every parameter has the documented default.
    /// - Parameters:
    ///   - idempotencyRetention: Default 7 days.
    ///   - compactionThresholdBytes: Default 64 MiB.
    ///   - segmentSizeLimitBytes: Default 16 MiB.
    ///   - maxBatchBytes: Default 4 MiB.
    ///   - preallocationBytes: Default 1 MiB.
    ///   - maxRecordBytes: Default 16 MiB.
    ///   - minimumFreeBytesAtOpen: Default 1 MiB.
    package init(
        idempotencyRetention: Duration = .seconds(7 * 24 * 3600),
        compactionThresholdBytes: Int = 64 << 20,
        segmentSizeLimitBytes: Int = 16 << 20,
        maxBatchBytes: Int = 4 << 20,
        preallocationBytes: Int = 1 << 20,
        maxRecordBytes: Int = 16 << 20,
        minimumFreeBytesAtOpen: Int = 1 << 20
    ) {
        self.idempotencyRetention = idempotencyRetention
        self.compactionThresholdBytes = compactionThresholdBytes
        self.segmentSizeLimitBytes = segmentSizeLimitBytes
        self.maxBatchBytes = maxBatchBytes
        self.preallocationBytes = preallocationBytes
        self.maxRecordBytes = maxRecordBytes
        self.minimumFreeBytesAtOpen = minimumFreeBytesAtOpen
        self.clock = { Int64(time(nil)) }
        self.faults = nil
    }
}

/// The points at which ``FaultInjection`` can make the store's I/O fail.
package enum FaultPoint: Sendable, Equatable {
    /// Appending a batch to the journal (`pwrite`).
    case journalWrite
    /// Syncing a batch (`fdatasync`).
    case journalSync
    /// Creating a journal segment or the data directory at open.
    case create
    /// Writing a snapshot during compaction; consulted on the thread that writes it (the compactor thread for an
    /// automatic compaction, so a test hook may block there to hold a compaction in flight).
    case snapshotWrite
}

/// A test hook: returns an errno to make the operation at a ``FaultPoint`` fail, or nil to run it for real.
package struct FaultInjection: Sendable {
    /// Decides, per operation, whether it fails and with which errno.
    package var errnoFor: @Sendable (FaultPoint) -> Int32?
    /// Creates a hook.
    /// - Parameter errnoFor: Returns an errno to inject, or nil.
    package init(errnoFor: @escaping @Sendable (FaultPoint) -> Int32?) { self.errnoFor = errnoFor }
}
