import Foundation

/// A shared secret (signing key, password, path token). Its value never appears in descriptions,
/// debug output, mirrors or string interpolation: all of them print `Secret(<redacted>)`.
///
/// Loading secrets from the environment or a file is the configuration layer's job; the helpers
/// here do the reading with typed errors that name the variable or file but never the value.
package struct Secret: Sendable, Hashable {
    /// The secret's bytes (the UTF-8 of the configured string).
    private let bytes: [UInt8]

    /// Wraps a secret given as text (for a `whsec_…` Standard Webhooks secret, the whole string).
    package init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// Wraps raw secret bytes.
    package init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Reads the secret from environment variable `name`; surrounding whitespace is trimmed.
    ///
    /// - Throws: ``SecretLoadError`` when the variable is unset or empty.
    package init(fromEnvironment name: String) throws(SecretLoadError) {
        guard let value = ProcessInfo.processInfo.environment[name] else {
            throw SecretLoadError(source: "environment variable \(name)", problem: .missing)
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw SecretLoadError(source: "environment variable \(name)", problem: .empty)
        }
        self.init(trimmed)
    }

    /// Reads the secret from the file at `path` (e.g. a systemd credential); surrounding whitespace,
    /// including the trailing newline editors add, is trimmed.
    ///
    /// - Throws: ``SecretLoadError`` when the file cannot be read, is not UTF-8, or is empty.
    package init(contentsOfFile path: String) throws(SecretLoadError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SecretLoadError(source: "file \(path)", problem: .unreadable(String(describing: error)))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SecretLoadError(source: "file \(path)", problem: .notUTF8)
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw SecretLoadError(source: "file \(path)", problem: .empty) }
        self.init(trimmed)
    }

    /// The secret's bytes. Use them only to sign, verify or send the secret where it belongs; never log them.
    package var revealedBytes: [UInt8] { bytes }

    /// The secret as text (lossy for non-UTF-8 bytes). Same rules as ``revealedBytes``.
    package var revealedString: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether the secret has no bytes at all.
    package var isEmpty: Bool { bytes.isEmpty }

    /// Compares two secrets in constant time (both are hashed first), so `==` is safe even on a request path.
    package static func == (lhs: Secret, rhs: Secret) -> Bool {
        Crypto.constantTimeEqualsHashed(lhs.bytes, rhs.bytes)
    }

    /// Hashes the secret's bytes (for sets and dictionaries of secrets; never printed).
    package func hash(into hasher: inout Hasher) {
        hasher.combine(bytes)
    }

    /// A short, non-reversible fingerprint (first 8 hex digits of SHA-256), safe to log to tell secrets apart.
    package var fingerprint: String { String(Hex.encode(Crypto.sha256(bytes)).prefix(8)) }
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Always `Secret(<redacted>)`.
    package var description: String { "Secret(<redacted>)" }
    /// Always `Secret(<redacted>)`.
    package var debugDescription: String { description }
    /// A mirror without children, so `dump` and reflection show nothing of the value.
    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// A secret could not be loaded. The message names where it was looked for, never its value.
package struct SecretLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    package enum Problem: Sendable, Equatable {
        /// The environment variable is not set.
        case missing
        /// The value is empty after trimming whitespace.
        case empty
        /// The file could not be read; the payload is the system's reason.
        case unreadable(String)
        /// The file is not valid UTF-8.
        case notUTF8
    }

    /// Where the secret was looked for, e.g. `environment variable LATCHKEY_GUESTY_SECRET`.
    package let source: String
    /// What was wrong.
    package let problem: Problem

    /// A message saying what was wrong and what to do.
    package var description: String {
        switch problem {
        case .missing: "secret not found: \(source) is not set; set it or point the config at a secret file"
        case .empty: "secret in \(source) is empty; put the secret value there"
        case .unreadable(let reason): "secret \(source) cannot be read (\(reason)); check the path and its permissions"
        case .notUTF8: "secret \(source) is not UTF-8 text; write the secret as text"
        }
    }
}
