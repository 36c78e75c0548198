internal import CLibCrypto

/// The cryptographic primitives Latchkey needs, from the system's OpenSSL libcrypto.
///
/// This is the only file that imports `CLibCrypto`; everything else in Latchkey goes through these
/// functions, so the C API never leaks into other modules.
public enum Crypto {
    /// The length of a SHA-256 digest and of an HMAC-SHA256 tag, in bytes.
    public static let sha256Length = 32

    /// Computes HMAC-SHA256 of `message` under `key`.
    ///
    /// - Parameters:
    ///   - message: The bytes to authenticate, exactly as sent.
    ///   - key: The key bytes; any length (OpenSSL hashes keys longer than the block size).
    /// - Returns: The 32-byte tag.
    /// The corresponding C function is `HMAC` with `EVP_sha256`.
    public static func hmacSHA256<Message: Collection<UInt8>>(_ message: Message, key: [UInt8]) -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: sha256Length)
        var tagLength: UInt32 = 0
        let contiguous = Array(message)
        let dummy: [UInt8] = [0]
        let produced = withNonNullBytes(key.isEmpty ? dummy : key) { keyPointer in
            withNonNullBytes(contiguous.isEmpty ? dummy : contiguous) { messagePointer in
                tag.withUnsafeMutableBufferPointer { out in
                    HMAC(
                        EVP_sha256(),
                        keyPointer, Int32(key.count),
                        messagePointer, contiguous.count,
                        out.baseAddress, &tagLength
                    ) != nil
                }
            }
        }
        // HMAC-SHA256 fails only when the library cannot allocate; there is no way to go on safely.
        precondition(produced && tagLength == UInt32(sha256Length), "libcrypto HMAC-SHA256 failed")
        return tag
    }

    /// Computes the SHA-256 digest of `bytes`.
    ///
    /// - Parameter bytes: The input.
    /// - Returns: The 32-byte digest.
    /// The corresponding C function is `SHA256`.
    public static func sha256<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: sha256Length)
        let contiguous = Array(bytes)
        let dummy: [UInt8] = [0]
        let produced = withNonNullBytes(contiguous.isEmpty ? dummy : contiguous) { input in
            digest.withUnsafeMutableBufferPointer { out in
                SHA256(input.assumingMemoryBound(to: UInt8.self), contiguous.count, out.baseAddress) != nil
            }
        }
        precondition(produced, "libcrypto SHA-256 failed")
        return digest
    }

    /// Compares two byte strings in time that depends only on their lengths, never on their contents.
    ///
    /// Different lengths compare unequal at once (lengths of MACs and digests are public).
    /// - Returns: `true` when both hold the same bytes.
    /// The corresponding C function is `CRYPTO_memcmp`.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard !lhs.isEmpty else { return true }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in
                CRYPTO_memcmp(left.baseAddress, right.baseAddress, lhs.count) == 0
            }
        }
    }

    /// Compares two secrets of possibly different lengths without revealing, by timing, where they differ
    /// or how long the expected one is: both are hashed with SHA-256 first, then compared in constant time.
    ///
    /// - Returns: `true` when both hold the same bytes.
    public static func constantTimeEqualsHashed(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        constantTimeEquals(sha256(lhs), sha256(rhs))
    }

    /// Returns `count` bytes from the system's cryptographically secure generator.
    ///
    /// - Parameter count: How many bytes, at least 0.
    /// - Throws: ``RandomBytesError`` when the generator is not seeded or fails.
    /// The corresponding C function is `RAND_bytes`.
    public static func randomBytes(count: Int) throws(RandomBytesError) -> [UInt8] {
        precondition(count >= 0, "randomBytes(count:) needs a non-negative count")
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard status == 1 else { throw RandomBytesError(requested: count) }
        return bytes
    }

    private static func withNonNullBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawPointer) -> R) -> R {
        bytes.withUnsafeBytes { raw in
            // Callers never pass an empty array, so the base address exists.
            body(raw.baseAddress!)
        }
    }
}

/// libcrypto's random generator failed (not seeded, or an internal error).
public struct RandomBytesError: Error, Sendable, CustomStringConvertible {
    /// How many bytes were asked for.
    public let requested: Int

    /// A message saying what failed and what to check.
    public var description: String {
        "libcrypto RAND_bytes could not produce \(requested) random bytes; check that the system's entropy source (getrandom) works"
    }
}
