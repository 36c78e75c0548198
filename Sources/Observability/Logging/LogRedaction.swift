import Synchronization

/// The safety net that keeps secrets out of log lines: metadata whose key is named like a secret is
/// written as `"[redacted]"`, whatever its value.
///
/// Code must still never log secrets, signatures or PINs; this catches the slip, not the habit.
/// A key is split into components at dots and each component into words at `_`, `-` and lower-to-upper
/// case changes (`apiKey` → `api`, `key`). A key is sensitive when:
/// - its last component names a secret (`seam.api_key`, `guest.pin`, `signature`, `access_code`), or
/// - an earlier component names a secret and the last one is not a harmless attribute of it
///   (`signature.value` is redacted; `signature.scheme` and `signature.key_id` are not).
///
/// Words that name a secret: `secret`, `signature`, `pin`, `code`, `password`, `passwd`, `token`,
/// `authorization`, `cookie`, `credential`, and `key` after `api` or `private` (or `apikey`).
/// `code` followed by `id`, `ids`, `key`, `count` or `name` (`access_code_ids`, `common_code_key`), or preceded by
/// `status`, `error`, `exit`, `reason` or `response` (`http.status_code`), names an identifier, not a secret.
package enum LogRedaction {
    /// What a sensitive value is replaced with.
    package static let placeholder = "[redacted]"

    private static let secretWords: Set<String> = [
        "secret", "secrets", "signature", "signatures", "pin", "pins", "code", "codes", "password", "passwd",
        "token", "tokens", "authorization", "cookie", "credential", "credentials", "apikey",
    ]
    private static let keyQualifiers: Set<String> = ["api", "private"]
    private static let identifierSuffixes: Set<String> = ["id", "ids", "key", "count", "name"]
    private static let harmlessCodeQualifiers: Set<String> = ["status", "error", "exit", "reason", "response"]
    private static let harmlessAttributes: Set<String> = [
        "scheme", "scheme_name", "key_id", "verdict", "result", "valid", "algorithm", "count", "id", "ids", "kind",
        "type", "reason", "status", "length", "present", "source",
    ]

    /// Whether metadata under `key` (dotted, as flattened) must be written as ``placeholder``.
    /// - Parameter key: The flattened key, e.g. `seam.api_key`.
    /// - Returns: `true` when the key is named like a secret.
    package static func isSensitive(key: String) -> Bool {
        if let known = verdicts.withLock({ $0[key] }) { return known }
        let verdict = decide(key: key)
        verdicts.withLock { cache in
            // Keys are a small fixed set in practice; the bound only guards against keys made from data.
            if cache.count >= maximumCachedVerdicts { cache.removeAll(keepingCapacity: true) }
            cache[key] = verdict
        }
        return verdict
    }

    /// Verdicts already reached, by key: every log line asks again for the same few keys, and deciding means
    /// splitting the key into words (it cost ~5 % of the intake's CPU before it was remembered).
    private static let verdicts = Mutex<[String: Bool]>([:])
    /// At most this many verdicts are remembered; default 1,024 keys.
    private static let maximumCachedVerdicts = 1_024

    /// Decides ``isSensitive(key:)`` from the key's words.
    private static func decide(key: String) -> Bool {
        let components = key.split(separator: ".", omittingEmptySubsequences: true).map(String.init)
        guard let last = components.last else { return false }
        if componentNamesSecret(last) { return true }
        let ancestorIsSecret = components.dropLast().contains { componentNamesSecret($0) }
        return ancestorIsSecret && !harmlessAttributes.contains(last.lowercased())
    }

    /// Whether one dot-free component of a key names a secret.
    private static func componentNamesSecret(_ component: String) -> Bool {
        let words = splitWords(component)
        for (index, word) in words.enumerated() {
            let previous = index > 0 ? words[index - 1] : nil
            let next = index + 1 < words.count ? words[index + 1] : nil
            if word == "key", let previous, keyQualifiers.contains(previous) { return true }
            guard secretWords.contains(word) else { continue }
            if word == "code" || word == "codes" {
                if let next, identifierSuffixes.contains(next) { continue }
                if let previous, harmlessCodeQualifiers.contains(previous) { continue }
            }
            return true
        }
        return false
    }

    /// Splits `apiKey`, `api_key` and `api-key` alike into lower-cased words.
    private static func splitWords(_ component: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousWasLower = false
        for character in component {
            if character == "_" || character == "-" || character == " " {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousWasLower = false
                continue
            }
            if character.isUppercase && previousWasLower {
                words.append(current)
                current = ""
            }
            current.append(contentsOf: character.lowercased())
            previousWasLower = character.isLowercase || character.isNumber
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
