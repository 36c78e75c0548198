import CLibCrypto

/// SHA-256, fetched from libcrypto once: OpenSSL 3's one-shot `SHA256()` fetches the algorithm on every call
/// (~0.8 µs here), `EVP_Digest` with a fetched `EVP_MD` takes ~0.13 µs.
/// `nonisolated(unsafe)` because a fetched `EVP_MD` is immutable and documented as safe to share across threads.
nonisolated(unsafe) private let sha256 = EVP_MD_fetch(nil, "SHA256", nil)

/// The first 128 bits of SHA-256 over an idempotency key's UTF-8: what the store keeps in memory and on
/// disk instead of the key itself (16 bytes whatever the key's length; accidental collisions need ~2^64 keys).
package struct KeyDigest: Hashable, Sendable {
    /// The length of the digest as written (``write(to:)``), in bytes: 16.
    package static let byteCount = 16

    /// Bytes 0–7 of the SHA-256, as a little-endian integer.
    package var high: UInt64
    /// Bytes 8–15 of the SHA-256, as a little-endian integer.
    package var low: UInt64

    /// The digest of `key`.
    /// - Parameter key: An idempotency key, e.g. `delivery/guesty/evt_123`.
    package init(of key: String) {
        var key = key
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let ok = key.withUTF8 { utf8 in
            withUnsafeMutableBytes(of: &out) { raw in
                EVP_Digest(
                    utf8.baseAddress, utf8.count, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), nil, sha256, nil
                )
            }
        }
        precondition(ok == 1, "libcrypto could not compute SHA-256")
        high = UInt64(littleEndian: out.0)
        low = UInt64(littleEndian: out.1)
    }

    /// Reads a digest from its first 16 bytes (as written by ``write(to:)``).
    /// - Parameter bytes: At least 16 bytes.
    package init(bytes: UnsafeRawBufferPointer) {
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
    package func hash(into hasher: inout Hasher) { hasher.combine(low) }
}

extension KeyDigest {
    /// The 16 bytes as written by ``write(to:)`` (bytes 0–15 of the SHA-256), e.g. for a database column.
    package var bytes: [UInt8] {
        var writer = ByteWriter(capacity: Self.byteCount)
        write(to: &writer)
        return writer.bytes
    }
}
