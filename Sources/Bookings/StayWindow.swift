import Foundation

/// A stay time that cannot be turned into an instant.
package struct StayTimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    package enum Problem: Sendable, Equatable {
        /// The zone is not an IANA time zone known to this system.
        case unknownTimeZone(String)
        /// The date names no real day.
        case invalidDate(LocalDate)
        /// The time is out of range.
        case invalidTime(LocalTime)
        /// The window would end at or before it starts.
        case checkOutNotAfterCheckIn(startsAt: Date, endsAt: Date)
    }

    /// What was wrong.
    package let problem: Problem

    /// Creates an error.
    package init(_ problem: Problem) { self.problem = problem }

    /// A message saying what was wrong and what to fix.
    package var description: String {
        switch problem {
        case .unknownTimeZone(let name):
            "time zone \"\(name)\" is not an IANA zone known to this system (e.g. Europe/Berlin); fix the property's or the booking's time_zone"
        case .invalidDate(let date): "date \(date) does not exist"
        case .invalidTime(let time): "time \(time) is out of range (00:00:00…23:59:59)"
        case .checkOutNotAfterCheckIn(let start, let end):
            "the access window would end (\(end.ISO8601Format())) at or before it starts (\(start.ISO8601Format())); check the booking's dates and the property's buffers"
        }
    }
}

/// The instant of a wall-clock reading in an IANA zone, DST included.
///
/// A reading that does not exist (the spring-forward gap, e.g. 02:30 in Europe/Berlin on 2025-03-30)
/// moves forward to the first valid instant, the transition itself (03:00 local). A reading that exists
/// twice (fall back, e.g. 02:30 on 2025-10-26) takes the earlier instant (still summer time).
///
/// - Throws: ``StayTimeError`` for an unknown zone, or a date or time out of range.
package func instant(ofLocal date: LocalDate, time: LocalTime, timeZone identifier: String) throws(StayTimeError)
    -> Date
{
    guard let zone = TimeZones.named(identifier) else { throw StayTimeError(.unknownTimeZone(identifier)) }
    guard date.isValid else { throw StayTimeError(.invalidDate(date)) }
    guard time.isValid else { throw StayTimeError(.invalidTime(time)) }
    let wall = date.daysSinceEpoch * 86_400 + time.secondsOfDay
    func offset(_ unix: Int) -> Int { zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(unix))) }

    // Every offset in force within a day of the reading; no zone changes offset twice in 48 hours.
    let offsets = Set([offset(wall - 86_400), offset(wall), offset(wall + 86_400)])
    let valid = offsets.map { wall - $0 }.filter { offset($0) == wall - $0 }
    if let earliest = valid.min() {
        return Date(timeIntervalSince1970: TimeInterval(earliest))
    }
    // A gap: with the offset before the transition (the smaller one) the reading falls after it, with the
    // offset after it (the larger one) before it. The transition lies between; find it to the second.
    guard let before = offsets.min(), let after = offsets.max(), before < after else {
        return Date(timeIntervalSince1970: TimeInterval(wall - offset(wall)))
    }
    var low = wall - after  // offset here is still `before`
    var high = wall - before  // offset here is already `after`
    while high - low > 1 {
        let middle = low + (high - low) / 2
        if offset(middle) == after { high = middle } else { low = middle }
    }
    return Date(timeIntervalSince1970: TimeInterval(high))
}

/// The instant of a check-in or check-out.
///
/// - Parameters:
///   - stay: The time as the PMS gave it.
///   - defaultTime: The property's default time, used when the PMS gave only a date.
///   - propertyZone: The property's IANA zone, used when the stay names none.
/// - Throws: ``StayTimeError`` for an unknown zone or an impossible date or time.
package func instant(of stay: StayTime, defaultTime: LocalTime, propertyZone: String) throws(StayTimeError) -> Date {
    switch stay {
    case .instant(let date):
        return date
    case .local(let date, let time, let zone):
        return try instant(ofLocal: date, time: time ?? defaultTime, timeZone: zone ?? propertyZone)
    }
}

/// When a booking's access code works: from check-in minus the property's early buffer to check-out plus
/// its late buffer.
package struct StayWindow: Sendable, Hashable, CustomStringConvertible {
    /// The first instant the code works (Seam's `starts_at`).
    package var startsAt: Date
    /// The instant the code stops working (Seam's `ends_at`).
    package var endsAt: Date

    /// Creates a window.
    package init(startsAt: Date, endsAt: Date) {
        self.startsAt = startsAt
        self.endsAt = endsAt
    }

    /// The window of `event` at `property`, or `nil` when the event has no dates yet.
    ///
    /// - Throws: ``StayTimeError`` for an unknown zone, an impossible date or time, or a window that would
    ///   end at or before it starts.
    package init?(event: BookingEvent, property: Property) throws(StayTimeError) {
        guard let checkIn = event.checkIn, let checkOut = event.checkOut else { return nil }
        let arrival = try instant(of: checkIn, defaultTime: property.defaultCheckIn, propertyZone: property.timeZone)
        let departure = try instant(
            of: checkOut, defaultTime: property.defaultCheckOut, propertyZone: property.timeZone)
        let startsAt = arrival.addingTimeInterval(-TimeInterval(property.bufferBeforeCheckInMinutes * 60))
        let endsAt = departure.addingTimeInterval(TimeInterval(property.bufferAfterCheckOutMinutes * 60))
        guard endsAt > startsAt else {
            throw StayTimeError(.checkOutNotAfterCheckIn(startsAt: startsAt, endsAt: endsAt))
        }
        self.init(startsAt: startsAt, endsAt: endsAt)
    }

    /// `<startsAt>…<endsAt>` in ISO 8601 UTC.
    package var description: String { "\(startsAt.ISO8601Format())…\(endsAt.ISO8601Format())" }
}
