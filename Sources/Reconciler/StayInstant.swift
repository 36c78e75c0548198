import Bookings
import Foundation

// TODO(coordinator): replace with the Bookings module's `instant(of:defaultTime:propertyZone:)` once it is
// on main; this private copy exists only so the reconciler does not wait for it. Same rules expected.

/// Turns a PMS arrival or departure into an instant.
///
/// - A local date and time is read in the given IANA zone, else the property's.
/// - A date without a time takes the property's default time.
/// - A wall-clock time skipped by a DST change (e.g. 02:30 on a spring-forward night) moves forward by
///   the gap (03:30); a time that occurs twice (autumn) is the first occurrence (daylight time).
enum StayInstant {
    /// The instant of `stayTime`, or `nil` when a zone name is unknown or the date does not exist.
    static func instant(of stayTime: StayTime, defaultTime: LocalTime, propertyZone: String) -> Date? {
        switch stayTime {
        case .instant(let date):
            return date
        case .local(let date, let time, let zoneName):
            guard let zone = TimeZone(identifier: zoneName ?? propertyZone) else { return nil }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let clock = time ?? defaultTime
            let components = DateComponents(
                year: date.year, month: date.month, day: date.day,
                hour: clock.hour, minute: clock.minute, second: clock.second
            )
            guard components.isValidDate(in: calendar) || isSkippedByDST(components, calendar) else { return nil }
            return calendar.date(from: components)
        }
    }

    /// Whether the only reason `components` is invalid is a wall-clock time skipped by a DST change.
    private static func isSkippedByDST(_ components: DateComponents, _ calendar: Calendar) -> Bool {
        var noon = components
        noon.hour = 12
        noon.minute = 0
        noon.second = 0
        return noon.isValidDate(in: calendar)
    }
}
