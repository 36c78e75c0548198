import Foundation
import Logging

/// Formats a ``LogRecord`` as one JSON object on one line:
/// `{"time":…,"level":…,"message":…,"label":…,"module":…,"request.id":…}` and a newline.
///
/// The fixed fields come first in that order (`error` after `module` when the event carries one), then the
/// metadata sorted by key. A metadata key that equals a fixed field's name is written as `metadata.KEY`.
package enum JSONLineFormatter {
    private static let fixedNames: Set<String> = ["time", "level", "message", "label", "module", "error"]

    /// The line for `record`, newline included.
    /// - Parameter record: The event.
    /// - Returns: UTF-8 bytes of one JSON object and `\n`.
    package static func line(for record: LogRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)  // a line with a handful of fields, written in one allocation
        out.append(contentsOf: #"{"time":""#.utf8)
        RFC3339.append(record.time, to: &out)
        out.append(UInt8(ascii: "\""))
        appendMember("level", .string(record.level.rawValue), to: &out)
        appendMember("message", .string(record.message), to: &out)
        appendMember("label", .string(record.label), to: &out)
        appendMember("module", .string(record.module), to: &out)
        if let error = record.error { appendMember("error", .string(error), to: &out) }
        for field in record.fields {
            let key = fixedNames.contains(field.key) ? "metadata." + field.key : field.key
            appendMember(key, field.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private static func appendMember(_ key: String, _ value: LogField.Value, to out: inout [UInt8], first: Bool = false)
    {
        if !first { out.append(UInt8(ascii: ",")) }
        JSONText.appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        appendValue(value, to: &out)
    }

    /// Appends `value` as JSON: scalars and ``LogRedaction/placeholder`` as strings, lists as arrays, objects as objects.
    static func appendValue(_ value: LogField.Value, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            JSONText.appendString(text, to: &out)
        case .redacted:
            JSONText.appendString(LogRedaction.placeholder, to: &out)
        case .list(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (index, field) in fields.enumerated() {
                appendMember(field.key, field.value, to: &out, first: index == 0)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// Formats a ``LogRecord`` for a person at a terminal:
/// `2026-11-29T10:00:00.123Z info  message key=value other="two words"` and a newline.
///
/// The level is padded to five characters. Values with spaces, quotes, `=` or control characters are quoted
/// and escaped as in JSON; lists and objects are written as compact JSON.
package enum HumanLineFormatter {
    /// The line for `record`, newline included.
    /// - Parameter record: The event.
    /// - Returns: UTF-8 bytes of the line and `\n`.
    package static func line(for record: LogRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        RFC3339.append(record.time, to: &out)
        out.append(UInt8(ascii: " "))
        let level = record.level.rawValue
        out.append(contentsOf: Array(level.utf8))
        out.append(contentsOf: Array(repeating: UInt8(ascii: " "), count: max(1, 6 - level.utf8.count)))
        out.append(contentsOf: Array(singleLine(record.message).utf8))
        if let error = record.error { appendPair("error", .string(error), to: &out) }
        for field in record.fields { appendPair(field.key, field.value, to: &out) }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private static func appendPair(_ key: String, _ value: LogField.Value, to out: inout [UInt8]) {
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: Array(key.utf8))
        out.append(UInt8(ascii: "="))
        switch value {
        case .string(let text) where needsQuotes(text):
            JSONText.appendString(text, to: &out)
        case .string(let text):
            out.append(contentsOf: Array(text.utf8))
        case .redacted:
            out.append(contentsOf: Array(LogRedaction.placeholder.utf8))
        case .list, .object:
            JSONLineFormatter.appendValue(value, to: &out)
        }
    }

    private static func needsQuotes(_ text: String) -> Bool {
        text.isEmpty
            || text.utf8.contains { $0 <= 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") || $0 == 0x7F }
    }

    /// A message never breaks the line: newlines become `\n`.
    private static func singleLine(_ text: String) -> String {
        guard text.contains(where: \.isNewline) else { return text }
        return text.replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r")
    }
}

/// JSON string escaping (RFC 8259 §7), written straight into a byte buffer.
enum JSONText {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Whether `byte` is written as an escape: quote, backslash, control characters and DEL.
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F
    }

    /// Appends `text` as a quoted JSON string.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most keys and values need no escape: copy them in one piece.
        if !text.utf8.contains(where: needsEscape) {
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20, 0x7F:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
