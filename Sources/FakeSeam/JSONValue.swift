import Foundation

/// A JSON document as a value: what the fake reads from request bodies and writes as answers.
///
/// Seam's wire shapes carry explicit `null`s (`"common_code_key": null`), which synthesized `Codable`
/// would drop; building answers as `JSONValue` keeps every key the real server sends.
package enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number (JSON has one number type).
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object; keys are written sorted.
    case object([String: JSONValue])

    /// The string, or `nil` when this is not a string.
    package var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The Boolean, or `nil` when this is not a Boolean.
    package var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The number, or `nil` when this is not a number.
    package var numberValue: Double? { if case .number(let n) = self { n } else { nil } }
    /// The elements, or `nil` when this is not an array.
    package var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    /// The members, or `nil` when this is not an object.
    package var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    /// Whether this is `null`.
    package var isNull: Bool { self == .null }

    /// The member `key` of an object, or `nil` (for a missing key or a non-object).
    package subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// A string, or `null` when `value` is `nil`.
    package static func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    /// An integer as a JSON number.
    package static func int(_ value: Int) -> JSONValue { .number(Double(value)) }

    /// Parses `bytes` as one JSON document.
    /// - Throws: `DecodingError` when the bytes are not JSON.
    package static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// This value encoded as compact JSON with sorted keys.
    package var encoded: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail: every case maps to a JSON token (non-finite numbers become null).
        return (try? encoder.encode(self)).map { [UInt8]($0) } ?? Array("null".utf8)
    }
}

extension JSONValue: Codable {
    /// Decodes any JSON value.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Encodes the value; whole numbers are written without a fraction.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n):
            if !n.isFinite {
                try container.encodeNil()
            } else if n == n.rounded(), abs(n) < 9.0e15 {
                try container.encode(Int64(n))
            } else {
                try container.encode(n)
            }
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// A string literal.
    package init(stringLiteral value: String) { self = .string(value) }
    /// A Boolean literal.
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer literal.
    package init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// An array literal.
    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object literal.
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    /// `nil` as JSON `null`.
    package init(nilLiteral: ()) { self = .null }
}
