/// What a snapshot says about itself.
public struct StoreSnapshotInfo: Sendable, Equatable {
    /// The first journal segment not covered by the snapshot.
    public var replayFrom: UInt64
    /// When it was written, seconds since the Unix epoch.
    public var createdAt: Int64
    /// Entries it holds.
    public var entryCount: Int
    /// Idempotency claims it holds.
    public var claimCount: Int
    /// Its size in bytes.
    public var bytes: Int
}

/// Counters and sizes of a running ``Store``, for `/metrics` and tests.
public struct StoreStats: Sendable, Equatable {
    /// Key → value entries in memory.
    public var entryCount = 0
    /// Idempotency claims in memory (expired ones linger until the next compaction).
    public var idempotencyKeyCount = 0
    /// Bytes of stored idempotency responses in memory.
    public var responseArenaBytes = 0
    /// Bytes in the journal segments since the last snapshot.
    public var journalBytes = 0
    /// The number of the segment being appended to.
    public var currentSegment: UInt64 = 0
    /// Transactions made durable since open.
    public var transactionsCommitted = 0
    /// Transactions answered as duplicates since open.
    public var duplicates = 0
    /// Batches written (each one `pwrite` + one `fdatasync`) since open.
    public var batchesWritten = 0
    /// `fdatasync` calls on the journal since open: fewer than ``transactionsCommitted`` under concurrency.
    public var journalSyncs = 0
    /// Batches that failed (write or sync error) since open; each failed all its transactions.
    public var failedBatches = 0
    /// Compactions completed since open.
    public var compactions = 0
    /// Whether the last write succeeded (false from a failed write until the next successful one).
    public var isWritable = true
    /// The last write error, if the store is not writable.
    public var lastError: StoreError?
}
