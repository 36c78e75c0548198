/// What a snapshot says about itself.
package struct StoreSnapshotInfo: Sendable, Equatable {
    /// The first journal segment not covered by the snapshot.
    package var replayFrom: UInt64
    /// When it was written, seconds since the Unix epoch.
    package var createdAt: Int64
    /// Entries it holds.
    package var entryCount: Int
    /// Idempotency claims it holds.
    package var claimCount: Int
    /// Its size in bytes.
    package var bytes: Int
}

/// Counters and sizes of a running ``Store``, for `/metrics` and tests.
package struct StoreStats: Sendable, Equatable {
    /// Key → value entries in memory.
    package var entryCount = 0
    /// Idempotency claims in memory (expired ones linger until the next compaction).
    package var idempotencyKeyCount = 0
    /// Bytes of stored idempotency responses in memory.
    package var responseArenaBytes = 0
    /// Bytes in the journal segments since the last snapshot.
    package var journalBytes = 0
    /// The number of the segment being appended to.
    package var currentSegment: UInt64 = 0
    /// Transactions made durable since open.
    package var transactionsCommitted = 0
    /// Transactions answered as duplicates since open.
    package var duplicates = 0
    /// Batches written (each one `pwrite` + one `fdatasync`) since open.
    package var batchesWritten = 0
    /// `fdatasync` calls on the journal since open: fewer than ``transactionsCommitted`` under concurrency.
    package var journalSyncs = 0
    /// Batches that failed (write or sync error) since open; each failed all its transactions.
    package var failedBatches = 0
    /// Compactions completed since open.
    package var compactions = 0
    /// Whether the last write succeeded (false from a failed write until the next successful one).
    package var isWritable = true
    /// The last write error, if the store is not writable.
    package var lastError: StoreError?

    /// Creates zeroed counters.
    package init() {}
}
