import Bookings

/// The reconciler's records as a data directory holds them, for tools that read one without running a reconciler
/// (`latchkey outbox list`, `latchkey reservations show`): the reconciler owns their keys and their encoding, so
/// nothing else decodes them.
package struct StoredRecords: Sendable {
    /// Every outbox intent that decodes, oldest first.
    package let intents: [OutboxIntent]
    /// Every dead letter that decodes, newest first.
    package let deadLetters: [DeadLetter]
    /// One ``ReconcilerError/corruptRecord(key:reason:)`` for each intent or dead letter that does not decode (left
    /// out of ``intents`` and ``deadLetters``), in key order.
    package let problems: [ReconcilerError]

    private let entries: [String: [UInt8]]

    /// Reads the intents and dead letters of `entries`.
    /// - Parameter entries: A data directory's entries (`Store.readOnlySnapshot(at:)`).
    package init(entries: [String: [UInt8]]) {
        self.entries = entries
        var problems: [ReconcilerError] = []
        func decodeAll<Value: Decodable>(_ type: Value.Type, prefix: String) -> [Value] {
            entries.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.compactMap { entry in
                do {
                    return try RecordCodec.decode(type, from: entry.value, key: entry.key)
                } catch {
                    problems.append(error as? ReconcilerError ?? .corruptRecord(key: entry.key, reason: "\(error)"))
                    return nil
                }
            }
        }
        intents = decodeAll(OutboxIntent.self, prefix: StoreKeys.outbox).sorted { $0.createdAt < $1.createdAt }
        deadLetters = decodeAll(DeadLetter.self, prefix: StoreKeys.deadLetters).sorted { $0.failedAt > $1.failedAt }
        self.problems = problems
    }

    /// The reservation's record, or nil when the reconciler stored none (it stores one from its first Seam call,
    /// look-up or dead letter on).
    /// - Throws: ``ReconcilerError/corruptRecord(key:reason:)`` when the record does not decode.
    package func reservation(_ key: ReservationKey) throws(ReconcilerError) -> ReservationRecord? {
        let storeKey = StoreKeys.reservation(key)
        guard let bytes = entries[storeKey] else { return nil }
        do {
            return try RecordCodec.decode(ReservationRecord.self, from: bytes, key: storeKey)
        } catch {
            throw error as? ReconcilerError ?? .corruptRecord(key: storeKey, reason: "\(error)")
        }
    }

    /// The reservation's Seam call in flight, or nil.
    package func intent(for key: ReservationKey) -> OutboxIntent? {
        let storeKey = StoreKeys.intent(key)
        return entries[storeKey].flatMap { try? RecordCodec.decode(OutboxIntent.self, from: $0, key: storeKey) }
    }
}

extension Reconciler {
    /// Puts a dead letter back into the outbox of a stopped instance: removes it in one durable write, and the next
    /// ``start()`` unblocks its reservation and plans it again (a block whose letter is gone is cleared). A running
    /// instance retries through ``retry(deadLetterID:)`` (the admin API) instead.
    /// - Parameters:
    ///   - id: The dead letter's id, as `latchkey outbox list` prints it.
    ///   - store: The instance's state, opened with its lock held (no reconciler may be running on it).
    /// - Throws: ``ReconcilerError/unknownDeadLetter(id:)`` when there is no such letter; the store's errors.
    package static func requeueDeadLetter(_ id: String, in store: some StateStore) async throws {
        let key = StoreKeys.deadLetter(id)
        guard try await store.entries(prefix: key).contains(where: { $0.key == key }) else {
            throw ReconcilerError.unknownDeadLetter(id: id)
        }
        try await store.delete(key)
    }
}
