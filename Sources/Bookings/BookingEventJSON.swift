import Foundation

extension BookingEvent {
    /// Writes this event as `JSONEncoder` with `.sortedKeys` would encode it (its synthesized `Codable` form,
    /// dates as seconds since 2001), without going through `Encodable`; `JSONDecoder` reads it back as usual.
    /// - Parameter writer: Where the object goes.
    public func writeJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("checkIn", ifPresent: checkIn)
        writer.member("checkOut", ifPresent: checkOut)
        writer.member("guestName", ifPresent: guestName)
        writer.member("guestPhone", ifPresent: guestPhone)
        writer.key("listingID")
        writer.string(listingID)
        writer.key("reservationID")
        writer.string(reservationID)
        writer.key("source")
        writer.string(source)
        writer.key("status")
        writer.string(status.rawValue)
        writer.member("updatedAt", ifPresent: updatedAt)
        writer.endObject()
    }
}

extension JSONWriter {
    /// Writes `key` and `value` unless `value` is nil, as synthesized `Codable` leaves nil members out.
    public mutating func member(_ key: String, ifPresent value: String?) {
        guard let value else { return }
        self.key(key)
        string(value)
    }

    /// Writes `key` and `value` unless `value` is nil; a date as seconds since 2001 (Foundation's default).
    public mutating func member(_ key: String, ifPresent value: Date?) {
        guard let value else { return }
        self.key(key)
        double(value.timeIntervalSinceReferenceDate)
    }

    /// Writes `key` and `value` unless `value` is nil.
    public mutating func member(_ key: String, ifPresent value: StayTime?) {
        guard let value else { return }
        self.key(key)
        value.writeJSON(into: &self)
    }
}

extension StayTime {
    /// Writes this time in its synthesized `Codable` form with sorted keys:
    /// `{"instant":{"_0":seconds}}` or `{"local":{"date":{…},"time":{…},"timeZone":…}}`.
    /// - Parameter writer: Where the object goes.
    public func writeJSON(into writer: inout JSONWriter) {
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
                writer.key("timeZone")
                writer.string(timeZone)
            }
            writer.endObject()
        }
        writer.endObject()
    }
}
