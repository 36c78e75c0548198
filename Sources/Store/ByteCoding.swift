/// Appends little-endian integers and length-prefixed byte strings to a growing buffer.
struct ByteWriter {
    /// The bytes written so far.
    var bytes: [UInt8] = []

    /// An empty writer.
    init() {}

    /// An empty writer with room for `capacity` bytes, for a size known in advance (one allocation, no regrowth).
    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends one byte.
    mutating func u8(_ v: UInt8) { bytes.append(v) }

    /// Appends a 32-bit unsigned integer, little-endian.
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    /// Appends a 64-bit unsigned integer, little-endian.
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    /// Appends a 64-bit signed integer, little-endian.
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

    /// Appends a 32-bit length followed by the bytes.
    mutating func blob<C: Collection<UInt8>>(_ v: C) {
        u32(UInt32(v.count))
        bytes.append(contentsOf: v)
    }

    /// Appends a 32-bit length followed by the string's UTF-8.
    mutating func string(_ s: String) { blob(s.utf8) }
}

/// A bounds-checked cursor over bytes in memory; every read returns nil past the end.
struct ByteReader {
    /// The bytes being read.
    let buffer: UnsafeRawBufferPointer
    /// The next byte to read.
    var position: Int = 0

    /// Creates a reader at the start of `buffer`.
    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    /// Whether every byte has been read.
    var isAtEnd: Bool { position == buffer.count }

    /// Reads one byte.
    mutating func u8() -> UInt8? {
        guard position < buffer.count else { return nil }
        defer { position += 1 }
        return buffer[position]
    }

    /// Reads a little-endian 32-bit unsigned integer.
    mutating func u32() -> UInt32? {
        guard buffer.count - position >= 4 else { return nil }
        defer { position += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    /// Reads a little-endian 64-bit unsigned integer.
    mutating func u64() -> UInt64? {
        guard buffer.count - position >= 8 else { return nil }
        defer { position += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// Reads a little-endian 64-bit signed integer.
    mutating func i64() -> Int64? { u64().map { Int64(bitPattern: $0) } }

    /// Reads `count` raw bytes as a view into the buffer.
    mutating func raw(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, buffer.count - position >= count else { return nil }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: buffer[position..<(position + count)])
    }

    /// Reads a 32-bit length and that many bytes, copied.
    mutating func blob() -> [UInt8]? {
        guard let n = u32(), let view = raw(Int(n)) else { return nil }
        return [UInt8](view)
    }

    /// Reads a 32-bit length and that many bytes as UTF-8.
    mutating func string() -> String? {
        guard let n = u32(), let view = raw(Int(n)) else { return nil }
        return String(decoding: view, as: UTF8.self)
    }
}
