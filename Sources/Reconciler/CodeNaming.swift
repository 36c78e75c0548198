import Bookings
import Foundation

/// Builds the names of a reservation's codes: the property's template, then Latchkey's reservation marker.
///
/// The marker (`[lk:<source>:<reservation-id>]`, or `[lk:#<16 hex digits>]` when the id is long or has
/// characters outside `A–Z a–z 0–9 . _ -`) is how a group is found again after a crash: `/access_codes/list`
/// has no `common_code_key` filter, so the reconciler lists each lock's codes and matches names on it.
package struct CodeNaming: Sendable, Hashable {
    /// The longest code name sent to Seam, in characters; the template part is cut, never the marker.
    /// Default 60 (Seam's API sets no limit, but locks have a `name_length` constraint and truncate).
    package var maxLength: Int

    /// The longest marker written out in full, in characters; longer ones are hashed. 40.
    static let maxReadableMarker = 40

    /// Creates the naming rules.
    package init(maxLength: Int = 60) {
        self.maxLength = maxLength
    }

    /// The identity marker of a reservation, e.g. `[lk:guesty:HM12345]`.
    package static func marker(for key: ReservationKey) -> String {
        let readable = "[lk:\(key.source):\(key.reservationID)]"
        let isSafe = ReservationKey.isPlain(key.source) && ReservationKey.isPlain(key.reservationID)
        if isSafe, readable.utf8.count <= maxReadableMarker {
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
    package func name(for key: ReservationKey, at property: Property, guestName: String?) -> String {
        let guest = guestName.map(Self.trimmed)?.nilIfEmpty ?? "Guest"
        let first = guest.utf8.firstIndex(of: UInt8(ascii: " ")).map { String(guest[..<$0]) } ?? guest
        var text = Self.fill(property.codeNameTemplate) { placeholder in
            switch placeholder {
            case "property": property.name
            case "guest_first": first
            case "guest": guest
            case "reservation": key.reservationID
            case "source": key.source
            default: nil
            }
        }
        text = Self.collapsingWhitespace(text)
        let marker = Self.marker(for: key)
        let room = maxLength - marker.utf8.count - 1  // a marker is ASCII: bytes are characters
        if room <= 0 {
            return marker
        }
        let label = Self.cut(text, to: room)
        return label.isEmpty ? marker : "\(label) \(marker)"
    }

    // The name is built for every plan of every reservation (the gauges plan them all), so the three steps below
    // check plain ASCII byte by byte first and only fall back to Foundation's and Character's Unicode rules
    // when they matter. `CodeNamingTests` compares each with that fallback.

    /// A byte that is neither whitespace nor a control character nor outside ASCII.
    private static func isPlainASCII(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    /// `text` without leading and trailing whitespace and newlines.
    static func trimmed(_ text: String) -> String {
        if let first = text.utf8.first, let last = text.utf8.last, isPlainASCII(first), isPlainASCII(last) {
            return text
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `text` with every run of whitespace made one space and none at either end.
    static func collapsingWhitespace(_ text: String) -> String {
        var afterSpace = true
        for byte in text.utf8 {
            if byte == UInt8(ascii: " ") && !afterSpace {
                afterSpace = true
            } else if isPlainASCII(byte) {
                afterSpace = false
            } else {
                return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            }
        }
        return afterSpace ? text.split(whereSeparator: \.isWhitespace).joined(separator: " ") : text
    }

    /// The first `count` characters of whitespace-collapsed `text`, without a space at the end.
    static func cut(_ text: String, to count: Int) -> String {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else {
            return String(text.prefix(count)).trimmingCharacters(in: .whitespaces)
        }
        var bytes = text.utf8.prefix(count)
        while bytes.last == UInt8(ascii: " ") || bytes.last == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
        while bytes.first == UInt8(ascii: " ") || bytes.first == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
        return String(bytes) ?? String(decoding: Array(bytes), as: UTF8.self)
    }

    /// `template` with each `{name}` that `value(name)` knows replaced, in one pass (a value is never read as a
    /// template itself); unknown `{…}` and lone braces are kept as written.
    static func fill(_ template: String, value: (Substring) -> String?) -> String {
        var out = ""
        var rest = template[...]
        // Braces are found as bytes (a brace is one ASCII byte; a Character search would also break graphemes).
        while let open = rest.utf8.firstIndex(of: UInt8(ascii: "{")),
            let close = rest[open...].utf8.firstIndex(of: UInt8(ascii: "}"))
        {
            out += rest[..<open]
            let name = rest[rest.index(after: open)..<close]
            if let replacement = value(name) {
                out += replacement
            } else {
                out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
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
