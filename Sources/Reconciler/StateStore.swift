import Bookings
import Foundation

/// Durable key/value storage for the reconciler's reservation records, outbox intents and dead letters.
///
/// The coordinator backs it with the Store journal; the reconciler's unit tests use an in-memory one.
/// Keys are ASCII strings with `/` separators; values are opaque bytes (JSON written by the reconciler).
package protocol StateStore: Sendable {
    /// Sets `key` to `value`. Must be durable (fdatasync'd) when it returns.
    func put(_ key: String, _ value: [UInt8]) async throws
    /// Removes `key` (no error when absent). Must be durable when it returns.
    func delete(_ key: String) async throws
    /// Every entry whose key starts with `prefix`, in any order.
    func entries(prefix: String) async throws -> [(key: String, value: [UInt8])]
    /// Sets every key to its value, all durable when it returns; a store that can should make it one atomic
    /// write. Default: ``put(_:_:)`` for each, in order.
    func putAll(_ entries: [(key: String, value: [UInt8])]) async throws
    /// Applies every write in order, all durable when it returns; a store that can should make it one atomic
    /// write (one `fdatasync`). Default: ``put(_:_:)`` or ``delete(_:)`` for each, in order.
    func commit(_ writes: [StateWrite]) async throws
}

/// One change to the reconciler's durable state.
package enum StateWrite: Sendable, Hashable {
    /// Sets `key` to `value`.
    case put(key: String, value: [UInt8])
    /// Removes `key`.
    case delete(key: String)

    /// The key written.
    package var key: String {
        switch self {
        case .put(let key, _), .delete(let key): key
        }
    }
}

extension StateStore {
    /// ``put(_:_:)`` for each entry, in order.
    package func putAll(_ entries: [(key: String, value: [UInt8])]) async throws {
        for entry in entries { try await put(entry.key, entry.value) }
    }

    /// ``put(_:_:)`` or ``delete(_:)`` for each write, in order.
    package func commit(_ writes: [StateWrite]) async throws {
        for write in writes {
            switch write {
            case .put(let key, let value): try await put(key, value)
            case .delete(let key): try await delete(key)
            }
        }
    }
}

extension StoreKeys {
    /// The record key of a reservation (the map of every key space is ``StoreKeys``, in Bookings).
    package static func reservation(_ key: ReservationKey) -> String {
        reservation(source: key.source, reservationID: key.reservationID)
    }

    /// The outbox intent key of a reservation.
    package static func intent(_ key: ReservationKey) -> String {
        intent(source: key.source, reservationID: key.reservationID)
    }
}

/// JSON encoding of stored values.
enum RecordCodec {
    /// Encodes `value` as JSON bytes with sorted keys.
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    /// Decodes JSON bytes written by ``encode(_:)``.
    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8], key: String) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw ReconcilerError.corruptRecord(key: key, reason: String(describing: error))
        }
    }
}

/// Failures of the reconciler itself (not of Seam).
package enum ReconcilerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stored value could not be decoded.
    case corruptRecord(key: String, reason: String)
    /// `retry(deadLetterID:)` named a dead letter that does not exist.
    case unknownDeadLetter(id: String)

    /// What went wrong and what to do.
    package var description: String {
        switch self {
        case .corruptRecord(let key, let reason):
            "the reconciler record at \(key) cannot be decoded (\(reason)); restore the data directory from a "
                + "snapshot or delete that key with `latchkey store` tools"
        case .unknownDeadLetter(let id):
            "no dead letter with id \(id); list them with `latchkey outbox dead-letters`"
        }
    }
}
