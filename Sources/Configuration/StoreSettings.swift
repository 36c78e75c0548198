/// `store:`: where Latchkey keeps deliveries, bookings and the reconciler's records.
package struct StoreSettings: Sendable {
    /// The backend.
    package enum Backend: String, Sendable, CaseIterable {
        /// The flat-file journal in `data_dir`: one machine, nothing to install.
        case flatFiles = "flat_files"
        /// PostgreSQL, shared by every instance pointed at it (`store.postgresql`).
        case postgresql
    }

    /// The backend. Default `flat_files`.
    package var backend: Backend = .flatFiles
    /// `store.postgresql:`, required when the backend is `postgresql`. Default none.
    package var postgresql: PostgreSQLSettings? = nil

    /// Creates settings with the documented defaults.
    package init() {}
}

/// `store.postgresql:`: how Latchkey reaches PostgreSQL.
package struct PostgreSQLSettings: Sendable {
    /// The libpq connection string or URI (it may hold a password, so it is a secret: `{env: LATCHKEY_DATABASE_URL}`
    /// or `{file: …}`); TLS settings go in it (`?sslmode=verify-full&sslrootcert=…`). No default.
    package var url: SecretReference
    /// Connections in the pool (each with a thread of its own): commits in flight at once. Default 8.
    package var poolSize: Int = 8
    /// The time allowed to connect, in seconds. Default 5.
    package var connectTimeoutSeconds: Int = 5
    /// The longest a statement may run, in seconds (0: no limit). Default 10.
    package var statementTimeoutSeconds: Int = 10

    /// Creates settings; every field but `url` has the documented default.
    /// - Parameter url: Where the connection string comes from.
    package init(url: SecretReference) { self.url = url }
}
