import Foundation

/// The Standard Webhooks (and Svix) symmetric signature scheme, `v1`: HMAC-SHA256 over
/// `id.timestamp.body`, keyed with the base64-decoded `whsec_` secret, sent as `v1,<base64>`.
///
/// Both the signer (used by the replay harness and the fake Seam) and the verifier live here, so
/// the two cannot drift apart. Specification: standard-webhooks 1.0.0, §Signature scheme.
package enum StandardWebhooks {
    /// The prefix of serialized secrets.
    package static let secretPrefix = "whsec_"
    /// The only signature version Latchkey checks; others (e.g. `v1a`, `v2`) are skipped.
    package static let version = "v1"
    /// The default timestamp tolerance, in seconds, in both directions (the reference libraries' value).
    package static let defaultTolerance: TimeInterval = 300

    /// Header names of one family: `webhook-*` (Standard Webhooks) or `svix-*` (Svix, Guesty, Seam).
    package struct HeaderNames: Sendable, Hashable {
        /// The unique message id header.
        package let id: String
        /// The Unix-seconds timestamp header.
        package let timestamp: String
        /// The space-separated signature list header.
        package let signature: String

        /// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
        package static let standard = HeaderNames(
            id: "webhook-id", timestamp: "webhook-timestamp", signature: "webhook-signature")
        /// `svix-id`, `svix-timestamp`, `svix-signature`.
        package static let svix = HeaderNames(id: "svix-id", timestamp: "svix-timestamp", signature: "svix-signature")
    }

    /// A Standard Webhooks secret could not be decoded.
    package struct SecretError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Which configured secret (0-based) was wrong, when known.
        package let index: Int?
        /// A message saying what is wrong, without the value.
        package var description: String {
            let which = index.map { "secret #\($0 + 1)" } ?? "the secret"
            return "\(which) is not a Standard Webhooks secret: expected `whsec_` followed by base64 of the key bytes"
        }
    }

    /// Decodes a serialized secret (`whsec_<base64>`, or the base64 alone, padded or not) into HMAC key bytes.
    ///
    /// - Throws: ``SecretError`` when the text is empty, only `whsec_`, or not base64.
    package static func key(from secret: Secret) throws(SecretError) -> [UInt8] {
        var text = Substring(secret.revealedString)
        if text.hasPrefix(secretPrefix) { text = text.dropFirst(secretPrefix.count) }
        guard !text.isEmpty, let key = Base64.decode(text), !key.isEmpty else { throw SecretError(index: nil) }
        return key
    }

    /// Creates a fresh secret: `whsec_` and base64 of `byteCount` random bytes (the spec asks for 24–64).
    ///
    /// - Throws: ``RandomBytesError`` when the system generator fails.
    package static func generateSecret(byteCount: Int = 32) throws(RandomBytesError) -> Secret {
        Secret(secretPrefix + Base64.encode(try Crypto.randomBytes(count: byteCount)))
    }

    /// Signs one message: `v1,<base64 HMAC-SHA256(key, "\(id).\(timestamp).\(body)")>`.
    ///
    /// - Parameters:
    ///   - id: The message id (`webhook-id`); must not contain `.`.
    ///   - timestamp: Unix seconds of this attempt (`webhook-timestamp`).
    ///   - body: The exact body bytes that will be sent.
    ///   - secret: A `whsec_` secret.
    /// - Returns: The signature entry for the `webhook-signature` header.
    /// - Throws: ``SecretError`` when the secret cannot be decoded.
    package static func sign(id: String, timestamp: Int, body: [UInt8], secret: Secret) throws(SecretError) -> String {
        sign(id: id, timestamp: timestamp, body: body, key: try key(from: secret))
    }

    /// Builds the three headers of a signed delivery, one signature per secret (several during rotation).
    ///
    /// - Parameters:
    ///   - id: The message id.
    ///   - timestamp: Unix seconds of this attempt.
    ///   - body: The exact body bytes.
    ///   - secrets: One or more `whsec_` secrets.
    ///   - names: Which header family to emit. Default ``HeaderNames/standard``.
    /// - Returns: `(name, value)` pairs for id, timestamp and signature, in that order.
    /// - Throws: ``SecretError`` naming the first secret that cannot be decoded.
    package static func headers(
        id: String, timestamp: Int, body: [UInt8], secrets: [Secret], names: HeaderNames = .standard
    ) throws(SecretError) -> [(name: String, value: String)] {
        var signatures: [String] = []
        for (index, secret) in secrets.enumerated() {
            do {
                signatures.append(try sign(id: id, timestamp: timestamp, body: body, secret: secret))
            } catch {
                throw SecretError(index: index)
            }
        }
        return [
            (names.id, id),
            (names.timestamp, String(timestamp)),
            (names.signature, signatures.joined(separator: " ")),
        ]
    }

    static func sign(id: String, timestamp: Int, body: [UInt8], key: [UInt8]) -> String {
        "\(version)," + Base64.encode(tag(id: id, timestamp: String(timestamp), body: body, key: HMACKey(key)))
    }

    /// HMAC-SHA256 of the signed content `id.timestamp.body`, passed to libcrypto in pieces. The signer and the
    /// verifier both use this.
    static func tag(id: String, timestamp: String, body: [UInt8], key: HMACKey) -> [UInt8] {
        var (id, timestamp) = (id, timestamp)
        return key.tag { update in
            id.withUTF8 { update(UnsafeRawBufferPointer($0)) }
            withUnsafeBytes(of: UInt8(ascii: "."), update)
            timestamp.withUTF8 { update(UnsafeRawBufferPointer($0)) }
            withUnsafeBytes(of: UInt8(ascii: "."), update)
            body.withUnsafeBytes(update)
        }
    }

    /// Verifies a delivery against decoded keys. Order of checks, as in the reference libraries: headers
    /// present, timestamp well formed, timestamp within tolerance, then any `v1` signature matching any key.
    static func verify(
        header: (String) -> String?, body: [UInt8], keys: [HMACKey], tolerance: TimeInterval, now: Date
    ) throws(AuthFailure) -> VerifiedDelivery {
        let names =
            header(HeaderNames.standard.signature) != nil || header(HeaderNames.standard.id) != nil
            ? HeaderNames.standard : HeaderNames.svix
        let id = try required(names.id, header)
        let timestampText = try required(names.timestamp, header)
        let signatureText = try required(names.signature, header)

        guard let seconds = parseTimestamp(timestampText) else {
            throw AuthFailure(
                .malformedHeader, header: names.timestamp,
                message: "\(names.timestamp) must be whole Unix seconds (digits only)")
        }
        let timestamp = Date(timeIntervalSince1970: TimeInterval(seconds))
        let age = now.timeIntervalSince(timestamp)
        if age > tolerance {
            throw AuthFailure(
                .staleTimestamp, header: names.timestamp,
                message:
                    "\(names.timestamp) is \(Int(age)) s old, more than the \(Int(tolerance)) s tolerance; the sender must sign each attempt afresh, or the clocks differ"
            )
        }
        if -age > tolerance {
            throw AuthFailure(
                .futureTimestamp, header: names.timestamp,
                message:
                    "\(names.timestamp) is \(Int(-age)) s in the future, more than the \(Int(tolerance)) s tolerance; check the clocks"
            )
        }

        var candidates: [[UInt8]] = []
        var malformed = 0
        // Byte by byte (not through Character): this runs for every delivery.
        for entry in signatureText.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true) {
            guard let comma = entry.firstIndex(of: UInt8(ascii: ",")) else {
                malformed += 1
                continue
            }
            guard entry[..<comma].elementsEqual(version.utf8) else { continue }
            guard let mac = Base64.decode(utf8: entry[entry.index(after: comma)...]), mac.count == Crypto.sha256Length
            else {
                malformed += 1
                continue
            }
            candidates.append(mac)
        }
        if candidates.isEmpty && (malformed > 0 || signatureText.allSatisfy { $0 == " " }) {
            throw AuthFailure(
                .malformedHeader, header: names.signature,
                message: "\(names.signature) holds no well-formed `v1,<base64 of 32 bytes>` entry")
        }
        let expected = keys.map { tag(id: id, timestamp: timestampText, body: body, key: $0) }
        for (index, mac) in expected.enumerated()
        where candidates.contains(where: { Crypto.constantTimeEquals($0, mac) }) {
            return VerifiedDelivery(deliveryID: id, timestamp: timestamp, secretIndex: index)
        }
        throw AuthFailure(
            .noSignatureMatched, header: names.signature,
            message:
                "no v1 signature in \(names.signature) matches any configured secret for this source; check the secret (whsec_…) and that the body is passed on unmodified"
        )
    }

    private static func required(_ name: String, _ header: (String) -> String?) throws(AuthFailure) -> String {
        guard let value = header(name) else {
            throw AuthFailure(
                .missingHeader, header: name,
                message:
                    "header \(name) is missing; Standard Webhooks deliveries carry id, timestamp and signature headers")
        }
        return value
    }

    /// Whole Unix seconds: 1–12 ASCII digits, nothing else (no sign, no fraction).
    /// Spaces and tabs around the digits are ignored (byte by byte, not through Foundation: it runs per delivery).
    static func parseTimestamp(_ text: String) -> Int? {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let digits = text.utf8.drop(while: isBlank).reversed().drop(while: isBlank)
        guard (1...12).contains(digits.count),
            digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return digits.reversed().reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}
