import Bookings
import Foundation

// Reservation records are stored on every booking change; `JSONEncoder` made them the reconciler's largest cost
// (a fifth of the gateway's CPU during a burst of new bookings). These write the same bytes directly: keys sorted
// as `.sortedKeys` sorts them, nil members left out, dates as seconds since 2001 (Foundation's default), `/`
// escaped. `RecordJSONTests` compares them byte for byte with `JSONEncoder` on records of every shape.

extension ReservationRecord {
    /// The record's stored JSON, as `JSONEncoder` with `.sortedKeys` writes it.
    func encodedJSON() -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        if let applied {
            writer.key("applied")
            applied.writeJSON(into: &writer)
        }
        if let arrivalCheck, let json = try? ArrivalCheck.encoder.encode(arrivalCheck) {
            // Rare (reservations near arrival) and nested deep: `JSONEncoder`'s own bytes, spliced in.
            writer.key("arrivalCheck")
            writer.raw(json)
        }
        writer.member("blockedBy", ifPresent: blockedBy)
        if let desired {
            writer.key("desired")
            desired.writeJSON(into: &writer)
        }
        writer.key("key")
        writer.beginObject()
        writer.member("reservationID", key.reservationID)
        writer.member("source", key.source)
        writer.endObject()
        if let pendingLookup {
            writer.key("pendingLookup")
            pendingLookup.writeJSON(into: &writer)
        }
        writer.member("readBackReason", ifPresent: readBackReason)
        writer.endObject()
        return writer.bytes
    }
}

extension DesiredBooking {
    /// Writes this value as `JSONEncoder` with `.sortedKeys` encodes it.
    func writeJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("checkIn", ifPresent: checkIn)
        writer.member("checkOut", ifPresent: checkOut)
        writer.member("guestName", ifPresent: guestName)
        writer.member("listingID", listingID)
        writer.member("status", status.rawValue)
        writer.key("version")
        writer.beginObject()
        writer.key("receivedSequence")
        writer.integer(version.receivedSequence)
        writer.member("updatedAt", ifPresent: version.updatedAt)
        writer.endObject()
        writer.endObject()
    }
}

extension AppliedGroup {
    /// Writes this value as `JSONEncoder` with `.sortedKeys` encodes it.
    func writeJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("codes")
        writer.beginArray()
        for code in codes { code.writeJSON(into: &writer) }
        writer.endArray()
        writer.member("commonCodeKey", ifPresent: commonCodeKey)
        writer.member("propertyID", propertyID)
        writer.endObject()
    }
}

extension AppliedCode {
    /// Writes this value as `JSONEncoder` with `.sortedKeys` encodes it.
    func writeJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("accessCodeID", ifPresent: accessCodeID)
        writer.member("commonCodeKey", ifPresent: commonCodeKey)
        writer.member("deviceID", deviceID)
        writer.member("name", name)
        writer.member("pin", ifPresent: pin?.digits)
        writer.member("status", status.rawValue)
        writer.key("window")
        window.writeJSON(into: &writer)
        writer.endObject()
    }
}

extension CodeLookup {
    /// Writes this value as `JSONEncoder` with `.sortedKeys` encodes it.
    func writeJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("deviceIDs")
        writer.beginArray()
        for deviceID in deviceIDs { writer.string(deviceID) }
        writer.endArray()
        writer.member("marker", marker)
        writer.member("name", name)
        writer.member("propertyID", propertyID)
        writer.key("window")
        window.writeJSON(into: &writer)
        writer.endObject()
    }
}

extension CodeWindow {
    /// Writes this value as `JSONEncoder` with `.sortedKeys` encodes it.
    func writeJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("endsAt")
        writer.double(endsAt.timeIntervalSinceReferenceDate)
        writer.key("startsAt")
        writer.double(startsAt.timeIntervalSinceReferenceDate)
        writer.endObject()
    }
}
