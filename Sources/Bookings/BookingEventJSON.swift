import Foundation

extension BookingEvent {
    /// Writes this event as `JSONEncoder` with `.sortedKeys` would encode it (its synthesized `Codable` form,
    /// dates as seconds since 2001), without going through `Encodable`; `JSONDecoder` reads it back as usual.
    /// - Parameter writer: Where the object goes.
    package func writeJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("checkIn", ifPresent: checkIn)
        writer.member("checkOut", ifPresent: checkOut)
        writer.member("guestName", ifPresent: guestName)
        writer.member("guestPhone", ifPresent: guestPhone)
        writer.member("listingID", listingID)
        writer.member("reservationID", reservationID)
        writer.member("source", source)
        writer.member("status", status.rawValue)
        writer.member("updatedAt", ifPresent: updatedAt)
        writer.endObject()
    }
}

extension StayTime {
    /// Writes this time in its synthesized `Codable` form with sorted keys:
    /// `{"instant":{"_0":seconds}}` or `{"local":{"date":{…},"time":{…},"timeZone":…}}`.
    /// - Parameter writer: Where the object goes.
    package func writeJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        switch self {
        case .instant(let date):
            writer.key("instant")
            writer.beginObject()
            writer.key("_0")
            writer.double(date.timeIntervalSinceReferenceDate)
            writer.endObject()
        case .local(let date, let time, let timeZone):
            writer.key("local")
            writer.beginObject()
            writer.key("date")
            writer.integerObject("day", date.day, "month", date.month, "year", date.year)
            if let time {
                writer.key("time")
                writer.integerObject("hour", time.hour, "minute", time.minute, "second", time.second)
            }
            if let timeZone {
                writer.member("timeZone", timeZone)
            }
            writer.endObject()
        }
        writer.endObject()
    }
}
