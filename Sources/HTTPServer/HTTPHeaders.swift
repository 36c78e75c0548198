/// An ordered list of HTTP header fields, as received or as to be sent.
///
/// Names compare case-insensitively (RFC 9110 §5.1); order and repeats are kept, because a strict
/// server must see every repeat (two `Content-Length` fields are a smuggling attempt, not a choice).
package struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One field: its name as sent and its value with surrounding whitespace removed.
    package struct Field: Sendable, Hashable {
        /// The field name as it was received or given (case kept).
        package var name: String
        /// The field value, without leading or trailing optional whitespace.
        package var value: String

        /// Creates a field.
        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The fields in the order they were received or added.
    package private(set) var fields: [Field]

    /// Creates an empty header list.
    package init() { fields = [] }

    /// Creates a header list from name/value pairs, in order.
    package init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// Creates a header list from a literal, in the literal's order.
    package init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The number of fields.
    package var count: Int { fields.count }

    /// The first value of the field `name` (case-insensitive), or `nil` when absent.
    package subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Every value of the field `name` (case-insensitive), in order.
    package func values(for name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }

    /// Whether a field called `name` (case-insensitive) is present.
    package func contains(_ name: String) -> Bool { self[name] != nil }

    /// Appends a field, keeping any earlier field of the same name.
    package mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Replaces every field called `name` with one field holding `value`.
    package mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    /// Removes every field called `name` (case-insensitive).
    package mutating func remove(name: String) {
        fields.removeAll { $0.name.caseInsensitiveEquals(name) }
    }

    /// Reserves room for `capacity` fields, so a parser can add them without regrowing.
    package mutating func reserveCapacity(_ capacity: Int) {
        fields.reserveCapacity(capacity)
    }

    /// Iterates the fields in order.
    package func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}

extension String {
    /// ASCII case-insensitive equality, as HTTP field names and tokens compare.
    package func caseInsensitiveEquals(_ other: String) -> Bool {
        let lhs = self.utf8
        let rhs = other.utf8
        guard lhs.count == rhs.count else { return false }
        for (a, b) in zip(lhs, rhs) where a != b {
            let la = (a >= 65 && a <= 90) ? a | 0x20 : a
            let lb = (b >= 65 && b <= 90) ? b | 0x20 : b
            if la != lb { return false }
        }
        return true
    }
}
