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
    /// Set when the instance lock was lost to another instance: nothing more is committed.
    private let fenced = Atomic<Bool>(false)
    /// The connection holding the instance lock, when ``PostgresStoreConfiguration/holdsInstanceLock``; closed (and
    /// the lock released) by ``close()``.
    private let instanceLock: Mutex<PGConnection?>

    private struct CachedClaim {
        var expiresAt: Int64
        var response: [UInt8]
    }

    /// `postgresql`.
    package var backendName: String { "postgresql" }

    private init(
        configuration: PostgresStoreConfiguration, pool: ConnectionPool, instanceLock: PGConnection?, logger: Logger
    ) {
        self.configuration = configuration
        self.pool = pool
        self.logger = logger
        self.claims = Mutex([:])
        self.instanceLock = Mutex(instanceLock)
    }

    deinit { close() }

    /// Connects, checks the schema, and starts the pool's threads.
    /// - Parameters:
    ///   - configuration: The connection string, pool size, timeouts and retention.
    ///   - logger: Connection losses and recoveries are logged (never the connection string).
    /// - Returns: The open store.
    /// - Throws: ``StoreError/Code/unavailable`` when the database cannot be reached;
    ///   ``StoreError/Code/schemaVersion`` when its schema is older (naming `latchkey db migrate`) or newer than
    ///   this Latchkey's; ``StoreError/Code/locked`` when another instance holds the database's instance lock.
    package static func open(configuration: PostgresStoreConfiguration, logger: Logger) throws(StoreError)
        -> PostgresStore
    {
        let first = try configuration.connect()
        try PostgresSchema.check(first)
        let instanceLock = configuration.holdsInstanceLock ? try waitForInstanceLock(configuration, logger) : nil
        let health = Mutex<PostgresStore?>(nil)
        let pool = ConnectionPool(
            settings: configuration.poolSettings, first: first,
            onHealth: { error in health.withLock { $0 }?.noteHealth(error) },
            onConnect: { health.withLock { $0 }?.ensureInstanceLock() })
        let store = PostgresStore(configuration: configuration, pool: pool, instanceLock: instanceLock, logger: logger)
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
        if fenced.load(ordering: .acquiring) { return completion(.failure(Self.fencedError)) }
        let accepted = pool.submit { [self] slot in
            let result = Self.apply(transaction.operations, claim: claim, now: now, on: slot)
            record(result, claim: claim)
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
        _ operations: [Transaction.Operation], claim: PreparedClaim?, now: Int64, on slot: ConnectionSlot
    ) -> Result<Applied, StoreError> {
        let isEmpty = claim == nil && operations.isEmpty
        // An empty transaction is a round trip only, for /readyz's probe.
        let begun = slot.run(retryingLostConnection: true) { connection throws(StoreError) in
            try connection.execute(isEmpty ? Statements.ping : Statements.begin, [])
        }
        if case .failure(let error) = begun { return .failure(error) }
        if isEmpty { return .success(Applied(outcome: .committed)) }
        return slot.run(retryingLostConnection: false) { connection throws(StoreError) in
            try applyBegun(operations, claim: claim, now: now, on: connection)
        }
    }

    /// The transaction's statements after `BEGIN`, then `COMMIT` (or `ROLLBACK` on a duplicate or failure).
    private static func applyBegun(
        _ operations: [Transaction.Operation], claim: PreparedClaim?, now: Int64, on connection: PGConnection
    ) throws(StoreError) -> Applied {
        do throws(StoreError) {
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
            for operation in operations {
                switch operation {
                case .put(let key, let value): try connection.execute(Statements.put, [.text(key), .bytes(value)])
                case .delete(let key): try connection.execute(Statements.delete, [.text(key)])
                }
            }
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
            if error.isRetryable { noteHealth(error) }
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

    /// Lets queued commits finish, then closes the connections and ends the pool's threads, then releases the
    /// instance lock.
    package func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pool.close()
        instanceLock.withLock { held in
            // Released explicitly: the server ends a closed session a moment later, and a store opened again at once
            // (a restart) must find the lock free.
            _ = try? held?.execute("SELECT pg_advisory_unlock(\(Self.instanceLockKey))")
            held = nil
        }
    }

    /// Checks, before a new connection of the pool is used, that this instance still holds the instance lock, and
    /// takes it again when its connection went with the server (a restart releases it). When another instance took
    /// it meanwhile, this one is fenced: every later commit fails (503), so two instances never act on one database
    /// (its reconciler's intents, written before each Seam call, fail too).
    /// - Returns: nil when the lock is held, else the error that refuses the connection.
    fileprivate func ensureInstanceLock() -> StoreError? {
        guard configuration.holdsInstanceLock else { return nil }
        if fenced.load(ordering: .acquiring) { return Self.fencedError }
        return instanceLock.withLock { held -> StoreError? in
            if let connection = held, (try? connection.execute("SELECT 1")) != nil { return nil }
            held = nil
            do throws(StoreError) {
                held = try Self.takeInstanceLock(configuration)
                logger.notice("store: the instance lock is held again")
                return nil
            } catch {
                guard error.code == .locked else { return error }
                fenced.store(true, ordering: .releasing)
                noteHealth(Self.fencedError)
                logger.critical(
                    "store: another instance took the database while PostgreSQL was away; this one commits nothing more: stop it",
                    metadata: ["store.error": "\(error.description)"])
                return Self.fencedError
            }
        }
    }

    static let fencedError = StoreError(
        .locked,
        "another Latchkey instance took over this database (its instance lock) while PostgreSQL was away; this "
            + "instance commits nothing more: stop it")

    /// Takes the instance lock, waiting for it (once a second) when the configuration says to: a standby.
    private static func waitForInstanceLock(_ configuration: PostgresStoreConfiguration, _ logger: Logger)
        throws(StoreError) -> PGConnection
    {
        guard let shouldStop = configuration.waitForInstanceLock else { return try takeInstanceLock(configuration) }
        var announced = false
        while true {
            do throws(StoreError) {
                let connection = try takeInstanceLock(configuration)
                if announced { logger.notice("store: the instance lock is ours; this instance becomes the active one") }
                return connection
            } catch {
                guard error.code == .locked else { throw error }
            }
            if !announced {
                logger.notice("store: another instance is active on this database; waiting for it to stop (standby)")
                announced = true
            }
            for _ in 0..<10 {
                if shouldStop() {
                    throw StoreError(.closed, "stopped while waiting for the active instance (standby)")
                }
                usleep(100_000)
            }
        }
    }

    /// The advisory-lock key of the instance lock ("LKINST").
    private static let instanceLockKey: Int64 = 0x4C4B_494E_5354

    /// Takes the database's instance lock on a connection of its own, which holds it until it is closed (or lost:
    /// the server restarting releases it).
    /// - Throws: ``StoreError/Code/locked`` when another session holds it.
    private static func takeInstanceLock(_ configuration: PostgresStoreConfiguration) throws(StoreError)
        -> PGConnection
    {
        let connection = try configuration.connect()
        let taken = try connection.execute("SELECT pg_try_advisory_lock(\(instanceLockKey))")
        guard taken.string(row: 0, column: 0) == "t" else {
            throw StoreError(
                .locked,
                "another Latchkey instance is active on this database (it holds the instance lock); one instance "
                    + "may act on a database at a time: stop the other one first, then start this one")
        }
        return connection
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
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
            """)
    static let delete = PGStatement(name: "lk_delete", sql: "DELETE FROM latchkey_entries WHERE key = $1")
    static let value = PGStatement(name: "lk_value", sql: "SELECT value FROM latchkey_entries WHERE key = $1")
    static let range = PGStatement(
        name: "lk_range",
        sql: "SELECT key, value FROM latchkey_entries WHERE key >= $1 AND key < $2 ORDER BY key")
    static let startsWith = PGStatement(
        name: "lk_starts_with",
        sql: "SELECT key, value FROM latchkey_entries WHERE starts_with(key, $1) ORDER BY key")
    static let sweep = PGStatement(
        name: "lk_sweep", sql: "DELETE FROM latchkey_idempotency WHERE expires_at <= $1")
}
