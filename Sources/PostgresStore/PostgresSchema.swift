import Store

/// The database schema Latchkey keeps in PostgreSQL, as numbered migrations applied by `latchkey db migrate`, and
/// the check `serve` makes at start.
///
/// Tables (all prefixed `latchkey_`, so the database may hold others):
/// - `latchkey_entries (key text COLLATE "C" PRIMARY KEY, value bytea)`: the key → value map (`booking/…`,
///   `reconciler/…`, `outbox/…`), byte-ordered so a prefix is an index range;
/// - `latchkey_idempotency (key_digest bytea PRIMARY KEY, expires_at bigint, response bytea)`: each claimed
///   idempotency key (the first 128 bits of SHA-256 over `delivery/<source>/<delivery id>`, as the journal keeps it),
///   unique, so two instances claiming one delivery commit it once;
/// - since version 2, `latchkey_entries.order_time`, `order_sequence`: the order of a value that must not be replaced
///   by an older one written by another instance (a reservation's latest booking; `Transaction.orders`);
/// - `latchkey_work (id bigserial, key text)`: keys the instance holding the work lease must look at (bookings taken
///   by another instance, Seam events stored for it), drained with `FOR UPDATE SKIP LOCKED`;
/// - `latchkey_work_lease (id = 1, term, holder, taken_at)`: the work lease's term, raised by each instance that
///   takes it (under the advisory lock), and checked `FOR SHARE` by every transaction that needs the lease;
/// - `latchkey_instance_slots`: a sequence giving each starting instance the low bits of its receipt sequences;
/// - `latchkey_schema_migrations (version integer PRIMARY KEY, description text, applied_at timestamptz)`: one row
///   per migration applied.
package enum PostgresSchema {
    /// One step of the schema.
    package struct Migration: Sendable {
        /// Its number, from 1, in the order they apply.
        package let version: Int
        /// What it does, stored with it.
        package let description: String
        /// The statements.
        let sql: String
    }

    /// Every migration, in order. Append only: a migration once released is never changed.
    package static let migrations: [Migration] = [
        Migration(
            version: 1, description: "entries, idempotency keys",
            sql: """
                CREATE TABLE latchkey_entries (
                    key text COLLATE "C" PRIMARY KEY,
                    value bytea NOT NULL
                );
                CREATE TABLE latchkey_idempotency (
                    key_digest bytea PRIMARY KEY CHECK (octet_length(key_digest) = 16),
                    expires_at bigint NOT NULL,
                    response bytea NOT NULL
                );
                CREATE INDEX latchkey_idempotency_expires_at ON latchkey_idempotency (expires_at);
                """),
        Migration(
            version: 2, description: "instances serving at once: entry orders, work queue, work lease",
            sql: """
                ALTER TABLE latchkey_entries ADD COLUMN order_time double precision, ADD COLUMN order_sequence bigint;
                CREATE TABLE latchkey_work (
                    id bigserial PRIMARY KEY,
                    key text COLLATE "C" NOT NULL
                );
                CREATE TABLE latchkey_work_lease (
                    id integer PRIMARY KEY CHECK (id = 1),
                    term bigint NOT NULL,
                    holder text NOT NULL,
                    taken_at timestamptz NOT NULL
                );
                INSERT INTO latchkey_work_lease (id, term, holder, taken_at) VALUES (1, 0, '', now());
                CREATE SEQUENCE latchkey_instance_slots;
                """),
    ]

    /// The schema version this Latchkey needs: the last migration's.
    package static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// An advisory-lock key that serializes `latchkey db migrate` runs against one database.
    private static let migrationLock: Int64 = 0x4C_4B_4D_49_47  // "LKMIG"

    /// The version table, created by the first migration run.
    private static let createVersionTable = """
        CREATE TABLE IF NOT EXISTS latchkey_schema_migrations (
            version integer PRIMARY KEY,
            description text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    /// The database's schema version: 0 when no migration was ever applied.
    /// - Throws: ``StoreError`` when the database cannot be read.
    static func currentVersion(_ connection: PGConnection) throws(StoreError) -> Int {
        let exists = try connection.execute("SELECT to_regclass('latchkey_schema_migrations') IS NOT NULL")
        guard exists.string(row: 0, column: 0) == "t" else { return 0 }
        let result = try connection.execute("SELECT coalesce(max(version), 0)::text FROM latchkey_schema_migrations")
        return Int(result.string(row: 0, column: 0) ?? "0") ?? 0
    }

    /// Applies every migration newer than the database's version, all in one transaction (all or none), holding
    /// an advisory lock so two runs at once apply each migration once.
    /// - Returns: The versions applied (empty when the schema was already current).
    /// - Throws: ``StoreError/Code/schemaVersion`` when the database is newer than this Latchkey; the failing
    ///   statement's ``StoreError`` otherwise (nothing is applied then).
    static func migrate(_ connection: PGConnection) throws(StoreError) -> [Migration] {
        do throws(StoreError) {
            try connection.execute("BEGIN")
            try connection.execute("SELECT pg_advisory_xact_lock(\(migrationLock))")
            try connection.execute(createVersionTable)
            let current = try currentVersion(connection)
            guard current <= latestVersion else { throw newerSchema(current) }
            let pending = migrations.filter { $0.version > current }
            for migration in pending {
                try connection.execute(migration.sql)
                try connection.execute(
                    "INSERT INTO latchkey_schema_migrations (version, description) VALUES ($1::int8, $2)",
                    [.int64(Int64(migration.version)), .text(migration.description)])
            }
            try connection.execute("COMMIT")
            return pending
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    /// Checks that the database's schema is the one this Latchkey needs.
    /// - Throws: ``StoreError/Code/schemaVersion`` naming `latchkey db migrate` for an older (or empty) schema, or
    ///   saying to upgrade Latchkey for a newer one.
    static func check(_ connection: PGConnection) throws(StoreError) {
        let current = try currentVersion(connection)
        if current > latestVersion { throw newerSchema(current) }
        if current < latestVersion {
            throw StoreError(
                .schemaVersion,
                "the database's schema is at version \(current), this Latchkey needs \(latestVersion); "
                    + "run `latchkey db migrate --config FILE` first")
        }
    }

    private static func newerSchema(_ current: Int) -> StoreError {
        StoreError(
            .schemaVersion,
            "the database's schema is at version \(current), newer than the \(latestVersion) this Latchkey knows "
                + "(a newer Latchkey migrated it); run that newer Latchkey, or restore a backup taken before")
    }
}

extension PostgresStore {
    /// Applies the pending migrations (`latchkey db migrate`): connects, migrates in one transaction, disconnects.
    /// - Parameter configuration: Where the database is.
    /// - Returns: The migrations applied, oldest first (empty when the schema was current).
    /// - Throws: ``StoreError/Code/unavailable`` when the database cannot be reached; ``StoreError/Code/schemaVersion``
    ///   when it is newer than this Latchkey; the failing statement's error otherwise (nothing applied).
    package static func migrate(configuration: PostgresStoreConfiguration) throws(StoreError)
        -> [PostgresSchema.Migration]
    {
        try PostgresSchema.migrate(try configuration.connect())
    }

    /// The database's schema version (`latchkey db status`): 0 before the first migration.
    /// - Parameter configuration: Where the database is.
    /// - Throws: ``StoreError/Code/unavailable`` when the database cannot be reached.
    package static func schemaVersion(configuration: PostgresStoreConfiguration) throws(StoreError) -> Int {
        try PostgresSchema.currentVersion(try configuration.connect())
    }
}
