import Foundation

/// A parsed JSON value, kept exactly as typed (integers apart from fractions) so adapters can tell
/// `123` from `"123"` and `1` from `true`.
enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONFields)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(JSONFields(try container.decode([String: JSONValue].self)))
        }
    }

    /// A short name of the kind, for error messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// The members of one JSON object: the first value of each key, looked up by key.
///
/// Objects in webhooks are small (a dozen members), so members are kept in arrays, appended as parsed and searched
/// linearly from the start (so the first of repeated keys is found), which is cheaper than hashing every key into
/// a dictionary for each delivery; objects of more than ``linearLimit`` members also get an index of each key's
/// first position, so a body with thousands of keys costs no more than a dictionary would.
struct JSONFields: Sendable, Equatable {
    /// Objects with more members than this get a key index; default 16.
    static let linearLimit = 16

    private var keys: [String] = []
    private var values: [JSONValue] = []
    private var index: [String: Int]?

    /// An empty object.
    init() {}

    /// An empty object with room for `capacity` members, so that filling it does not reallocate.
    init(capacity: Int) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    /// The members of `dictionary`.
    init(_ dictionary: [String: JSONValue]) {
        for (key, value) in dictionary { append(key, value) }
    }

    /// The number of distinct keys.
    var count: Int { Set(keys).count }

    /// The first value of `key`, or `nil` when the object has no such member.
    subscript(key: String) -> JSONValue? {
        position(of: key).map { values[$0] }
    }

    /// Adds a member as parsed; a repeated key keeps its first value for lookups.
    mutating func append(_ key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
        if index != nil {
            if index?[key] == nil { index?[key] = keys.count - 1 }
        } else if keys.count > Self.linearLimit {
            var firstPositions: [String: Int] = [:]
            for (position, name) in keys.enumerated() where firstPositions[name] == nil {
                firstPositions[name] = position
            }
            index = firstPositions
        }
    }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return keys.firstIndex(of: key)
    }

    /// Equal when both have the same keys with equal (first) values, in any order (as dictionaries compare).
    static func == (lhs: JSONFields, rhs: JSONFields) -> Bool {
        lhs.count == rhs.count && lhs.keys.allSatisfy { rhs[$0] == lhs[$0] }
    }
}

/// Reads fields of one JSON object, naming each by its full JSON path in errors.
struct JSONObject: Sendable {
    let fields: JSONFields
    /// The path of this object, e.g. `booking`; empty for the root.
    let path: String

    /// Parses `body` as a JSON object.
    /// - Parameters:
    ///   - body: The webhook body.
    ///   - members: The members the caller reads (see ``JSONMemberFilter``); default all.
    static func parse(_ body: [UInt8], keeping members: JSONMemberFilter? = nil) throws(AdapterError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body, keeping: members)
        } catch {
            throw AdapterError(
                field: "", problem: "the body is not valid JSON; send the webhook's JSON body unmodified")
        }
        guard case .object(let fields) = value else {
            throw AdapterError(field: "", problem: "the body must be a JSON object, not \(value.kind)")
        }
        return JSONObject(fields: fields, path: "")
    }

    func pathOf(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value, `nil` when absent or null.
    subscript(key: String) -> JSONValue? {
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    func missing(_ key: String) -> AdapterError {
        AdapterError(field: pathOf(key), problem: "is missing")
    }

    func wrongType(_ key: String, expected: String) -> AdapterError {
        AdapterError(field: pathOf(key), problem: "must be \(expected), not \(self[key]?.kind ?? "null")")
    }

    /// A non-empty string, or `nil` when absent, null or empty.
    func optionalString(_ key: String) throws(AdapterError) -> String? {
        switch self[key] {
        case nil: return nil
        case .string(let text): return text.isEmpty ? nil : text
        default: throw wrongType(key, expected: "a string")
        }
    }

    /// A required non-empty string.
    func string(_ key: String) throws(AdapterError) -> String {
        guard let text = try optionalString(key) else { throw missing(key) }
        return text
    }

    /// An identifier given as a string or an integer, or `nil` when absent.
    func optionalID(_ key: String) throws(AdapterError) -> String? {
        switch self[key] {
        case nil: return nil
        case .string(let text): return text.isEmpty ? nil : text
        case .integer(let number): return String(number)
        default: throw wrongType(key, expected: "a string or integer id")
        }
    }

    /// A required identifier given as a string or an integer.
    func id(_ key: String) throws(AdapterError) -> String {
        guard let id = try optionalID(key) else { throw missing(key) }
        return id
    }

    /// An integer, or `nil` when absent or null.
    func optionalInt(_ key: String) throws(AdapterError) -> Int? {
        switch self[key] {
        case nil: return nil
        case .integer(let number): return Int(number)
        case .string(let text) where Int(text) != nil: return Int(text)
        default: throw wrongType(key, expected: "an integer")
        }
    }

    /// A flag given as `true`/`false` or `1`/`0` (also as strings); `false` when absent.
    func flag(_ key: String) throws(AdapterError) -> Bool {
        switch self[key] {
        case nil: return false
        case .bool(let value): return value
        case .integer(let number): return number != 0
        case .string(let text) where ["0", "1", "true", "false"].contains(text.lowercased()):
            return text == "1" || text.lowercased() == "true"
        default: throw wrongType(key, expected: "a boolean or 0/1")
        }
    }

    /// A nested object, or `nil` when absent or null.
    func optionalObject(_ key: String) throws(AdapterError) -> JSONObject? {
        switch self[key] {
        case nil: return nil
        case .object(let fields): return JSONObject(fields: fields, path: pathOf(key))
        default: throw wrongType(key, expected: "an object")
        }
    }

    /// A required nested object.
    func object(_ key: String) throws(AdapterError) -> JSONObject {
        guard let object = try optionalObject(key) else { throw missing(key) }
        return object
    }

    /// A required object, or a non-empty array of objects (each named `key[i]` in errors).
    func objects(_ key: String) throws(AdapterError) -> [JSONObject] {
        switch self[key] {
        case nil: throw missing(key)
        case .object(let fields): return [JSONObject(fields: fields, path: pathOf(key))]
        case .array(let items) where !items.isEmpty:
            var objects: [JSONObject] = []
            for (index, item) in items.enumerated() {
                guard case .object(let fields) = item else {
                    throw AdapterError(
                        field: "\(pathOf(key))[\(index)]", problem: "must be an object, not \(item.kind)")
                }
                objects.append(JSONObject(fields: fields, path: "\(pathOf(key))[\(index)]"))
            }
            return objects
        default: throw wrongType(key, expected: "an object or a non-empty array of objects")
        }
    }

    /// The first element of an array of objects, or `nil` when the array is absent or empty.
    func firstObject(inArray key: String) throws(AdapterError) -> JSONObject? {
        switch self[key] {
        case nil: return nil
        case .array(let items):
            guard let first = items.first else { return nil }
            guard case .object(let fields) = first else {
                throw AdapterError(field: "\(pathOf(key))[0]", problem: "must be an object, not \(first.kind)")
            }
            return JSONObject(fields: fields, path: "\(pathOf(key))[0]")
        default: throw wrongType(key, expected: "an array")
        }
    }

    /// The first string of an array of strings, or `nil` when absent or empty.
    func firstString(inArray key: String) throws(AdapterError) -> String? {
        switch self[key] {
        case nil: return nil
        case .array(let items):
            for item in items { if case .string(let text) = item, !text.isEmpty { return text } }
            return nil
        default: throw wrongType(key, expected: "an array of strings")
        }
    }
}
