import Foundation
import Yams

/// A JSON value with the key order of its source, so a body written in a scenario file is sent in the
/// order it was written. Numbers keep their literal text, so `123456` stays an integer and `1.50` stays `1.50`.
package indirect enum JSONBody: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as its JSON literal text.
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONBody])
    /// An object, keys in order.
    case object([(String, JSONBody)])

    /// Compares two values; objects compare with their key order.
    package static func == (lhs: JSONBody, rhs: JSONBody) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The value at `key` of an object, or `nil`.
    package subscript(key: String) -> JSONBody? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    /// The text of a string, or `nil`.
    package var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// Compact JSON text (no spaces), the exact bytes the harness sends and signs.
    package var compactText: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// The UTF-8 bytes of ``compactText``.
    package var bytes: [UInt8] { Array(compactText.utf8) }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let text): out += text
        case .string(let text): JSONBody.writeString(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (index, pair) in pairs.enumerated() {
                if index > 0 { out += "," }
                JSONBody.writeString(pair.0, to: &out)
                out += ":"
                pair.1.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

// MARK: - YAML

extension JSONBody {
    /// Converts a YAML node (a body written inline in a scenario) to JSON.
    ///
    /// Scalars follow YAML's resolved tags: `null`, booleans, integers and floats become JSON literals,
    /// everything else (quoted text, dates) a string. An integer written in YAML 1.1 base-60 (`15:00`)
    /// stays a string, so quote times anyway.
    /// - Throws: ``ScenarioError`` for an alias or a mapping key that is not text.
    init(yaml node: Node, path: String) throws(ScenarioError) {
        switch node {
        case .scalar(let scalar):
            let tag = node.tag.description
            if scalar.style != .plain {
                self = .string(scalar.string)
            } else if tag.hasSuffix(":null") {
                self = .null
            } else if tag.hasSuffix(":bool") {
                self = .bool(["true", "yes", "on", "y"].contains(scalar.string.lowercased()))
            } else if tag.hasSuffix(":int"), let value = Int(scalar.string) {
                self = .number(String(value))
            } else if tag.hasSuffix(":float"), let value = Double(scalar.string), value.isFinite {
                self = .number(scalar.string)
            } else {
                self = .string(scalar.string)
            }
        case .sequence(let sequence):
            var items: [JSONBody] = []
            for (index, item) in sequence.enumerated() {
                items.append(try JSONBody(yaml: item, path: "\(path)[\(index)]"))
            }
            self = .array(items)
        case .mapping(let mapping):
            var pairs: [(String, JSONBody)] = []
            for (key, value) in mapping {
                guard let name = key.scalar?.string else {
                    throw ScenarioError(file: nil, key: path, line: key.mark?.line, message: "a body key must be text")
                }
                pairs.append((name, try JSONBody(yaml: value, path: "\(path).\(name)")))
            }
            self = .object(pairs)
        case .alias:
            throw ScenarioError(
                file: nil, key: path, line: node.mark?.line,
                message: "YAML aliases are not supported in bodies; write the value out")
        }
    }

    /// A YAML node for this value (used when writing generated scenarios).
    var yamlNode: Node {
        switch self {
        case .null: return Node("null", Tag(.null))
        case .bool(let value): return Node(value ? "true" : "false", Tag(.bool))
        case .number(let text): return Node(text, Tag(.int))
        case .string(let text): return Node(text, Tag(.str), .doubleQuoted)
        case .array(let items): return .sequence(.init(items.map(\.yamlNode), Tag(.seq), .flow))
        case .object(let pairs): return .mapping(.init(pairs.map { (Node($0.0), $0.1.yamlNode) }, Tag(.map), .flow))
        }
    }
}
