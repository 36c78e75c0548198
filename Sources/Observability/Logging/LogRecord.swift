import Foundation
import Glibc
import Logging

/// One log event, ready to be formatted: metadata merged, flattened to dotted keys, redacted and sorted.
package struct LogRecord: Sendable {
    /// When the event happened.
    package var time: Date
    /// The event's level.
    package var level: Logger.Level
    /// The message text.
    package var message: String
    /// The logger's label (`latchkey.intake`, …).
    package var label: String
    /// The module that logged (swift-log's `source`), written as `module` so that the metadata key `source`
    /// stays free for the PMS source.
    package var module: String
    /// The error attached to the event, described, if any.
    package var error: String?
    /// The metadata, flattened with dotted keys, redacted, sorted by key.
    package var fields: [LogField]

    /// Creates a record from its parts; `metadata` is flattened, redacted and sorted here.
    /// - Parameters:
    ///   - time: When the event happened.
    ///   - level: The level.
    ///   - message: The message text.
    ///   - label: The logger's label.
    ///   - module: The module that logged.
    ///   - error: The attached error's description, if any.
    ///   - metadata: The merged metadata (handler, provider, then the call's own, later winning).
    package init(
        time: Date, level: Logger.Level, message: String, label: String, module: String, error: String? = nil,
        metadata: Logger.Metadata
    ) {
        self.time = time
        self.level = level
        self.message = message
        self.label = label
        self.module = module
        self.error = error
        var fields: [LogField] = []
        fields.reserveCapacity(metadata.count)
        LogField.flatten(metadata, prefix: "", into: &fields)
        fields.sort { $0.key < $1.key }
        self.fields = fields
    }
}

/// One flattened metadata entry.
package struct LogField: Sendable, Equatable {
    /// The dotted key, e.g. `request.id`.
    package var key: String
    /// The value, already redacted where the key is sensitive.
    package var value: Value

    /// A flattened metadata value. Not `indirect`: the nested cases hold arrays, which already give the
    /// indirection, and an `indirect` enum boxed every value on the heap (several allocations per log line).
    package enum Value: Sendable, Equatable {
        /// A scalar, as text.
        case string(String)
        /// A value replaced by ``LogRedaction/placeholder``.
        case redacted
        /// A list, kept as a list (dictionaries inside it become objects, redacted by their own keys).
        case list([Value])
        /// A dictionary found inside a list, keys sorted.
        case object([LogField])
    }

    /// Appends the flattened form of `metadata` to `fields`, keys prefixed with `prefix`.
    fileprivate static func flatten(_ metadata: Logger.Metadata, prefix: String, into fields: inout [LogField]) {
        for (key, value) in metadata {
            let path = prefix.isEmpty ? key : prefix + "." + key
            if case .dictionary(let nested) = value, !LogRedaction.isSensitive(key: path) {
                flatten(nested, prefix: path, into: &fields)
            } else {
                fields.append(LogField(key: path, value: convert(value, path: path)))
            }
        }
    }

    private static func convert(_ value: Logger.MetadataValue, path: String) -> Value {
        if LogRedaction.isSensitive(key: path) { return .redacted }
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let elements): return .list(elements.map { convert($0, path: path) })
        case .dictionary(let nested):
            let entries = nested.map { LogField(key: $0.key, value: convert($0.value, path: path + "." + $0.key)) }
            return .object(entries.sorted { $0.key < $1.key })
        }
    }
}

/// RFC 3339 timestamps in UTC with milliseconds: `2026-11-29T10:00:00.123Z`.
package enum RFC3339 {
    /// Formats `date` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (milliseconds truncated, never rounded up into the next second).
    /// - Parameter date: The instant.
    /// - Returns: The timestamp text.
    package static func format(_ date: Date) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        append(date, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the UTF-8 bytes of ``format(_:)`` to `out`, without making a `String` (every log line has one).
    /// - Parameters:
    ///   - date: The instant.
    ///   - out: Where the 24 bytes go.
    package static func append(_ date: Date, to out: inout [UInt8]) {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(totalMilliseconds.floorDivided(by: 1000))
        let milliseconds = Int(totalMilliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        appendDigits(Int(parts.tm_year) + 1900, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(milliseconds, width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Appends `value` in decimal, zero-padded to `width` digits (more digits if it needs them).
    private static func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
        guard value >= 0 else {
            out.append(contentsOf: String(value).utf8)  // a year before 1 AD: not worth a fast path
            return
        }
        var count = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            count += 1
        }
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(width, count)))
        // Every line has seven of these: digits written in place, no String made.
        var position = out.count - 1
        var rest = value
        repeat {
            out[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            position -= 1
        } while rest > 0
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (instants before 1970 keep a positive millisecond part).
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
