import Reconciler
import Store

/// The reconciler's durable state (``StateStore``) kept in the same journal as the deliveries.
struct StoreStateStore: StateStore {
    let store: Store

    func put(_ key: String, _ value: [UInt8]) async throws {
        try await putAll([(key, value)])
    }

    /// All entries in one transaction: one record and one `fdatasync` for a burst of bookings.
    func putAll(_ entries: [(key: String, value: [UInt8])]) async throws {
        var transaction = Transaction()
        for entry in entries { transaction.put(entry.value, forKey: entry.key) }
        _ = try await store.commit(transaction)
    }

    func delete(_ key: String) async throws {
        var transaction = Transaction()
        transaction.delete(key: key)
        _ = try await store.commit(transaction)
    }

    func entries(prefix: String) async throws -> [(key: String, value: [UInt8])] {
        store.entries(withPrefix: prefix)
    }
}
