import Foundation
import HTTPServer

/// A route's parameters, read from the query string and the JSON body alike (body members win), with
/// typed accessors that collect Seam-style validation errors instead of failing on the first.
///
/// Query strings follow Seam's serializer: arrays are repeated keys (`access_code_ids=a&access_code_ids=b`),
/// an empty array is `name=`, Booleans are `true`/`false`, and `_strict` is ignored.
struct RequestParameters {
    private var values: [String: JSONValue]
    /// Messages per parameter, gathered by the accessors.
    private(set) var errors: [String: [String]] = [:]

    /// Reads `request`'s query and body.
    /// - Throws: ``SeamAPIError`` `invalid_input` when the body is not a JSON object.
    init(_ request: HTTPRequest) throws(SeamAPIError) {
        var values: [String: JSONValue] = [:]
        for (name, value) in request.queryItems where name != "_strict" {
            switch values[name] {
            case nil: values[name] = .string(value)
            case .array(let existing)?: values[name] = .array(existing + [.string(value)])
            case let single?: values[name] = .array([single, .string(value)])
            }
        }
        let body = request.body.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if !body.isEmpty {
            guard let parsed = try? JSONValue.parse(request.body), let object = parsed.objectValue else {
                throw SeamAPIError(
                    status: 400, type: "invalid_input",
                    message: "The request body must be a JSON object; send Content-Type: application/json."
                )
            }
            for (key, value) in object where !value.isNull { values[key] = value }
        }
        self.values = values
    }

    /// Creates parameters from values (tests and internal calls).
    init(_ values: [String: JSONValue]) { self.values = values }

    /// Whether `name` was sent.
    func has(_ name: String) -> Bool { values[name] != nil }

    /// Records a message against `name`.
    mutating func fail(_ name: String, _ message: String) { errors[name, default: []].append(message) }

    /// Throws the gathered errors as one `invalid_input`, if there are any.
    func check() throws(SeamAPIError) {
        if !errors.isEmpty { throw SeamAPIError.invalidInput(errors) }
    }

    /// A string parameter; `required` records "Required" when it is missing.
    mutating func string(_ name: String, required: Bool = false) -> String? {
        guard let value = values[name] else {
            if required { fail(name, "Required") }
            return nil
        }
        guard let s = value.stringValue else {
            fail(name, "Expected string, received \(value.typeName)")
            return nil
        }
        if required && s.isEmpty { fail(name, "String must contain at least 1 character(s)") }
        return s
    }

    /// A UUID-shaped string parameter (Seam's ids are `format: uuid`).
    mutating func uuid(_ name: String, required: Bool = false) -> String? {
        guard let s = string(name, required: required) else { return nil }
        guard UUID(uuidString: s) != nil else {
            fail(name, "Invalid uuid")
            return nil
        }
        return s.lowercased()
    }

    /// A Boolean parameter (`true`/`false`, also as query strings).
    mutating func bool(_ name: String) -> Bool? {
        guard let value = values[name] else { return nil }
        switch value {
        case .bool(let b): return b
        case .string("true"): return true
        case .string("false"): return false
        default:
            fail(name, "Expected boolean, received \(value.typeName)")
            return nil
        }
    }

    /// A number parameter (also as a query string).
    mutating func number(_ name: String) -> Double? {
        guard let value = values[name] else { return nil }
        switch value {
        case .number(let n): return n
        case .string(let s) where Double(s) != nil: return Double(s)
        default:
            fail(name, "Expected number, received \(value.typeName)")
            return nil
        }
    }

    /// An array-of-strings parameter; a lone query value is a one-element array, an empty one an empty array.
    mutating func stringArray(_ name: String, required: Bool = false) -> [String]? {
        guard let value = values[name] else {
            if required { fail(name, "Required") }
            return nil
        }
        switch value {
        case .string(""): return []
        case .string(let s): return [s]
        case .array(let items):
            let strings = items.compactMap(\.stringValue)
            guard strings.count == items.count else {
                fail(name, "Expected array of strings")
                return nil
            }
            return strings
        default:
            fail(name, "Expected array, received \(value.typeName)")
            return nil
        }
    }

    /// An ISO 8601 timestamp parameter.
    mutating func date(_ name: String) -> Date? {
        guard let s = string(name) else { return nil }
        guard let date = SeamTime.parse(s) else {
            fail(name, "Invalid datetime; send ISO 8601, e.g. 2026-11-15T15:00:00Z")
            return nil
        }
        return date
    }

    /// A PIN parameter: digits only, 4 to 12 long (seam-api.md §8).
    mutating func code(_ name: String = "code") -> String? {
        guard let s = string(name) else { return nil }
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            fail(name, "Invalid: must match ^\\d+$")
            return nil
        }
        guard (4...12).contains(s.count) else {
            fail(name, "String must contain between 4 and 12 character(s)")
            return nil
        }
        return s
    }

    /// A member of a closed set of strings.
    mutating func oneOf(_ name: String, _ allowed: [String]) -> String? {
        guard let s = string(name) else { return nil }
        guard allowed.contains(s) else {
            fail(
                name,
                "Invalid enum value. Expected \(allowed.map { "'\($0)'" }.joined(separator: " | ")), received '\(s)'")
            return nil
        }
        return s
    }
}

extension JSONValue {
    /// The JSON type's name, for validation messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// Seam's timestamps: ISO 8601 with milliseconds and `Z` on the way out; ISO 8601 with or without fraction in.
package enum SeamTime {
    /// `date` as Seam writes it, e.g. `2026-11-15T15:00:00.000Z`.
    package static func format(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// Parses an ISO 8601 timestamp, with or without fractional seconds; `nil` when it is not one.
    package static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
