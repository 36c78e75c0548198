import CLibCrypto

/// The first 128 bits of SHA-256 over an idempotency key's UTF-8: what the store keeps in memory and on
/// disk instead of the key itself (16 bytes whatever the key's length; accidental collisions need ~2^64 keys).
struct KeyDigest: Hashable, Sendable {
    /// Bytes 0–7 of the SHA-256, as a little-endian integer.
    var high: UInt64
    /// Bytes 8–15 of the SHA-256, as a little-endian integer.
    var low: UInt64

    /// The digest of `key`.
    /// - Parameter key: An idempotency key, e.g. `delivery/guesty/evt_123`.
    init(of key: String) {
        var key = key
        var out = [UInt8](repeating: 0, count: 32)
        key.withUTF8 { utf8 in
            out.withUnsafeMutableBufferPointer { _ = SHA256(utf8.baseAddress, utf8.count, $0.baseAddress) }
        }
        self.init(bytes: out.withUnsafeBytes { $0 })
    }

    /// Reads a digest from its first 16 bytes (as written by ``write(to:)``).
    /// - Parameter bytes: At least 16 bytes.
    init(bytes: UnsafeRawBufferPointer) {
        high = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        low = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// Appends the 16 bytes.
    /// - Parameter writer: Where to append.
    func write(to writer: inout ByteWriter) {
        writer.u64(high)
        writer.u64(low)
    }

    /// Hashes only one half: the digest is already uniformly distributed.
    func hash(into hasher: inout Hasher) { hasher.combine(low) }
}
