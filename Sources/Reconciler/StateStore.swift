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
}

extension StateStore {
    /// ``put(_:_:)`` for each entry, in order.
    package func putAll(_ entries: [(key: String, value: [UInt8])]) async throws {
        for entry in entries { try await put(entry.key, entry.value) }
    }
}

/// The key layout inside a ``StateStore``: `reconciler/reservation/…`, `reconciler/outbox/…`, `reconciler/dead/…`.
/// Public for on-call tools that read a data directory offline (`latchkey outbox`, `latchkey reservations`).
package enum StoreKeys {
    /// Prefix of reservation records.
    package static let reservations = "reconciler/reservation/"
    /// Prefix of in-flight outbox intents (at most one per reservation).
    package static let outbox = "reconciler/outbox/"
    /// Prefix of dead letters.
    package static let deadLetters = "reconciler/dead/"

    /// The record key of a reservation.
    package static func reservation(_ key: ReservationKey) -> String { reservations + encode(key) }
    /// The intent key of a reservation.
    package static func intent(_ key: ReservationKey) -> String { outbox + encode(key) }
    /// The key of a dead letter.
    package static func deadLetter(_ id: String) -> String { deadLetters + id }

    /// `source/reservationID`, each percent-encoded so `/` and other bytes cannot collide.
    private static func encode(_ key: ReservationKey) -> String {
        "\(escape(key.source))/\(escape(key.reservationID))"
    }

    private static func escape(_ part: String) -> String {
        // Most ids need no escape; checking their bytes is far cheaper than Foundation's percent-encoding (which
        // leaves these bytes alone too). This runs for every booking the reconciler stores.
        ReservationKey.isPlain(part) ? part : part.addingPercentEncoding(withAllowedCharacters: unescaped) ?? part
    }

    /// What ``escape(_:)`` leaves as is: letters and digits, `-`, `_`, `.` (built once, not per key).
    private static let unescaped = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
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
