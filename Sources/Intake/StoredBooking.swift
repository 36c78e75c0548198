import Bookings
import Foundation

/// The latest booking event of one reservation as the journal keeps it, with the order it was received in.
///
/// Written in the same transaction that claims the delivery's idempotency key, so an acknowledged delivery
/// is never lost between the 202 and the reconciler (see ARCHITECTURE.md).
package struct StoredBooking: Codable, Sendable {
    /// The event.
    package var event: BookingEvent
    /// Receipt order across all deliveries; orders events that carry no `updatedAt`.
    package var sequence: UInt64

    /// What orders this booking against others of its reservation.
    var version: BookingVersion { BookingVersion(updatedAt: event.updatedAt, receivedSequence: sequence) }

    /// The journal's bytes: what `JSONEncoder` with `.sortedKeys` makes of this value, written directly
    /// (``JSONWriter``; a test compares the two byte for byte).
    func encoded() -> [UInt8] {
        Self.encoded(event: Self.eventJSON(event), sequence: sequence)
    }

    /// The JSON of `event` as ``encoded()`` writes it, made before a sequence number is known (outside the
    /// ledger's lock).
    static func eventJSON(_ event: BookingEvent) -> [UInt8] {
        var writer = JSONWriter(capacity: 360)
        event.writeJSON(into: &writer)
        return writer.bytes
    }

    /// ``encoded()`` from the event's JSON (``eventJSON(_:)``) and its sequence number.
    static func encoded(event eventJSON: [UInt8], sequence: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(eventJSON.count + 36)
        bytes.append(contentsOf: #"{"event":"#.utf8)
        bytes.append(contentsOf: eventJSON)
        bytes.append(contentsOf: #","sequence":"#.utf8)
        bytes.append(contentsOf: String(sequence).utf8)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// The booking ``encoded()`` wrote, or nil when `bytes` are not one.
    package static func decode(_ bytes: [UInt8]) -> StoredBooking? {
        let decoder = JSONDecoder()
        return try? decoder.decode(StoredBooking.self, from: Data(bytes))
    }
}

/// The bookings a data directory holds, for tools that read one without running the gateway.
package enum StoredBookings {
    /// The latest booking the journal holds for a reservation, with its receipt order; nil when there is none or
    /// it cannot be decoded.
    /// - Parameters:
    ///   - source: The source name, e.g. `guesty`.
    ///   - reservationID: The PMS's reservation id.
    ///   - entries: The data directory's entries (`Store` or a read-only snapshot of it).
    package static func latest(
        source: String, reservationID: String, in entries: [String: [UInt8]]
    ) -> (event: BookingEvent, receivedSequence: UInt64)? {
        guard let bytes = entries[StoreKeys.booking(source: source, reservationID: reservationID)],
            let booking = StoredBooking.decode(bytes)
        else { return nil }
        return (booking.event, booking.sequence)
    }
}
