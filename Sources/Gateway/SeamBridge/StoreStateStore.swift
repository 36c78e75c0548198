import Reconciler
import Store

/// The reconciler's durable state (``StateStore``) kept in the same store as the deliveries (the journal or
/// PostgreSQL).
package struct StoreStateStore: StateStore {
    /// The journal or PostgreSQL.
    package let store: any DurableStore

    /// Whether every transaction needs the work lease (``Transaction/requiresWorkLease``): true on a store shared by
    /// instances, so an instance that lost the lease writes none of the reconciler's state.
    package let requiresWorkLease: Bool

    /// Keeps the reconciler's state in `store` (also used by `latchkey outbox retry` on a stopped instance).
    /// - Parameters:
    ///   - store: The journal or PostgreSQL.
    ///   - requiresWorkLease: See ``requiresWorkLease``; default false.
    package init(store: any DurableStore, requiresWorkLease: Bool = false) {
        self.store = store
        self.requiresWorkLease = requiresWorkLease
    }

    /// An empty transaction, needing the work lease when ``requiresWorkLease``.
    private func transaction() -> Transaction {
        var transaction = Transaction()
        transaction.requiresWorkLease = requiresWorkLease
        return transaction
    }

    /// One transaction of one put.
    package func put(_ key: String, _ value: [UInt8]) async throws {
        try await putAll([(key, value)])
    }

    /// All entries in one transaction: one record and one `fdatasync` for a burst of bookings.
    package func putAll(_ entries: [(key: String, value: [UInt8])]) async throws {
        var transaction = self.transaction()
        for entry in entries { transaction.put(entry.value, forKey: entry.key) }
        _ = try await store.commit(transaction)
    }

    /// Every write in one transaction: one record and one `fdatasync` (an outbox step's result and the end of
    /// its intent, say).
    package func commit(_ writes: [StateWrite]) async throws {
        var transaction = self.transaction()
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
        var transaction = self.transaction()
        transaction.delete(key: key)
        _ = try await store.commit(transaction)
    }

    /// The committed entries under `prefix`.
    package func entries(prefix: String) async throws -> [(key: String, value: [UInt8])] {
        try await store.loadEntries(withPrefix: prefix)
    }
}
