import Bookings
import Foundation

/// Identifies one reservation across PMSs: the PMS source name and the PMS's reservation id.
package struct ReservationKey: Sendable, Codable, Hashable, Comparable, CustomStringConvertible {
    /// The PMS source name as configured (e.g. `guesty`).
    package var source: String
    /// The PMS's reservation id.
    package var reservationID: String

    /// Creates a key.
    package init(source: String, reservationID: String) {
        self.source = source
        self.reservationID = reservationID
    }

    /// `source/reservationID`.
    package var description: String { "\(source)/\(reservationID)" }

    /// Orders by source, then reservation id.
    package static func < (lhs: ReservationKey, rhs: ReservationKey) -> Bool {
        (lhs.source, lhs.reservationID) < (rhs.source, rhs.reservationID)
    }

    /// Whether `part` (a source or a reservation id) is written as it is in code-name markers and store keys:
    /// only `A–Z a–z 0–9 . _ -`. Anything else is hashed (markers) or percent-encoded (store keys).
    static func isPlain(_ part: String) -> Bool { StoreKeys.isPlain(part) }
}

/// The time span in which an access code works: `[startsAt, endsAt)`.
package struct CodeWindow: Sendable, Codable, Hashable, CustomStringConvertible {
    /// When the code starts working.
    package var startsAt: Date
    /// When the code stops working; after `startsAt`.
    package var endsAt: Date

    /// Creates a window.
    package init(startsAt: Date, endsAt: Date) {
        self.startsAt = startsAt
        self.endsAt = endsAt
    }

    /// `start…end` in ISO 8601.
    package var description: String {
        let format = Date.ISO8601FormatStyle()
        return "\(startsAt.formatted(format))…\(endsAt.formatted(format))"
    }
}

/// A door PIN. Kept only in the state store and handed to Seam; every textual form is redacted,
/// so a PIN cannot reach a log line by accident. Read ``digits`` only to send it to Seam.
package struct AccessPIN: Sendable, Codable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The digits themselves. Never log them.
    package let digits: String

    /// Wraps the digits of a PIN.
    package init(_ digits: String) {
        self.digits = digits
    }

    /// Decodes from a bare JSON string.
    package init(from decoder: any Decoder) throws {
        digits = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes as a bare JSON string (the store needs the digits to repair a lock with the same PIN).
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }

    /// Always `<redacted PIN>`.
    package var description: String { "<redacted PIN>" }
    /// Always `<redacted PIN>`.
    package var debugDescription: String { description }
    /// No children, so `dump` and reflection-based printing cannot show the digits.
    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// The kind of Seam call the worker is about to make, as the pacer sees it.
package enum SeamOperationKind: String, Sendable, Codable, Hashable, CaseIterable {
    /// `/access_codes/create_multiple` or `/access_codes/create`.
    case create
    /// `/access_codes/update_multiple` or `/access_codes/update`.
    case update
    /// `/access_codes/delete`.
    case delete
    /// `/access_codes/list`.
    case list
}
