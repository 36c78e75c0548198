import Bookings
import Foundation

/// Builds the names of a reservation's codes: the property's template, then Latchkey's reservation marker.
///
/// The marker (`[lk:<source>:<reservation-id>]`, or `[lk:#<16 hex digits>]` when the id is long or has
/// characters outside `A–Z a–z 0–9 . _ -`) is how a group is found again after a crash: `/access_codes/list`
/// has no `common_code_key` filter, so the reconciler lists each lock's codes and matches names on it.
public struct CodeNaming: Sendable, Hashable {
    /// The longest code name sent to Seam, in characters; the template part is cut, never the marker.
    /// Default 60 (Seam's API sets no limit, but locks have a `name_length` constraint and truncate).
    public var maxLength: Int

    /// The longest marker written out in full, in characters; longer ones are hashed. 40.
    static let maxReadableMarker = 40

    /// Creates the naming rules.
    public init(maxLength: Int = 60) {
        self.maxLength = maxLength
    }

    /// The identity marker of a reservation, e.g. `[lk:guesty:HM12345]`.
    public static func marker(for key: ReservationKey) -> String {
        let readable = "[lk:\(key.source):\(key.reservationID)]"
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let isSafe = (key.source + key.reservationID).allSatisfy { allowed.contains($0) }
        if isSafe, readable.count <= maxReadableMarker {
            return readable
        }
        return "[lk:#\(fnv1a64(key.source + "\u{0}" + key.reservationID))]"
    }

    /// The full code name for a reservation at a property.
    /// - Parameters:
    ///   - key: The reservation.
    ///   - property: Its property (template and name).
    ///   - guestName: The guest's name, when known ("Guest" otherwise).
    /// - Returns: The filled-in template, cut to fit, followed by a space and the marker.
    public func name(for key: ReservationKey, at property: Property, guestName: String?) -> String {
        let guest = guestName?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty ?? "Guest"
        let first = guest.split(separator: " ").first.map(String.init) ?? guest
        var text = property.codeNameTemplate
        for (placeholder, value) in [
            ("{property}", property.name), ("{guest_first}", first), ("{guest}", guest),
            ("{reservation}", key.reservationID), ("{source}", key.source),
        ] {
            text = text.replacingOccurrences(of: placeholder, with: value)
        }
        text = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let marker = Self.marker(for: key)
        let room = maxLength - marker.count - 1
        if room <= 0 {
            return marker
        }
        let label = String(text.prefix(room)).trimmingCharacters(in: .whitespaces)
        return label.isEmpty ? marker : "\(label) \(marker)"
    }

    /// FNV-1a, 64 bits, as 16 lowercase hex digits: stable across runs and platforms.
    private static func fnv1a64(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
