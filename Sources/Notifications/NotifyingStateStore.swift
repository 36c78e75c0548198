import Bookings
import Foundation
import Reconciler
import Synchronization

/// The reconciler's ``StateStore`` with the notification outbox written into it: every transaction that changes a
/// reservation's record also carries the `access.*` events of that change (``AccessEvents``), so an event is
/// stored exactly when the state it reports is, and only then handed to the ``NotificationDispatcher``.
///
/// It keeps the last committed record of each reservation that could produce an event (one with codes or a
/// dead letter), to compare with the next. The reconciler writes one reservation's record in order (its writes to
/// a key wait for the earlier ones), so the record kept is always the one the store holds.
package final class NotifyingStateStore: StateStore {
    /// What an event says about a property.
    package struct PropertyInfo: Sendable, Hashable {
        /// The property's name.
        package var name: String
        /// Its IANA time zone.
        package var timeZone: String
        /// Its locks, in configuration order (an `access.revoked` names them all).
        package var deviceIDs: [String]

        /// Creates a value.
        package init(name: String, timeZone: String, deviceIDs: [String]) {
            self.name = name
            self.timeZone = timeZone
            self.deviceIDs = deviceIDs
        }
    }

    private struct State {
        var records: [String: ReservationRecord] = [:]
        var nextSequence: UInt64 = 1
    }

    private let base: any StateStore
    private let properties: [String: PropertyInfo]
    private let endpoints: [NotificationEndpoint]
    private let clock: any ReconcilerClock
    private let dispatcher: NotificationDispatcher
    private let state = Mutex(State())

    /// Wraps `base`.
    /// - Parameters:
    ///   - base: The journal-backed store.
    ///   - properties: Name and zone of each property, by id.
    ///   - endpoints: The configured endpoints (their filters decide which events are stored).
    ///   - clock: The time of each event.
    ///   - dispatcher: Receives the events once they are durable.
    package init(
        base: any StateStore, properties: [String: PropertyInfo], endpoints: [NotificationEndpoint],
        clock: any ReconcilerClock, dispatcher: NotificationDispatcher
    ) {
        self.base = base
        self.properties = properties
        self.endpoints = endpoints
        self.clock = clock
        self.dispatcher = dispatcher
    }

    /// Reads the records the next changes are compared with, and continues the outbox's sequence after `after`.
    /// - Parameter lastSequence: The highest sequence in the outbox.
    /// - Throws: The store's errors, or a record that does not decode.
    package func load(lastSequence: UInt64) async throws {
        var records: [String: ReservationRecord] = [:]
        for (key, bytes) in try await base.entries(prefix: StoreKeys.reservations) {
            let record = try NotificationCodec.decode(ReservationRecord.self, from: bytes, key: key)
            if Self.canProduceEvents(record) { records[key] = record }
        }
        state.withLock {
            $0.records = records
            $0.nextSequence = lastSequence + 1
        }
    }

    // MARK: - StateStore

    /// One transaction of `key` (with its events).
    package func put(_ key: String, _ value: [UInt8]) async throws {
        try await commit([.put(key: key, value: value)])
    }

    /// One transaction of the delete.
    package func delete(_ key: String) async throws {
        try await commit([.delete(key: key)])
    }

    /// The base store's entries.
    package func entries(prefix: String) async throws -> [(key: String, value: [UInt8])] {
        try await base.entries(prefix: prefix)
    }

    /// The entries and their events in one transaction.
    package func putAll(_ entries: [(key: String, value: [UInt8])]) async throws {
        let prepared = prepare(entries.map { StateWrite.put(key: $0.key, value: $0.value) })
        try await base.putAll(entries + prepared.rows.map { (StoreKeys.notification(sequence: $0.sequence), $0.bytes) })
        await settle(prepared)
    }

    /// The writes and their events in one transaction.
    package func commit(_ writes: [StateWrite]) async throws {
        let prepared = prepare(writes)
        try await base.commit(
            writes + prepared.rows.map { .put(key: StoreKeys.notification(sequence: $0.sequence), value: $0.bytes) })
        await settle(prepared)
    }

    // MARK: - Deriving

    private struct Prepared {
        var records: [(key: String, record: ReservationRecord?)] = []
        var rows: [(sequence: UInt64, bytes: [UInt8], notification: StoredNotification)] = []
    }

    /// The events of `writes`' record changes, as outbox rows with their sequences taken.
    private func prepare(_ writes: [StateWrite]) -> Prepared {
        var prepared = Prepared()
        var letter: DeadLetter?
        var changes: [(key: String, record: ReservationRecord?)] = []
        for write in writes {
            switch write {
            case .put(let key, let value) where key.hasPrefix(StoreKeys.deadLetters):
                letter = try? NotificationCodec.decode(DeadLetter.self, from: value, key: key)
            case .put(let key, let value) where key.hasPrefix(StoreKeys.reservations):
                // A record that does not decode is the reconciler's own problem to report; it yields no event.
                changes.append((key, try? NotificationCodec.decode(ReservationRecord.self, from: value, key: key)))
            case .delete(let key) where key.hasPrefix(StoreKeys.reservations):
                changes.append((key, nil))
            case .put, .delete:
                break
            }
        }
        guard !changes.isEmpty else { return prepared }
        let now = clock.now()
        state.withLock { state in
            for (key, after) in changes {
                let before = state.records[key]
                for event in AccessEvents.derive(before: before, after: after, deadLetter: letter, now: now) {
                    guard
                        let notification = makeNotification(
                            event, before: before, after: after, sequence: state.nextSequence, now: now)
                    else { continue }
                    state.nextSequence += 1
                    prepared.rows.append(
                        (notification.sequence, NotificationCodec.encode(notification), notification))
                }
                prepared.records.append((key, after))
            }
        }
        return prepared
    }

    /// After the transaction is durable: the records become the ones to compare with, the rows go to the
    /// dispatcher.
    private func settle(_ prepared: Prepared) async {
        guard !prepared.records.isEmpty else { return }
        state.withLock { state in
            for (key, record) in prepared.records {
                state.records[key] = record.flatMap { Self.canProduceEvents($0) ? $0 : nil }
            }
        }
        if !prepared.rows.isEmpty {
            await dispatcher.enqueue(prepared.rows.map(\.notification))
        }
    }

    /// Whether a record differs, for every rule, from no record: it has codes or a dead letter.
    static func canProduceEvents(_ record: ReservationRecord) -> Bool {
        record.applied != nil || record.blockedBy != nil
    }

    /// The outbox row of `event`, or `nil` when no endpoint takes events of its type.
    private func makeNotification(
        _ event: AccessEvent, before: ReservationRecord?, after: ReservationRecord?, sequence: UInt64, now: Date
    ) -> StoredNotification? {
        let receivers = endpoints.filter { $0.events.contains(event.type) }
        guard !receivers.isEmpty, let record = after ?? before else { return nil }
        // A revoked group's codes are gone from `after`: report the locks and window it had.
        let group = event.type == .revoked ? (before?.applied ?? record.applied) : (record.applied ?? before?.applied)
        let propertyID = group?.propertyID
        let property = propertyID.flatMap { properties[$0] }
        let wantsPIN = receivers.contains(where: \.includePIN)
        return StoredNotification(
            sequence: sequence, id: "msg_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
            type: event.type, reservation: record.key, occurredAt: now, propertyID: propertyID,
            propertyName: property?.name, timeZone: property?.timeZone,
            locks: event.type == .revoked && property != nil
                ? (property?.deviceIDs ?? []).map { .init(deviceID: $0, status: "removed") }
                : (group?.codes ?? []).map { .init(deviceID: $0.deviceID, status: $0.status.rawValue) },
            window: event.type == .revoked
                ? AccessEvents.window(of: before) : AccessEvents.window(of: after) ?? AccessEvents.window(of: before),
            previousWindow: event.type == .changed ? AccessEvents.window(of: before) : nil,
            pin: wantsPIN && event.type != .revoked ? group?.pin : nil,
            backupCode: wantsPIN ? event.backupCode : nil, reason: event.reason, failedDeviceIDs: event.deviceIDs,
            deliveries: Dictionary(uniqueKeysWithValues: receivers.map { ($0.id, StoredNotification.Delivery.pending) })
        )
    }
}

/// JSON of the outbox's rows and of the reconciler's records read here.
enum NotificationCodec {
    /// Sorted-key JSON; the rows are plain values, so encoding cannot fail.
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(value))) ?? []
    }

    /// Decodes a stored value.
    /// - Throws: ``NotificationError/corrupt(key:reason:)``.
    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8], key: String) throws(NotificationError)
        -> Value
    {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw .corrupt(key: key, reason: "\(error)")
        }
    }
}

/// Failures of the notification outbox.
package enum NotificationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stored value could not be decoded.
    case corrupt(key: String, reason: String)
    /// The admin API named an endpoint that is not configured.
    case unknownEndpoint(id: String)

    /// What went wrong and what to do.
    package var description: String {
        switch self {
        case .corrupt(let key, let reason):
            "the notification outbox entry \(key) cannot be decoded (\(reason)); restore the data directory from a "
                + "snapshot or delete that key"
        case .unknownEndpoint(let id):
            "no notification endpoint \(id) is configured; list them at GET /v1/notification-endpoints"
        }
    }
}
