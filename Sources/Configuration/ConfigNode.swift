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

/// Every problem found in a configuration file, by line: `check-config` prints them all, and `serve` refuses to
/// start naming them all.
package struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, in the order of their lines (those without a line, such as a missing section, last); never
    /// empty.
    package var problems: [ConfigurationError]
    /// What could be read despite them, with the documented defaults for the rest: the sources, the Seam and admin
    /// settings and the properties that had no problem of their own; nil when the file is not YAML at all. For
    /// `check-config`, which also checks the secrets of these sources, so one run reports every problem. Never for
    /// serving.
    package var partial: LatchkeyConfiguration?

    /// Collects `problems`, ordered by line (the order found among equal lines).
    package init(_ problems: [ConfigurationError], partial: LatchkeyConfiguration? = nil) {
        self.problems = problems.enumerated().sorted {
            ($0.element.line ?? Int.max, $0.offset) < ($1.element.line ?? Int.max, $1.offset)
        }.map(\.element)
        self.partial = partial
    }

    /// One problem a line, each as ``ConfigurationError/description``.
    package var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// The problems found so far while reading a configuration, so that reading goes on past the first one.
struct ConfigurationProblems {
    /// Every problem recorded, in the order found.
    private(set) var all: [ConfigurationError] = []

    /// Records a problem.
    mutating func add(_ problem: ConfigurationError) { all.append(problem) }

    /// The result of `read`, or nil when it throws (the error is recorded).
    mutating func check<Value>(_ read: () throws(ConfigurationError) -> Value) -> Value? {
        do {
            return try read()
        } catch {
            all.append(error)
            return nil
        }
    }

    /// `read` applied to `node`'s value at `key`; nil when the key is absent or its value is wrong (recorded).
    mutating func value<Value>(
        of key: String, in node: ConfigNode, _ read: (ConfigNode) throws(ConfigurationError) -> Value
    ) -> Value? {
        guard let child = node.child(key) else { return nil }
        return check { () throws(ConfigurationError) in try read(child) }
    }

    /// Reads `key` of `node` as an integer in `range` and hands it to `apply`; absent, nothing happens; wrong, the
    /// problem is recorded.
    mutating func int(_ key: String, in node: ConfigNode, _ range: ClosedRange<Int>, _ apply: (Int) -> Void) {
        if let value = value(of: key, in: node, { n throws(ConfigurationError) in try n.int(in: range) }) {
            apply(value)
        }
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

    /// An error for each key of this mapping not in `allowed` (none when this is not a mapping: reading its
    /// values reports that).
    func unknownKeys(_ allowed: Set<String>) -> [ConfigurationError] {
        guard let mapping = node.mapping else { return [] }
        let known = allowed.sorted().joined(separator: ", ")
        return mapping.compactMap { pair in
            let key = pair.key.scalar?.string ?? "?"
            guard !allowed.contains(key) else { return nil }
            return ConfigurationError(
                key: path.isEmpty ? key : "\(path).\(key)", line: pair.key.mark?.line,
                message: "unknown key; known keys here are: \(known)")
        }
    }

    /// Records every key not in `allowed`, and that this is not a mapping when it is not one.
    func reportUnknownKeys(_ allowed: Set<String>, into problems: inout ConfigurationProblems) {
        guard node.mapping != nil else {
            problems.add(error("expected a mapping of keys to values"))
            return
        }
        for problem in unknownKeys(allowed) { problems.add(problem) }
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
