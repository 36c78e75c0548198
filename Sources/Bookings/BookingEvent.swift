import Foundation

/// One booking change from any PMS, in the one shape the rest of Latchkey understands.
///
/// Every PMS adapter turns a webhook body into zero or more of these; the reconciler folds them into
/// the desired state of a reservation.
package struct BookingEvent: Sendable, Codable, Hashable {
    /// The booking's status as far as door access is concerned.
    package enum Status: String, Sendable, Codable, Hashable, CaseIterable {
        /// Confirmed: the guest gets a code.
        case confirmed
        /// Inquiry, request, hold or awaiting payment: no code yet.
        case pending
        /// Cancelled, declined, expired or deleted: no code.
        case cancelled
    }

    /// The PMS source name as configured (e.g. `guesty`, `hostaway`, `native`).
    package var source: String
    /// The PMS's reservation id.
    package var reservationID: String
    /// The PMS's listing (unit, property) id; maps to one Latchkey property.
    package var listingID: String
    /// The booking's status.
    package var status: Status
    /// Arrival, or `nil` when the PMS says the dates are not known yet.
    package var checkIn: StayTime?
    /// Departure, or `nil` when the PMS says the dates are not known yet.
    package var checkOut: StayTime?
    /// The guest's name, when given (used in the code's name; never logged in full).
    package var guestName: String?
    /// The guest's phone, when given (some properties derive a PIN from it).
    package var guestPhone: String?
    /// The PMS's own last-modified time of the booking, used to order events; `nil` when the PMS sends none.
    package var updatedAt: Date?

    /// Creates an event.
    package init(
        source: String,
        reservationID: String,
        listingID: String,
        status: Status,
        checkIn: StayTime?,
        checkOut: StayTime?,
        guestName: String? = nil,
        guestPhone: String? = nil,
        updatedAt: Date? = nil
    ) {
        self.source = source
        self.reservationID = reservationID
        self.listingID = listingID
        self.status = status
        self.checkIn = checkIn
        self.checkOut = checkOut
        self.guestName = guestName
        self.guestPhone = guestPhone
        self.updatedAt = updatedAt
    }
}

/// An arrival or departure time as the PMS gave it.
package enum StayTime: Sendable, Codable, Hashable {
    /// A wall-clock time at the property; `timeZone` is an IANA name, or `nil` for the property's own zone.
    /// `time` is `nil` when the PMS gave only a date (the property's default check-in/out time applies).
    case local(date: LocalDate, time: LocalTime?, timeZone: String?)
    /// An absolute instant (the PMS sent an offset or `Z`).
    case instant(Date)
}

/// A calendar date without a zone.
package struct LocalDate: Sendable, Codable, Hashable, Comparable, CustomStringConvertible {
    /// The year, e.g. 2025.
    package var year: Int
    /// The month, 1…12.
    package var month: Int
    /// The day of the month, 1…31.
    package var day: Int

    /// Creates a date; callers validate ranges.
    package init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`.
    package var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// Orders dates chronologically.
    package static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// A wall-clock time of day without a zone.
package struct LocalTime: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The hour, 0…23.
    package var hour: Int
    /// The minute, 0…59.
    package var minute: Int
    /// The second, 0…59.
    package var second: Int

    /// Creates a time; callers validate ranges.
    package init(hour: Int, minute: Int = 0, second: Int = 0) {
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// `HH:MM:SS`.
    package var description: String {
        String(format: "%02d:%02d:%02d", hour, minute, second)
    }
}
