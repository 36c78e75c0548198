/// A strict RFC 8259 JSON parser producing ``JSONValue`` directly from bytes.
///
/// It replaces `JSONDecoder().decode(JSONValue.self, …)` on the intake's hot path: that goes through
/// `Decodable` and tries each kind in turn (every failed try builds a `DecodingError`), which cost ~35 % of the
/// listener thread's CPU per delivery. Results are the same as that decoder's (checked by differential tests):
/// a number whose value is a whole number that fits `Int64` exactly (`845`, `845.00`, `1e3`) is
/// ``JSONValue/integer(_:)``, any other ``JSONValue/number(_:)``; a repeated key keeps its first value;
/// invalid UTF-8, unescaped control characters,
/// lone surrogate escapes, leading zeros, trailing commas and trailing content are errors. Nesting is limited to
/// ``maximumDepth`` levels.
struct JSONParser {
    /// Why the bytes are not JSON, and where.
    struct Failure: Error, Equatable {
        /// The byte offset of the problem.
        var offset: Int
    }

    /// Nesting limit (arrays and objects), as `JSONDecoder` has.
    static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses one JSON text (any value, surrounded by optional whitespace).
    /// - Parameters:
    ///   - body: The UTF-8 bytes.
    ///   - members: The object members the caller will read; default all. The others are checked just as
    ///     strictly (the same bytes are accepted and rejected either way) but no value is built for them.
    /// - Throws: ``Failure`` with the offset of the first problem.
    static func parse(_ body: [UInt8], keeping members: JSONMemberFilter? = nil) throws(Failure) -> JSONValue {
        try body.withUnsafeBufferPointer { (buffer) throws(Failure) -> JSONValue in
            var parser = JSONParser(buffer)
            parser.skipWhitespace()
            let value = try parser.value(members)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw Failure(offset: parser.index) }
            return value
        }
    }

    // MARK: - Values

    private mutating func value(_ members: JSONMemberFilter? = nil) throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw Failure(offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(members)
        case UInt8(ascii: "["): return try array(members)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default: return try number()
        }
    }

    private mutating func object(_ members: JSONMemberFilter?) throws(Failure) -> JSONValue {
        try enter()
        index += 1
        // With a filter, at most its members are kept: room for them at once (no regrowth per member).
        var fields = members.map { JSONFields(capacity: $0.members.count) } ?? JSONFields()
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(fields)
        }
        while true {
            skipWhitespace()
            guard try peek() == UInt8(ascii: "\"") else { throw Failure(offset: index) }
            // The key and the members kept inside its value; no key: a member the caller does not read.
            let key: String?
            var nested: JSONMemberFilter?
            if let members {
                let found = try keptMember(of: members)
                (key, nested) = (found?.name, found?.members)
            } else {
                key = try string()
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            if let key {
                fields.append(key, try value(nested))
            } else {
                try skipValue()
            }
            if try containerEnds(at: UInt8(ascii: "}")) { break }
        }
        depth -= 1
        return .object(fields)
    }

    private mutating func array(_ members: JSONMemberFilter?) throws(Failure) -> JSONValue {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(members))
            if try containerEnds(at: UInt8(ascii: "]")) { break }
        }
        depth -= 1
        return .array(elements)
    }

    /// Reads the key at `index` (its opening quote) and returns its entry in `members`, or nil (the key read
    /// and checked, nothing built) when the caller does not read that member.
    private mutating func keptMember(of members: JSONMemberFilter) throws(Failure) -> JSONMemberFilter.Member? {
        let start = index + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                // A plain ASCII key (the common case): compare its bytes, no String made.
                index = end + 1
                return members.member(named: UnsafeBufferPointer(rebasing: bytes[start..<end]))
            }
            if byte == UInt8(ascii: "\\") || byte >= 0x80 || byte < 0x20 { break }
            end += 1
        }
        // Escapes, non-ASCII or an error: the full string path checks it and decodes it.
        var key = try string()
        return key.withUTF8 { members.member(named: $0) }
    }

    // MARK: - Checking without building

    /// Checks the value at `index` exactly as ``value(_:)`` would and moves past it, building nothing (except
    /// on the rare paths: strings with escapes or non-ASCII bytes, numbers with an exponent).
    private mutating func skipValue() throws(Failure) {
        guard index < bytes.count else { throw Failure(offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            try enter()
            index += 1
            skipWhitespace()
            if try peek() == close {
                index += 1
                depth -= 1
                return
            }
            while true {
                skipWhitespace()
                if isObject {
                    guard try peek() == UInt8(ascii: "\"") else { throw Failure(offset: index) }
                    try skipString()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                }
                try skipValue()
                if try containerEnds(at: close) { break }
            }
            depth -= 1
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try skipNumber()
        }
    }

    /// Moves past the string at `index`; plain ASCII runs are only scanned, anything else goes through ``string()``.
    private mutating func skipString() throws(Failure) {
        let start = index
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if byte == UInt8(ascii: "\\") || byte >= 0x80 { break }
            guard byte >= 0x20 else { throw Failure(offset: index) }
            index += 1
        }
        index = start
        _ = try string()
    }

    /// Moves past the number at `index`. Without an exponent and under 300 characters a number cannot overflow
    /// `Double`, so only the grammar is checked; otherwise ``number()`` decides.
    private mutating func skipNumber() throws(Failure) {
        let start = index
        let shape = try scanNumber()
        if shape.hasExponent || index - start >= 300 {
            index = start
            _ = try number()
        }
    }

    /// After a member or an element: consumes `,` (false: another follows) or `close` (true: the container ended).
    private mutating func containerEnds(at close: UInt8) throws(Failure) -> Bool {
        skipWhitespace()
        let next = try peek()
        index += 1
        if next == close { return true }
        guard next == UInt8(ascii: ",") else { throw Failure(offset: index - 1) }
        return false
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw Failure(offset: index) }
    }

    // MARK: - Strings

    /// Parses a string starting at its opening quote; the fast path copies runs without escapes.
    private mutating func string() throws(Failure) -> String {
        index += 1
        let start = index
        var isASCII = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
                // ASCII needs no validation (the common case: ids, dates, keys).
                let text = isASCII ? String(decoding: run, as: UTF8.self) : try validated(run, at: start)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw Failure(offset: index) }
            if byte >= 0x80 { isASCII = false }
            index += 1
        }
        guard index < bytes.count else { throw Failure(offset: index) }
        var decoded = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try decoded.withUnsafeBufferPointer { (buffer) throws(Failure) in
                    try validated(buffer, at: start)
                }
            case UInt8(ascii: "\\"):
                try escape(into: &decoded)
            case 0..<0x20:
                throw Failure(offset: index)
            default:
                decoded.append(byte)
                index += 1
            }
        }
        throw Failure(offset: index)
    }

    private func validated(_ utf8: UnsafeBufferPointer<UInt8>, at offset: Int) throws(Failure) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else { throw Failure(offset: offset) }
        return text
    }

    private mutating func escape(into decoded: inout [UInt8]) throws(Failure) {
        index += 1
        guard index < bytes.count else { throw Failure(offset: index) }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(byte)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try hex4())
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else {
                    throw Failure(offset: index)
                }
                index += 2
                let low = UInt32(try hex4())
                guard (0xDC00...0xDFFF).contains(low) else { throw Failure(offset: index - 4) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw Failure(offset: index - 4)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw Failure(offset: index - 4) }
            decoded.append(contentsOf: UTF8.encode(unicode)!)
        default:
            throw Failure(offset: index - 1)
        }
    }

    private mutating func hex4() throws(Failure) -> UInt16 {
        guard index + 4 <= bytes.count else { throw Failure(offset: index) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure(offset: index)
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    // MARK: - Numbers and literals

    private mutating func number() throws(Failure) -> JSONValue {
        let start = index
        let shape = try scanNumber()
        let isInteger = !shape.hasFraction && !shape.hasExponent
        // Up to 18 digits cannot overflow Int64: add them up without making a String.
        if isInteger, index - start <= 18 {
            let negative = bytes[start] == UInt8(ascii: "-")
            var magnitude: Int64 = 0
            for offset in (negative ? start + 1 : start)..<index {
                magnitude = magnitude * 10 + Int64(bytes[offset] - UInt8(ascii: "0"))
            }
            return .integer(negative ? -magnitude : magnitude)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        guard let double = Double(text), double.isFinite else { throw Failure(offset: start) }
        if let integer = Int64(exactly: double) { return .integer(integer) }
        return .number(double)
    }

    /// Moves past a number's characters, checking its grammar (RFC 8259 §6).
    /// - Returns: Whether it has a fraction part and whether it has an exponent part.
    private mutating func scanNumber() throws(Failure) -> (hasFraction: Bool, hasExponent: Bool) {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw Failure(offset: index) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw Failure(offset: index) }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let hasFraction = index < bytes.count && bytes[index] == UInt8(ascii: ".")
        if hasFraction {
            index += 1
            try digits()
        }
        let hasExponent =
            index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E"))
        if hasExponent {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            try digits()
        }
        return (hasFraction, hasExponent)
    }

    private mutating func digits() throws(Failure) {
        guard index < bytes.count, isDigit(bytes[index]) else { throw Failure(offset: index) }
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw Failure(offset: index) }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw Failure(offset: index + offset)
        }
        index += count
    }

    private func peek() throws(Failure) -> UInt8 {
        guard index < bytes.count else { throw Failure(offset: index) }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard try peek() == byte else { throw Failure(offset: index) }
        index += 1
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }
}
