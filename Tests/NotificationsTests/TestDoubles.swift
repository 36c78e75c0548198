import Bookings
import Foundation
import Reconciler
import Seam
import Synchronization

/// A state store in memory that records each transaction's keys.
final class MemoryStateStore: StateStore {
    private let state = Mutex<(entries: [String: [UInt8]], transactions: [[String]])>(([:], []))

    var transactions: [[String]] { state.withLock { $0.transactions } }
    func value(_ key: String) -> [UInt8]? { state.withLock { $0.entries[key] } }

    func put(_ key: String, _ value: [UInt8]) async throws { try await commit([.put(key: key, value: value)]) }
    func delete(_ key: String) async throws { try await commit([.delete(key: key)]) }
    func entries(prefix: String) async throws -> [(key: String, value: [UInt8])] {
        state.withLock { $0.entries.filter { $0.key.hasPrefix(prefix) }.map { ($0.key, $0.value) } }
    }
    func putAll(_ entries: [(key: String, value: [UInt8])]) async throws {
        try await commit(entries.map { .put(key: $0.key, value: $0.value) })
    }
    func commit(_ writes: [StateWrite]) async throws {
        state.withLock { state in
            for write in writes {
                switch write {
                case .put(let key, let value): state.entries[key] = value
                case .delete(let key): state.entries[key] = nil
                }
            }
            state.transactions.append(writes.map(\.key))
        }
    }
}

/// A clock that moves only when told; `sleep(until:)` polls it.
final class ManualClock: ReconcilerClock {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_900_000_000)) { current = Mutex(start) }

    func now() -> Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    func sleep(until deadline: Date) async throws {
        while now() < deadline { try await Task.sleep(for: .milliseconds(1)) }
    }
}

/// A transport that answers from a script and records every request.
final class ScriptedTransport: SeamTransport {
    struct Sent: Sendable {
        var id: String
        var body: String
        var headers: [String: String]
    }
    private let state = Mutex<(sent: [Sent], answer: @Sendable (Sent) -> SeamHTTPResponse)>(
        (
            [],
            { _ in
                SeamHTTPResponse(status: 200)
            }
        ))

    var sent: [Sent] { state.withLock { $0.sent } }
    func answer(_ answer: @escaping @Sendable (Sent) -> SeamHTTPResponse) { state.withLock { $0.answer = answer } }

    func send(_ request: SeamHTTPRequest) async throws(SeamTransportError) -> SeamHTTPResponse {
        let sent = Sent(
            id: request.header("webhook-id") ?? "", body: String(decoding: request.body, as: UTF8.self),
            headers: Dictionary(request.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
        return state.withLock { state in
            state.sent.append(sent)
            return state.answer(sent)
        }
    }
}

/// Records for the derivation tests: a two-lock group at a property.
enum Records {
    static let key = ReservationKey(source: "native", reservationID: "res_1")
    static let window = CodeWindow(
        startsAt: Date(timeIntervalSince1970: 1_900_100_000), endsAt: Date(timeIntervalSince1970: 1_900_400_000))

    static func record(
        _ statuses: [LockCodeStatus]?, pin: String = "4821", window: CodeWindow = window,
        status: BookingEvent.Status = .confirmed, blockedBy: String? = nil, live: Bool = true
    ) -> ReservationRecord {
        let event = BookingEvent(
            source: key.source, reservationID: key.reservationID, listingID: "lst_1", status: status, checkIn: nil,
            checkOut: nil)
        var record = ReservationRecord(
            key: key, desired: DesiredBooking(event, version: EventVersion(updatedAt: nil, receivedSequence: 1)))
        record.blockedBy = blockedBy
        if let statuses {
            record.applied = AppliedGroup(
                propertyID: "loft", commonCodeKey: "ck_1",
                codes: statuses.enumerated().map { index, status in
                    AppliedCode(
                        deviceID: "dev_\(index + 1)", accessCodeID: live ? "ac_\(index + 1)" : nil,
                        pin: AccessPIN(pin), commonCodeKey: "ck_1", window: window, name: "Guest",
                        status: status)
                })
        }
        return record
    }
}
