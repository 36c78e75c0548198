import Foundation

/// Writes JSON text straight into bytes, for the few shapes on the intake's hot path.
///
/// `JSONEncoder` goes through `Encodable`, boxes every value and looks up generic metadata at run time; for a
/// booking on every delivery that was ~18 % of the listener thread's CPU. This writer produces the same bytes
/// as `JSONEncoder` would for the shapes it is used for (checked byte for byte by tests): strings escaped as
/// `JSONEncoder` escapes them (`"`, `\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as `\u00XX`, and
/// `/` as `\/` unless ``escapesSlashes`` is false), doubles in their shortest round-trip form without a trailing
/// `.0`. The caller writes keys in the order wanted (sorted, to match `.sortedKeys`).
package struct JSONWriter: Sendable {
    /// The text written so far, UTF-8.
    package private(set) var bytes: [UInt8] = []
    /// Whether `/` is written as `\/` (`JSONEncoder`'s default); default true.
    package let escapesSlashes: Bool
    /// Whether the next value or key at the current level needs a comma before it.
    private var needsComma = false

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Creates an empty writer.
    /// - Parameters:
    ///   - escapesSlashes: Whether `/` is written as `\/`; default true, as `JSONEncoder` does.
    ///   - capacity: Bytes to reserve; default 256.
    package init(escapesSlashes: Bool = true, capacity: Int = 256) {
        self.escapesSlashes = escapesSlashes
        bytes.reserveCapacity(capacity)
    }

    /// Opens an object (`{`).
    package mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Closes an object (`}`).
    package mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Opens an array (`[`).
    package mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Closes an array (`]`).
    package mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key and its colon; the value follows with one of the value methods.
    /// - Parameter key: The key.
    package mutating func key(_ key: String) {
        separate()
        appendQuoted(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a value already encoded as JSON (by `JSONEncoder` with the same options), as it is.
    /// - Parameter json: One complete JSON value.
    package mutating func raw(_ json: some Sequence<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// Writes a string value.
    package mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    /// Writes an integer value.
    package mutating func integer(_ value: some BinaryInteger) {
        separate()
        if let magnitude = UInt64(exactly: value.magnitude) {
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            appendDecimal(magnitude)
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
        needsComma = true
    }

    /// Appends the decimal digits of `value` in place (no `String`: dates and times write six of these each).
    private mutating func appendDecimal(_ value: UInt64) {
        var count = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            count += 1
        }
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        var position = bytes.count - 1
        var rest = value
        repeat {
            bytes[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            position -= 1
        } while rest > 0
    }

    /// Writes a finite double as `JSONEncoder` does: its shortest round-trip form, a trailing `.0` dropped.
    /// - Precondition: `value` is finite.
    package mutating func double(_ value: Double) {
        precondition(value.isFinite, "JSON has no representation for \(value)")
        separate()
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    /// Writes an object of three integer fields, in the order given (dates and times of day).
    package mutating func integerObject(
        _ key1: String, _ value1: Int, _ key2: String, _ value2: Int, _ key3: String, _ value3: Int
    ) {
        beginObject()
        key(key1)
        integer(value1)
        key(key2)
        integer(value2)
        key(key3)
        integer(value3)
        endObject()
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                // The letter after the backslash, or nil for a `\u00XX` escape.
                let letter: UInt8?
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): letter = byte
                case UInt8(ascii: "/") where escapesSlashes: letter = byte
                case 0x08: letter = UInt8(ascii: "b")
                case 0x0C: letter = UInt8(ascii: "f")
                case 0x0A: letter = UInt8(ascii: "n")
                case 0x0D: letter = UInt8(ascii: "r")
                case 0x09: letter = UInt8(ascii: "t")
                case 0x00..<0x20: letter = nil
                default: continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                bytes.append(UInt8(ascii: "\\"))
                if let letter {
                    bytes.append(letter)
                } else {
                    bytes.append(contentsOf: [
                        UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                        Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0x0F)],
                    ])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONWriter {
    /// Writes `key` and the string `value`: one member of an object.
    package mutating func member(_ key: String, _ value: String) {
        self.key(key)
        string(value)
    }

    /// Writes `key` and `value` unless `value` is nil, as synthesized `Codable` leaves nil members out.
    package mutating func member(_ key: String, ifPresent value: String?) {
        guard let value else { return }
        self.key(key)
        string(value)
    }

    /// Writes `key` and `value` unless `value` is nil; a date as seconds since 2001 (Foundation's default).
    package mutating func member(_ key: String, ifPresent value: Date?) {
        guard let value else { return }
        self.key(key)
        double(value.timeIntervalSinceReferenceDate)
    }

    /// Writes `key` and `value` unless `value` is nil.
    package mutating func member(_ key: String, ifPresent value: StayTime?) {
        guard let value else { return }
        self.key(key)
        value.writeJSON(into: &self)
    }
}
