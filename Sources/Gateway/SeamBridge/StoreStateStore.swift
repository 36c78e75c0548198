import Reconciler
import Store

/// The reconciler's durable state (``StateStore``) kept in the same store as the deliveries (the journal or
/// PostgreSQL).
package struct StoreStateStore: StateStore {
    /// The journal or PostgreSQL.
    package let store: any DurableStore

    /// Keeps the reconciler's state in `store` (also used by `latchkey outbox retry` on a stopped instance).
    package init(store: any DurableStore) { self.store = store }

    /// One transaction of one put.
    package func put(_ key: String, _ value: [UInt8]) async throws {
        try await putAll([(key, value)])
    }

    /// All entries in one transaction: one record and one `fdatasync` for a burst of bookings.
    package func putAll(_ entries: [(key: String, value: [UInt8])]) async throws {
        var transaction = Transaction()
        for entry in entries { transaction.put(entry.value, forKey: entry.key) }
        _ = try await store.commit(transaction)
    }

    /// Every write in one transaction: one record and one `fdatasync` (an outbox step's result and the end of
    /// its intent, say).
    package func commit(_ writes: [StateWrite]) async throws {
        var transaction = Transaction()
        for write in writes {
            switch write {
            case .put(let key, let value): transaction.put(value, forKey: key)
            case .delete(let key): transaction.delete(key: key)
            }
        }
        _ = try await store.commit(transaction)
    }

    /// One transaction of one delete.
    package func delete(_ key: String) async throws {
        var transaction = Transaction()
        transaction.delete(key: key)
        _ = try await store.commit(transaction)
    }

    /// The committed entries under `prefix`.
    package func entries(prefix: String) async throws -> [(key: String, value: [UInt8])] {
        try await store.loadEntries(withPrefix: prefix)
    }
}
