import Store

extension PostgresStore {
    /// What an import wrote.
    package struct ImportCount: Sendable, Equatable {
        /// Entries written (each replacing the database's value of its key, if any).
        package var entries: Int
        /// Claims written (a claim already in the database is kept when it lasts longer).
        package var claims: Int

        /// Creates a count.
        package init(entries: Int, claims: Int) {
            self.entries = entries
            self.claims = claims
        }
    }

    /// Writes an export (`latchkey store import`) into the database, all in one transaction: every entry (replacing
    /// the value a key had) and every claim not yet expired (keeping whichever of two claims of one key lasts
    /// longer). Importing the same file twice changes nothing the second time, so a move can import a first export
    /// while the old instance still runs, then a last one after it stopped.
    /// - Parameters:
    ///   - export: What ``StoreExport/load(from:)`` read.
    ///   - configuration: Where the database is.
    /// - Returns: How many entries and claims were written.
    /// - Throws: ``StoreError/Code/schemaVersion`` when the database is not migrated; ``StoreError/Code/locked`` when
    ///   an instance runs on it (holds the work lease: its reconciler would not see what is imported); the failing
    ///   statement's error otherwise (nothing is written then).
    package static func importRecords(_ export: StoreExport, configuration: PostgresStoreConfiguration)
        throws(StoreError) -> ImportCount
    {
        let connection = try configuration.connect()
        try PostgresSchema.check(connection)
        let now = configuration.clock()
        var count = ImportCount(entries: 0, claims: 0)
        do throws(StoreError) {
            try connection.execute("BEGIN")
            try refuseWhileAnInstanceRuns(connection, doing: "importing")
            for entry in export.entries {
                try connection.execute(Statements.put, [.text(entry.key), .bytes(entry.value)])
                count.entries += 1
            }
            for claim in export.claims where claim.expiresAt > now {
                try connection.execute(
                    Statements.importClaim, [.bytes(claim.digest), .int64(claim.expiresAt), .bytes(claim.response)])
                count.claims += 1
            }
            try connection.execute("COMMIT")
        } catch {
            connection.rollbackQuietly()
            throw error
        }
        return count
    }
}

extension PostgresStore {
    /// Refuses (``StoreError/Code/locked``) when an instance holds the work lease: what an offline command writes
    /// would not be seen by its reconciler, or be overwritten by it.
    /// - Parameter configuration: Where the database is.
    package static func refuseWhileAnInstanceRuns(configuration: PostgresStoreConfiguration) throws(StoreError) {
        let connection = try configuration.connect()
        try connection.execute("BEGIN")
        try refuseWhileAnInstanceRuns(connection, doing: "changing its records offline")
        try connection.execute("COMMIT")
    }

    /// The check, in the transaction open on `connection` (the lock is tried for that transaction only).
    static func refuseWhileAnInstanceRuns(_ connection: PGConnection, doing what: String) throws(StoreError) {
        let free = try connection.execute("SELECT pg_try_advisory_xact_lock(\(workLeaseLockKey))")
        guard free.string(row: 0, column: 0) == "t" else {
            connection.rollbackQuietly()
            throw StoreError(
                .locked,
                "a Latchkey instance runs on this database (it holds the work lease); stop every instance on it "
                    + "before \(what), or go through the running one")
        }
    }
}

extension Statements {
    /// Writes an imported claim unless one of the same key lasts longer.
    static let importClaim = PGStatement(
        name: "lk_import_claim",
        sql: """
            INSERT INTO latchkey_idempotency AS i (key_digest, expires_at, response) VALUES ($1, $2, $3)
            ON CONFLICT (key_digest) DO UPDATE SET expires_at = EXCLUDED.expires_at, response = EXCLUDED.response
            WHERE i.expires_at < EXCLUDED.expires_at
            """)
}

extension PostgresStore {
    /// Every entry, read in one query on a connection of its own, without the work lease (safe while an instance
    /// runs): for the on-call commands that read a stopped or running instance's records.
    /// - Parameter configuration: Where the database is.
    /// - Throws: ``StoreError`` when the database cannot be read or its schema is not this Latchkey's.
    package static func readEntries(configuration: PostgresStoreConfiguration) throws(StoreError) -> [String: [UInt8]] {
        let connection = try configuration.connect()
        try PostgresSchema.check(connection)
        let result = try connection.execute("SELECT key, value FROM latchkey_entries", [])
        var entries: [String: [UInt8]] = [:]
        for row in 0..<result.rowCount {
            if let key = result.string(row: row, column: 0) { entries[key] = result.bytes(row: row, column: 1) ?? [] }
        }
        return entries
    }
}
