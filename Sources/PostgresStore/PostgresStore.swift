import Foundation
import Glibc
import Logging
import Store
import Synchronization

/// Latchkey's store in PostgreSQL, shared by every instance pointed at the same database: the same promises as the
/// flat-file journal (``DurableStore``), kept by the database instead of one machine's disk.
///
/// - A commit is one database transaction: the idempotency claim (`INSERT … ON CONFLICT (key_digest) DO UPDATE …
///   WHERE` the old claim expired), then the puts and deletes in order, then `COMMIT` with `synchronous_commit` on.
///   It completes ``CommitOutcome/committed`` only after `COMMIT` returned. When the key is claimed already (by this
///   instance or another), nothing is applied and the stored answer is read back:
///   ``CommitOutcome/duplicate(originalResponse:)``.
/// - A connection lost before `COMMIT` returned fails the commit (``StoreError/Code/unavailable``, answer 503): the
///   transaction may have committed, and a retry of the delivery is then answered by its key.
/// - Reads go to the database (never only to memory: another instance may have written). The one exception is
///   ``idempotencyResponse(forKey:)``, the listener thread's non-blocking fast path, which answers from the keys this
///   process committed or was told about (bounded, ``PostgresStoreConfiguration/claimCacheCapacity``) and nil for the
///   rest, which the commit then decides.
/// - Every libpq call runs on the pool's threads (``ConnectionPool``: `lk-pg-1` … `lk-pg-N`).
/// - Expired idempotency keys are deleted at most once per ``PostgresStoreConfiguration/retentionSweepInterval``,
///   by a job queued with a commit.
package final class PostgresStore: DurableStore {
    private let configuration: PostgresStoreConfiguration
    private let pool: ConnectionPool
    private let logger: Logger
    private let writable = Atomic<Bool>(true)
    private let counters = Mutex(StoreStats())
    private let claims: Mutex<[KeyDigest: CachedClaim]>
    private let lastSweep = Atomic<Int64>(0)
    private let isClosed = Atomic<Bool>(false)
    /// The work lease's term while this instance holds it (``WorkLease``); 0 when it does not, -1 once it lost it
    /// (for good: the process is to end).
    private let workTerm = Atomic<Int64>(0)
    /// Told once when a transaction needing the work lease found its term taken over.
    private let leaseLostHandler = Mutex<(@Sendable (StoreError) -> Void)?>(nil)

    private struct CachedClaim {
        var expiresAt: Int64
        var response: [UInt8]
    }

    /// `postgresql`.
    package var backendName: String { "postgresql" }

    private init(configuration: PostgresStoreConfiguration, pool: ConnectionPool, logger: Logger) {
        self.configuration = configuration
        self.pool = pool
        self.logger = logger
        self.claims = Mutex([:])
    }

    deinit { close() }

    /// Connects, checks the schema, and starts the pool's threads.
    /// - Parameters:
    ///   - configuration: The connection string, pool size, timeouts and retention.
    ///   - logger: Connection losses and recoveries are logged (never the connection string).
    /// - Returns: The open store.
    /// - Throws: ``StoreError/Code/unavailable`` when the database cannot be reached;
    ///   ``StoreError/Code/schemaVersion`` when its schema is older (naming `latchkey db migrate`) or newer than
    ///   this Latchkey's.
    package static func open(configuration: PostgresStoreConfiguration, logger: Logger) throws(StoreError)
        -> PostgresStore
    {
        let first = try configuration.connect()
        try PostgresSchema.check(first)
        let health = Mutex<PostgresStore?>(nil)
        let pool = ConnectionPool(
            settings: configuration.poolSettings, first: first,
            onHealth: { error in health.withLock { $0 }?.noteHealth(error) })
        let store = PostgresStore(configuration: configuration, pool: pool, logger: logger)
        health.withLock { $0 = store }
        logger.info(
            "store: opened PostgreSQL",
            metadata: [
                "store.backend": "postgresql", "store.pool_size": "\(configuration.poolSize)",
                "store.schema_version": "\(PostgresSchema.latestVersion)",
            ])
        return store
    }

    // MARK: - Writing

    /// Queues the transaction on the pool; `completion` runs on the pool thread that committed it.
    package func commit(
        _ transaction: Transaction, completion: @escaping @Sendable (Result<CommitOutcome, StoreError>) -> Void
    ) {
        let now = configuration.clock()
        let claim = transaction.claim.map { claim in
            PreparedClaim(
                digest: KeyDigest(of: claim.key),
                expiresAt: now + (claim.retention ?? configuration.idempotencyRetention).components.seconds,
                response: claim.response)
        }
        let term = transaction.requiresWorkLease ? workTerm.load(ordering: .acquiring) : nil
        if let term, term <= 0 { return completion(.failure(Self.notLeaseHolderError)) }
        let accepted = pool.submit { [self] slot in
            let result = Self.apply(transaction, claim: claim, term: term, now: now, on: slot)
            record(result, claim: claim)
            if case .failure(let error) = result, error == Self.leaseTakenError { leaseLost(error) }
            completion(result.map(\.outcome))
        }
        if !accepted { return completion(.failure(Self.closedError)) }
        sweepIfDue(now: now)
    }

    /// A claim with its digest and absolute expiry.
    private struct PreparedClaim: Sendable {
        var digest: KeyDigest
        var expiresAt: Int64
        var response: [UInt8]
    }

    /// What a commit did, and until when the claim it met (its own, or the one stored before) lasts.
    private struct Applied: Sendable {
        var outcome: CommitOutcome
        var claimExpiresAt: Int64?
    }

    /// One database transaction: `BEGIN` (retried once on a new connection if the pool's one went stale), the
    /// claim, then the operations, then `COMMIT`.
    private static func apply(
        _ transaction: Transaction, claim: PreparedClaim?, term: Int64?, now: Int64, on slot: ConnectionSlot
    ) -> Result<Applied, StoreError> {
        let isEmpty = claim == nil && transaction.operations.isEmpty && transaction.announcements.isEmpty
        // An empty transaction is a round trip only, for /readyz's probe.
        let begun = slot.run(retryingLostConnection: true) { connection throws(StoreError) in
            try connection.execute(isEmpty ? Statements.ping : Statements.begin, [])
        }
        if case .failure(let error) = begun { return .failure(error) }
        if isEmpty { return .success(Applied(outcome: .committed)) }
        return slot.run(retryingLostConnection: false) { connection throws(StoreError) in
            try applyBegun(transaction, claim: claim, term: term, now: now, on: connection)
        }
    }

    /// The transaction's statements after `BEGIN`, then `COMMIT` (or `ROLLBACK` on a duplicate or failure): the
    /// work lease's term checked first (`FOR SHARE`, so an instance taking the lease over waits for this transaction
    /// and every later one sees its new term), then the claim, the operations, the announcements.
    private static func applyBegun(
        _ transaction: Transaction, claim: PreparedClaim?, term: Int64?, now: Int64, on connection: PGConnection
    ) throws(StoreError) -> Applied {
        do throws(StoreError) {
            if let term, try connection.execute(Statements.leaseTerm, [.int64(term)]).rowCount == 0 {
                throw leaseTakenError
            }
            if let claim {
                let digest = claim.digest.bytes
                let inserted = try connection.execute(
                    Statements.claim, [.bytes(digest), .int64(claim.expiresAt), .bytes(claim.response), .int64(now)])
                if inserted.affectedRows == 0 {
                    let stored = try connection.execute(Statements.claimed, [.bytes(digest)])
                    try connection.execute(Statements.rollback, [])
                    guard let response = stored.bytes(row: 0, column: 0) else {
                        throw StoreError(
                            .database, "an idempotency key was claimed and gone at once (deleted meanwhile); retry")
                    }
                    return Applied(
                        outcome: .duplicate(originalResponse: response), claimExpiresAt: stored.int64(row: 0, column: 1)
                    )
                }
            }
            for operation in transaction.operations {
                switch operation {
                case .put(let key, let value):
                    if let order = transaction.orders[key] {
                        try connection.execute(
                            Statements.orderedPut,
                            [.text(key), .bytes(value), .float8(orNull: order.time), .int64(order.sequence)])
                    } else {
                        try connection.execute(Statements.put, [.text(key), .bytes(value)])
                    }
                case .delete(let key):
                    if let order = transaction.orders[key] {
                        try connection.execute(Statements.orderedDelete, [.text(key), .int64(order.sequence)])
                    } else {
                        try connection.execute(Statements.delete, [.text(key)])
                    }
                }
            }
            for key in transaction.announcements { try connection.execute(Statements.announce, [.text(key)]) }
            try connection.execute(Statements.commit, [])
            return Applied(outcome: .committed, claimExpiresAt: claim?.expiresAt)
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    /// Counts the outcome, remembers the claim for the fast path, and keeps ``isWritable`` current.
    private func record(_ result: Result<Applied, StoreError>, claim: PreparedClaim?) {
        switch result {
        case .success(let applied):
            let outcome = applied.outcome
            noteHealth(nil)
            var response = claim?.response
            if case .duplicate(let original) = outcome { response = original }
            if let claim, let response, let expiresAt = applied.claimExpiresAt {
                claims.withLock { cache in
                    if cache.count >= configuration.claimCacheCapacity { cache.removeAll(keepingCapacity: true) }
                    cache[claim.digest] = CachedClaim(expiresAt: expiresAt, response: response)
                }
            }
            counters.withLock { stats in
                if case .duplicate = outcome { stats.duplicates += 1 } else { stats.transactionsCommitted += 1 }
            }
        case .failure(let error):
            counters.withLock { stats in
                stats.failedBatches += 1
                stats.lastError = error
            }
            // A transaction refused for want of the work lease says nothing of the database's health.
            if error.isRetryable, error.code != .locked { noteHealth(error) }
        }
    }

    /// Marks the store writable again after a success, or not after a lost connection; logs each change once.
    fileprivate func noteHealth(_ error: StoreError?) {
        let healthy = error == nil
        guard writable.exchange(healthy, ordering: .acquiringAndReleasing) != healthy else { return }
        if let error {
            logger.error(
                "store: PostgreSQL cannot be written; deliveries get 503 until it is back",
                metadata: ["store.error": "\(error.description)"])
        } else {
            counters.withLock { $0.lastError = nil }
            logger.notice("store: PostgreSQL can be written again")
        }
    }

    /// Queues the deletion of expired idempotency keys when the last one is older than the sweep interval.
    private func sweepIfDue(now: Int64) {
        let last = lastSweep.load(ordering: .relaxed)
        let interval = configuration.retentionSweepInterval.components.seconds
        guard now - last >= interval,
            lastSweep.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
        else { return }
        pool.submit { [logger] slot in
            let swept = slot.run(retryingLostConnection: true) { connection throws(StoreError) in
                try connection.execute(Statements.sweep, [.int64(now)]).affectedRows
            }
            switch swept {
            case .success(let deleted):
                if deleted > 0 {
                    logger.info("store: expired idempotency keys deleted", metadata: ["keys": "\(deleted)"])
                }
            case .failure(let error):
                logger.warning(
                    "store: could not delete expired idempotency keys; the next sweep tries again",
                    metadata: ["store.error": "\(error.description)"])
            }
        }
    }

    // MARK: - Reading

    /// The committed value under `key`, read from the database.
    package func value(forKey key: String) throws(StoreError) -> [UInt8]? {
        try pool.perform { connection throws(StoreError) in
            try connection.execute(Statements.value, [.text(key)]).bytes(row: 0, column: 0)
        }.get()
    }

    /// Every committed entry under `prefix`, sorted by key (bytewise), read from the database.
    package func entries(withPrefix prefix: String) throws(StoreError) -> [(key: String, value: [UInt8])] {
        try pool.perform { connection throws(StoreError) in try Self.entries(prefix, on: connection) }.get().map {
            (key: $0.key, value: $0.value)
        }
    }

    /// ``entries(withPrefix:)`` on a pool thread while the caller suspends.
    package func loadEntries(withPrefix prefix: String) async throws(StoreError) -> [(key: String, value: [UInt8])] {
        try await pool.perform { connection throws(StoreError) in try Self.entries(prefix, on: connection) }.get().map {
            (key: $0.key, value: $0.value)
        }
    }

    /// A key and its value, Sendable.
    private struct Entry: Sendable {
        var key: String
        var value: [UInt8]
    }

    private static func entries(_ prefix: String, on connection: PGConnection) throws(StoreError) -> [Entry] {
        let result: PGResult
        if let upper = prefixUpperBound(prefix) {
            result = try connection.execute(Statements.range, [.text(prefix), .text(upper)])
        } else {
            result = try connection.execute(Statements.startsWith, [.text(prefix)])
        }
        return (0..<result.rowCount).map { row in
            Entry(key: result.string(row: row, column: 0) ?? "", value: result.bytes(row: row, column: 1) ?? [])
        }
    }

    /// The least string greater than every string starting with `prefix`, for an index range: `prefix` with its last
    /// byte raised by one, when that byte is ASCII below 0x7F; nil otherwise (and for the empty prefix).
    static func prefixUpperBound(_ prefix: String) -> String? {
        var bytes = Array(prefix.utf8)
        guard let last = bytes.last, last < 0x7F else { return nil }
        bytes[bytes.count - 1] = last + 1
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The answer remembered for `key` when this process committed or met its claim and it has not expired; nil
    /// otherwise (the commit asks the database). Never blocks.
    package func idempotencyResponse(forKey key: String) -> [UInt8]? {
        let digest = KeyDigest(of: key)
        let now = configuration.clock()
        return claims.withLock { cache in
            guard let claim = cache[digest], claim.expiresAt > now else { return nil }
            return claim.response
        }
    }

    /// False from a lost connection (or a failed commit) until a commit or connection succeeds again.
    package var isWritable: Bool { writable.load(ordering: .acquiring) }

    /// Commits, duplicates and failed commits since open, and whether the store is writable.
    package func stats() -> StoreStats {
        var stats = counters.withLock { $0 }
        stats.isWritable = isWritable
        stats.idempotencyKeyCount = claims.withLock { $0.count }
        return stats
    }

    /// Lets queued commits finish, then closes the connections and ends the pool's threads.
    package func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pool.close()
    }

    // MARK: - The work lease

    /// Called by ``WorkLease`` when it took the lease with `term`: transactions needing the lease commit from now.
    func leaseTaken(term: Int64) {
        workTerm.store(term, ordering: .releasing)
    }

    /// Marks the lease lost for good (the term was taken over, or the lease could not be kept) and tells the
    /// handler, once: every later transaction needing the lease fails.
    func leaseLost(_ error: StoreError) {
        guard workTerm.exchange(-1, ordering: .acquiringAndReleasing) != -1 else { return }
        logger.critical(
            "work lease: lost; another instance runs the reconciler now, so this one must stop",
            metadata: ["store.error": "\(error.description)"])
        leaseLostHandler.withLock { $0 }?(error)
    }

    /// Sets what is told when the work lease is lost (the gateway ends the process: nothing of an old term may go
    /// on acting on Seam).
    package func onWorkLeaseLost(_ handler: @escaping @Sendable (StoreError) -> Void) {
        leaseLostHandler.withLock { $0 = handler }
    }

    /// Confirms, with a read of the lease's term, that this instance still holds the work lease: right before a
    /// change is sent to Seam, so that an instance that lost it (and has not noticed) sends none. An instance that
    /// takes the lease over waits ``WorkLease/takeoverGrace`` before its first call, so a change confirmed just before
    /// the takeover has landed at Seam by then, and is found when the new holder reads back the intent in flight.
    /// - Throws: ``StoreError/Code/locked`` when the lease is not (or no longer) this instance's, after telling the
    ///   lost-lease handler; the read's error when the database cannot be reached.
    package func confirmWorkLease() async throws(StoreError) {
        let term = workTerm.load(ordering: .acquiring)
        guard term > 0 else { throw Self.notLeaseHolderError }
        let current = try await pool.perform { connection throws(StoreError) in
            try connection.execute(Statements.leaseTermNow, [.int64(term)]).rowCount
        }.get()
        if current == 0 {
            leaseLost(Self.leaseTakenError)
            throw Self.leaseTakenError
        }
    }

    /// Whether this instance holds the work lease now.
    package var holdsWorkLease: Bool { workTerm.load(ordering: .acquiring) > 0 }

    static let notLeaseHolderError = StoreError(
        .locked,
        "this instance does not hold the work lease (another instance on this database runs the reconciler); only "
            + "the holder writes the reconciler's records")

    static let leaseTakenError = StoreError(
        .locked,
        "another Latchkey instance took the work lease over (a newer term); this instance writes nothing more of the "
            + "reconciler's and stops")

    /// The advisory-lock key of the work lease ("LKINST", the key of the former instance lock, so an older Latchkey
    /// and this one never both act).
    static let workLeaseLockKey: Int64 = 0x4C4B_494E_5354

    // MARK: - Shared work

    /// Takes up to `limit` announced keys off the work queue (``Transaction/announcements``), oldest first, deleting
    /// them (`FOR UPDATE SKIP LOCKED`, so an instance draining at the same moment never waits for or repeats them).
    /// A key may come more than once. The caller must act on them or remember them: they are gone from the queue.
    package func takeAnnouncements(limit: Int) async throws(StoreError) -> [String] {
        try await pool.perform { connection throws(StoreError) in
            let result = try connection.execute(Statements.takeAnnouncements, [.int64(Int64(limit))])
            return (0..<result.rowCount).compactMap { result.string(row: $0, column: 0) }
        }.get()
    }

    /// The committed values of `keys` (absent keys left out), read on one pool connection while the caller suspends.
    package func loadValues(forKeys keys: [String]) async throws(StoreError) -> [String: [UInt8]] {
        try await pool.perform { connection throws(StoreError) in
            var values: [String: [UInt8]] = [:]
            for key in Set(keys) {
                if let value = try connection.execute(Statements.value, [.text(key)]).bytes(row: 0, column: 0) {
                    values[key] = value
                }
            }
            return values
        }.get()
    }

    /// A number for this instance's receipt sequences (0–255): the next of the database's sequence, so instances
    /// started one after the other get different ones (256 starts apart they repeat).
    package func instanceSlot() throws(StoreError) -> UInt8 {
        try pool.perform { connection throws(StoreError) in
            let result = try connection.execute("SELECT nextval('latchkey_instance_slots')", [])
            return UInt8(truncatingIfNeeded: result.int64(row: 0, column: 0) ?? 0)
        }.get()
    }

    static let closedError = StoreError(.closed, "the PostgreSQL store was closed; open it again to commit")
}

/// The statements a running store uses, each prepared once per connection.
enum Statements {
    static let begin = PGStatement(name: "lk_begin", sql: "BEGIN")
    static let commit = PGStatement(name: "lk_commit", sql: "COMMIT")
    static let rollback = PGStatement(name: "lk_rollback", sql: "ROLLBACK")
    static let ping = PGStatement(name: "lk_ping", sql: "SELECT 1")
    /// Claims a key unless an unexpired claim holds it ($4: now); 1 row affected when claimed.
    static let claim = PGStatement(
        name: "lk_claim",
        sql: """
            INSERT INTO latchkey_idempotency AS i (key_digest, expires_at, response) VALUES ($1, $2, $3)
            ON CONFLICT (key_digest) DO UPDATE SET expires_at = EXCLUDED.expires_at, response = EXCLUDED.response
            WHERE i.expires_at <= $4
            """)
    static let claimed = PGStatement(
        name: "lk_claimed", sql: "SELECT response, expires_at FROM latchkey_idempotency WHERE key_digest = $1")
    static let put = PGStatement(
        name: "lk_put",
        sql: """
            INSERT INTO latchkey_entries (key, value) VALUES ($1, $2)
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, order_time = NULL, order_sequence = NULL
            """)
    static let delete = PGStatement(name: "lk_delete", sql: "DELETE FROM latchkey_entries WHERE key = $1")
    static let value = PGStatement(name: "lk_value", sql: "SELECT value FROM latchkey_entries WHERE key = $1")
    static let range = PGStatement(
        name: "lk_range",
        sql: "SELECT key, value FROM latchkey_entries WHERE key >= $1 AND key < $2 ORDER BY key")
    static let startsWith = PGStatement(
        name: "lk_starts_with",
        sql: "SELECT key, value FROM latchkey_entries WHERE starts_with(key, $1) ORDER BY key")
    /// Puts a value with its order ($3 time or NULL, $4 sequence) unless the stored one's order is later
    /// (`EntryOrder.supersedes`, the same rule); a stored value without an order is replaced.
    static let orderedPut = PGStatement(
        name: "lk_ordered_put",
        sql: """
            INSERT INTO latchkey_entries AS e (key, value, order_time, order_sequence) VALUES ($1, $2, $3, $4)
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, order_time = EXCLUDED.order_time,
                order_sequence = EXCLUDED.order_sequence
            WHERE e.order_sequence IS NULL OR CASE
                WHEN EXCLUDED.order_time IS NOT NULL AND e.order_time IS NOT NULL AND EXCLUDED.order_time <> e.order_time
                THEN EXCLUDED.order_time > e.order_time
                ELSE EXCLUDED.order_sequence > e.order_sequence END
            """)
    /// Deletes a value only while its order's sequence is $2 (or it has none).
    static let orderedDelete = PGStatement(
        name: "lk_ordered_delete",
        sql: "DELETE FROM latchkey_entries WHERE key = $1 AND (order_sequence IS NULL OR order_sequence = $2)")
    static let announce = PGStatement(name: "lk_announce", sql: "INSERT INTO latchkey_work (key) VALUES ($1)")
    static let takeAnnouncements = PGStatement(
        name: "lk_take_announcements",
        sql: """
            DELETE FROM latchkey_work WHERE id IN (
                SELECT id FROM latchkey_work ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING key
            """)
    /// One row while the work lease's term is $1, locked `FOR SHARE` until the transaction ends.
    static let leaseTerm = PGStatement(
        name: "lk_lease_term", sql: "SELECT 1 FROM latchkey_work_lease WHERE id = 1 AND term = $1 FOR SHARE")
    /// One row while the work lease's term is $1 (no lock: a read right before a Seam call).
    static let leaseTermNow = PGStatement(
        name: "lk_lease_term_now", sql: "SELECT 1 FROM latchkey_work_lease WHERE id = 1 AND term = $1")
    static let sweep = PGStatement(
        name: "lk_sweep", sql: "DELETE FROM latchkey_idempotency WHERE expires_at <= $1")
}
