import Glibc
import Store

/// How a ``PostgresStore`` connects and behaves; every field but the connection string has a default.
package struct PostgresStoreConfiguration: Sendable {
    /// The libpq connection string or URI (`postgresql://user@host:5432/latchkey?sslmode=verify-full`). TLS
    /// settings (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`), keepalives and `target_session_attrs` pass through to
    /// libpq as they are. No default. It holds a password when there is one: never log it.
    package var url: String
    /// Connections in the pool, each with a thread of its own (`lk-pg-N`): commits in flight at once.
    /// Default: 8.
    package var poolSize: Int
    /// libpq's `connect_timeout`, in seconds. Default: 5.
    package var connectTimeoutSeconds: Int
    /// The server's `statement_timeout` for every statement, in seconds (0: none). Default: 10.
    package var statementTimeoutSeconds: Int
    /// The pause between a pool thread's failed connection attempt and its next one (commits meanwhile fail at once
    /// with 503). Default: 1 second.
    package var reconnectInterval: Duration
    /// How long a claimed idempotency key is remembered when its claim names no retention. Default: 7 days.
    package var idempotencyRetention: Duration
    /// The pause between two deletions of expired idempotency keys. Default: 1 hour.
    package var retentionSweepInterval: Duration
    /// Idempotency answers kept in memory for the listener's non-blocking fast path (the cache is emptied when full:
    /// a miss costs a commit that the database answers as a duplicate). Default: 100,000.
    package var claimCacheCapacity: Int
    /// The wall clock, in whole seconds since the Unix epoch, for idempotency expiry. Default: `time(nil)`.
    package var clock: @Sendable () -> Int64

    /// Creates a configuration; every parameter but `url` has the documented default.
    package init(
        url: String, poolSize: Int = 8, connectTimeoutSeconds: Int = 5, statementTimeoutSeconds: Int = 10,
        reconnectInterval: Duration = .seconds(1), idempotencyRetention: Duration = .seconds(7 * 24 * 3600),
        retentionSweepInterval: Duration = .seconds(3600), claimCacheCapacity: Int = 100_000
    ) {
        self.url = url
        self.poolSize = poolSize
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.statementTimeoutSeconds = statementTimeoutSeconds
        self.reconnectInterval = reconnectInterval
        self.idempotencyRetention = idempotencyRetention
        self.retentionSweepInterval = retentionSweepInterval
        self.claimCacheCapacity = claimCacheCapacity
        self.clock = { Int64(time(nil)) }
    }

    /// One connection, made now on the calling thread (for `open`, `latchkey db …` and `store import`).
    func connect() throws(StoreError) -> PGConnection {
        try PGConnection(
            url: url, connectTimeoutSeconds: connectTimeoutSeconds, statementTimeoutSeconds: statementTimeoutSeconds)
    }

    var poolSettings: ConnectionPool.Settings {
        ConnectionPool.Settings(
            url: url, size: poolSize, connectTimeoutSeconds: connectTimeoutSeconds,
            statementTimeoutSeconds: statementTimeoutSeconds, reconnectInterval: reconnectInterval)
    }
}
