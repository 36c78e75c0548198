/// Escaping for the console's HTML: every value that did not come from the console's own templates goes through
/// ``HTML/escape(_:)`` (guest names, reservation ids, Seam messages, rejection reasons, query parameters).
package enum HTML {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references, so it is inert both as element
    /// content and inside a quoted attribute value.
    /// - Parameter text: Any text, e.g. a guest name from a PMS.
    /// - Returns: The escaped text.
    package static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 })
        else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// `text` percent-encoded for one path segment or query value of a console URL (RFC 3986 unreserved kept).
    /// - Parameter text: A reservation id, a source name, a filter value.
    /// - Returns: The encoded text (still to be HTML-escaped where it goes into an attribute; it has nothing to escape).
    package static func urlComponent(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(digits[Int(byte >> 4)])
                out.unicodeScalars.append(digits[Int(byte & 0x0F)])
            }
        }
        return out
    }
}

/// Builds a page: literal markup from the console's templates with ``raw(_:)``, anything else with ``text(_:)``.
package struct HTMLBuilder: Sendable {
    /// The markup so far.
    package private(set) var output = ""

    /// Creates an empty builder.
    package init() { output.reserveCapacity(8_192) }

    /// Appends markup written by the console itself (never data).
    package mutating func raw(_ markup: String) { output += markup }

    /// Appends `text`, escaped.
    package mutating func text(_ text: String) { output += HTML.escape(text) }
}
