import Foundation

/// Hexadecimal encoding of byte strings.
package enum Hex {
    /// Lower-case hex of `bytes`, two digits per byte.
    package static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        // Contiguous bytes (an array, its slices) are read through one pointer: called from another module this
        // function is not specialized, and iterating `bytes` generically then costs a heap allocation per byte
        // (perf: 16 per delivery for the body's fingerprint).
        if let text = bytes.withContiguousStorageIfAvailable(encode(contiguous:)) { return text }
        return Array(bytes).withUnsafeBufferPointer(encode(contiguous:))
    }

    /// ``encode(_:)`` of bytes in one buffer.
    private static func encode(contiguous bytes: UnsafeBufferPointer<UInt8>) -> String {
        // Written straight into the string's storage: this runs for every delivery (the body's fingerprint).
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var position = 0
            for byte in bytes {
                out[position] = digit(byte >> 4)
                out[position + 1] = digit(byte & 0x0F)
                position += 2
            }
            return position
        }
    }

    /// The lower-case hex digit of a value 0...15.
    private static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Decodes hex text (upper or lower case); `nil` when the length is odd or a character is not a hex digit.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count.isMultiple(of: 2) else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Standard (RFC 4648 §4) base64 encoding of byte strings.
package enum Base64 {
    /// Padded standard base64 of `bytes`.
    package static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Decodes standard base64, padded or not; `nil` when the text is not base64.
    ///
    /// Missing `=` padding is accepted because Standard Webhooks secrets are sometimes written without it: the
    /// text is read as if padded to a multiple of four. Anything outside the standard alphabet (whitespace, `-`,
    /// `_`, `=` other than at the end, more than two `=`, a final group of one character) is refused; bits left
    /// over in the last character are ignored. For everything it accepts this gives `Data(base64Encoded:)`'s bytes
    /// after padding (a test compares the two); Foundation also takes misplaced padding (`YQ=a`, `====`), which
    /// this refuses. Byte by byte, because it runs for every signature of every delivery.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(utf8: Array(text.utf8))
    }

    /// ``decode(_:)`` of text given as its UTF-8 bytes.
    package static func decode(utf8: some Collection<UInt8>) -> [UInt8]? {
        if let result = utf8.withContiguousStorageIfAvailable({ decode(contiguous: $0) }) { return result }
        return Array(utf8).withUnsafeBufferPointer { decode(contiguous: $0) }
    }

    private static func decode(contiguous utf8: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        if utf8.count % 4 == 1 { return nil }
        var end = utf8.count
        while end > 0 && utf8[end - 1] == UInt8(ascii: "=") { end -= 1 }
        let padding = utf8.count - end + (4 - utf8.count % 4) % 4
        if padding > 2 || end % 4 == 1 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(end / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var bits = 0
        for index in 0..<end {
            let value = sextets[Int(utf8[index])]
            guard value != 0xFF else { return nil }
            accumulator = (accumulator << 6 | UInt32(value)) & 0xFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    /// The value of each byte as a base64 digit, 0xFF for bytes outside the standard alphabet.
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()
}
