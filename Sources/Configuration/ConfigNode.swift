import Yams

/// A problem in the configuration file, naming the key and the line so a person can fix it.
package struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The dotted key path, e.g. `properties[0].time_zone`.
    package var key: String
    /// The 1-based line in the file, when known.
    package var line: Int?
    /// What is wrong and what to do.
    package var message: String

    /// Creates an error.
    package init(key: String, line: Int?, message: String) {
        self.key = key
        self.line = line
        self.message = message
    }

    /// `line 12: properties[0].time_zone: unknown time zone "Europe/Berln"; use an IANA name such as Europe/Berlin`.
    package var description: String {
        let place = line.map { "line \($0): " } ?? ""
        return key.isEmpty ? "\(place)\(message)" : "\(place)\(key): \(message)"
    }
}

/// A YAML node with the key path that led to it, with typed accessors that throw ``ConfigurationError``.
///
/// Mappings are strict: a key the reader never asked for is reported as unknown, so a typo
/// (`time_zome:`) is an error instead of a silently ignored setting.
struct ConfigNode {
    let node: Node
    let path: String

    var line: Int? { node.mark?.line }

    func error(_ message: String) -> ConfigurationError {
        ConfigurationError(key: path, line: line, message: message)
    }

    func child(_ key: String) -> ConfigNode? {
        guard let mapping = node.mapping else { return nil }
        for (k, v) in mapping where k.scalar?.string == key {
            return ConfigNode(node: v, path: path.isEmpty ? key : "\(path).\(key)")
        }
        return nil
    }

    /// The keys of this mapping, for the unknown-key check.
    func keys() throws(ConfigurationError) -> [(String, Int?)] {
        guard let mapping = node.mapping else { throw error("expected a mapping of keys to values") }
        return mapping.map { ($0.key.scalar?.string ?? "?", $0.key.mark?.line) }
    }

    /// Throws for the first key not in `allowed`.
    func rejectUnknownKeys(_ allowed: Set<String>) throws(ConfigurationError) {
        for (key, keyLine) in try keys() where !allowed.contains(key) {
            let known = allowed.sorted().joined(separator: ", ")
            throw ConfigurationError(
                key: path.isEmpty ? key : "\(path).\(key)",
                line: keyLine,
                message: "unknown key; known keys here are: \(known)"
            )
        }
    }

    var isNull: Bool {
        if let scalar = node.scalar {
            return scalar.tag.description.hasSuffix("null")
                || ["~", "null", ""].contains(scalar.string) && scalar.style == .plain
        }
        return false
    }

    func string() throws(ConfigurationError) -> String {
        guard let scalar = node.scalar else { throw error("expected a text value") }
        return scalar.string
    }

    func int(in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let scalar = node.scalar, let value = Int(scalar.string) else { throw error("expected a whole number") }
        guard range.contains(value) else {
            throw error("\(value) is out of range; use a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func bool() throws(ConfigurationError) -> Bool {
        guard let scalar = node.scalar else { throw error("expected true or false") }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, found \"\(scalar.string)\"")
        }
    }

    func array() throws(ConfigurationError) -> [ConfigNode] {
        guard let sequence = node.sequence else { throw error("expected a list") }
        return sequence.enumerated().map { ConfigNode(node: $0.element, path: "\(path)[\($0.offset)]") }
    }

    func stringArray() throws(ConfigurationError) -> [String] {
        var result: [String] = []
        for item in try array() { result.append(try item.string()) }
        return result
    }

    func mappingEntries() throws(ConfigurationError) -> [(String, ConfigNode)] {
        guard let mapping = node.mapping else { throw error("expected a mapping of keys to values") }
        return mapping.map { pair in
            let key = pair.key.scalar?.string ?? "?"
            return (key, ConfigNode(node: pair.value, path: path.isEmpty ? key : "\(path).\(key)"))
        }
    }
}
