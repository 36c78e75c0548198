/// What Latchkey asks of its durable store, whichever backend holds it: the flat-file journal (``Store``, the
/// default: one machine, nothing to install) or PostgreSQL (`PostgresStore`, shared by several instances).
///
/// The intake, the booking ledger, the reconciler's bridge (`StoreStateStore`), the health routes and the CLI hold an
/// `any DurableStore`; the contract every backend keeps is checked by one parameterized suite
/// (`Tests/StoreTests/StoreContractTests.swift`) run against each of them:
///
/// - ``commit(_:completion:)`` completes with ``CommitOutcome/committed`` only once the whole transaction is durable
///   (the journal: written and `fdatasync`ed; PostgreSQL: `COMMIT` returned with `synchronous_commit` on), all of it
///   or none; with ``CommitOutcome/duplicate(originalResponse:)`` (nothing applied) when the transaction's
///   idempotency key is already claimed, by this process or another one sharing the store; with a ``StoreError``
///   otherwise, and then nothing of it may be acknowledged.
/// - Reads see only committed state.
/// - ``idempotencyResponse(forKey:)`` is a fast path that never blocks (the listener thread calls it): it may answer
///   nil for a key that is claimed (PostgreSQL answers only for keys this process has seen), never a response for a
///   key that is not; the commit is what decides.
package protocol DurableStore: AnyObject, Sendable {
    /// The backend's name, as `store.backend` names it in the configuration: `flat_files` or `postgresql`.
    var backendName: String { get }

    /// Submits a transaction; `completion` runs once, on a thread of the store's own (the journal's writer
    /// `lk-journal`, a PostgreSQL connection's `lk-pg-N`), when the outcome is durable or the transaction failed, or
    /// at once on the calling thread for a transaction refused up front (too large, store closed). Keep `completion`
    /// short; it may read the store (``value(forKey:)``) but must not wait for another commit.
    /// - Parameters:
    ///   - transaction: The changes and optional idempotency claim.
    ///   - completion: Receives ``CommitOutcome/committed``, ``CommitOutcome/duplicate(originalResponse:)``, or an
    ///     error (``StoreError/isRetryable``: answer 503 + Retry-After).
    func commit(_ transaction: Transaction, completion: @escaping @Sendable (Result<CommitOutcome, StoreError>) -> Void)

    /// The committed value under `key`, or nil. May block (PostgreSQL: one query, on the store's thread when called
    /// from a completion, else on the caller's thread while a connection of the pool runs it).
    /// - Parameter key: The key, e.g. `booking/guesty/123`.
    /// - Throws: ``StoreError`` when the store cannot be read (PostgreSQL away).
    func value(forKey key: String) throws(StoreError) -> [UInt8]?

    /// Every committed entry whose key starts with `prefix`, sorted by key. May block, like ``value(forKey:)``.
    /// - Parameter prefix: E.g. `booking/`.
    /// - Throws: ``StoreError`` when the store cannot be read.
    func entries(withPrefix prefix: String) throws(StoreError) -> [(key: String, value: [UInt8])]

    /// ``entries(withPrefix:)`` for async callers (the reconciler): a backend whose reads block runs them on its own
    /// threads and suspends the caller, so Swift's cooperative pool never waits on the network.
    /// Default: ``entries(withPrefix:)``, for a backend that reads from memory.
    /// - Parameter prefix: E.g. `outbox/`.
    /// - Throws: ``StoreError`` when the store cannot be read.
    func loadEntries(withPrefix prefix: String) async throws(StoreError) -> [(key: String, value: [UInt8])]

    /// The response stored with an unexpired claim of `key`, or nil; never blocks (see the type's comment).
    /// - Parameter key: The idempotency key.
    func idempotencyResponse(forKey key: String) -> [UInt8]?

    /// False from a failed write (or a lost database) until a write succeeds again; `/readyz` answers 503 meanwhile.
    var isWritable: Bool { get }

    /// Counters and sizes (fields a backend has no use for stay 0).
    func stats() -> StoreStats

    /// Finishes queued commits and releases what the store holds (files and lock, or connections). Later commits
    /// fail with ``StoreError/Code/closed``. Safe to call more than once.
    func close()
}

extension DurableStore {
    /// ``entries(withPrefix:)`` as it is.
    package func loadEntries(withPrefix prefix: String) async throws(StoreError) -> [(key: String, value: [UInt8])] {
        try entries(withPrefix: prefix)
    }

    /// Commits a transaction and waits until it is durable.
    /// - Parameter transaction: The changes and optional idempotency claim.
    /// - Returns: ``CommitOutcome/committed`` or ``CommitOutcome/duplicate(originalResponse:)``.
    /// - Throws: The ``StoreError`` that kept it from being made durable.
    package func commit(_ transaction: Transaction) async throws(StoreError) -> CommitOutcome {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<CommitOutcome, StoreError>, Never>) in
            commit(transaction) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }
}

extension Store: DurableStore {
    /// `flat_files`.
    package var backendName: String { "flat_files" }
}
