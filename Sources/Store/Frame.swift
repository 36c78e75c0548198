import CZlib

/// The on-disk framing shared by journal segments and the snapshot:
/// `[payload length u32 LE][crc32 u32 LE of kind+payload][kind u8][payload]`.
///
/// The CRC is zlib's `crc32`. A frame whose header or payload runs past the end of the file is
/// *incomplete* (a torn write); a frame with a bad CRC, an unknown kind or an impossible length is *corrupt*.
enum Frame {
    /// Bytes before the payload: length, CRC, kind.
    static let headerSize = 9

    /// What a record holds.
    enum Kind: UInt8 {
        /// Journal: one committed ``Transaction`` (see ``TransactionRecord``).
        case transaction = 1
        /// Snapshot: format version, replay start and creation time; always first.
        case snapshotHeader = 0x20
        /// Snapshot: a run of key → value entries.
        case snapshotEntries = 0x21
        /// Snapshot: a run of idempotency digests with expiry and response.
        case snapshotClaims = 0x22
        /// Snapshot: the counts written; always last, proves the file is complete.
        case snapshotFooter = 0x23
    }

    /// Appends one framed record to `out`.
    /// - Parameters:
    ///   - kind: The record kind.
    ///   - payload: The record's bytes.
    ///   - out: The buffer to append to.
    static func append(kind: Kind, payload: [UInt8], to out: inout [UInt8]) {
        // Straight into `out`, no intermediate arrays: this runs for every transaction.
        var crc = withUnsafeBytes(of: kind.rawValue) { crc32(0, $0.bindMemory(to: UInt8.self).baseAddress, 1) }
        crc = payload.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: crc).littleEndian) { out.append(contentsOf: $0) }
        out.append(kind.rawValue)
        out.append(contentsOf: payload)
    }

    /// The result of reading one frame.
    enum Parse {
        /// A good frame; `next` is the offset just past it.
        case frame(kind: Kind, payload: UnsafeRawBufferPointer, next: Int)
        /// The header or the payload runs past the end of the bytes.
        case incomplete
        /// The frame is damaged; `reason` says how.
        case corrupt(reason: String)
    }

    /// Reads the frame starting at `offset`.
    /// - Parameters:
    ///   - bytes: The whole file.
    ///   - offset: Where the frame starts.
    ///   - maxPayload: Lengths above this are corrupt, not merely incomplete.
    static func parse(_ bytes: UnsafeRawBufferPointer, at offset: Int, maxPayload: Int) -> Parse {
        guard bytes.count - offset >= headerSize else { return .incomplete }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        let kindByte = bytes[offset + 8]
        guard let kind = Kind(rawValue: kindByte) else { return .corrupt(reason: "unknown record kind \(kindByte)") }
        guard length <= maxPayload else { return .corrupt(reason: "record length \(length) exceeds the maximum") }
        guard bytes.count - offset - headerSize >= length else { return .incomplete }
        let crc = crc32(0, bytes.baseAddress! + offset + 8, uInt(1 + length))
        guard UInt32(truncatingIfNeeded: crc) == stored else { return .corrupt(reason: "checksum mismatch") }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<(offset + headerSize + length)])
        return .frame(kind: kind, payload: payload, next: offset + headerSize + length)
    }

    /// Whether any valid frame starts anywhere in `bytes` after `offset`: the test that tells damage in the
    /// middle of a file (good records follow) from a torn tail (nothing valid follows).
    /// - Parameters:
    ///   - bytes: The whole file.
    ///   - offset: The damaged frame's start; the search begins one byte later.
    ///   - maxPayload: As for ``parse(_:at:maxPayload:)``.
    /// - Returns: The offset of the first valid frame found, or nil.
    static func firstValidFrame(in bytes: UnsafeRawBufferPointer, after offset: Int, maxPayload: Int) -> Int? {
        var position = offset + 1
        while bytes.count - position >= headerSize {
            if Kind(rawValue: bytes[position + 8]) != nil,
                case .frame = parse(bytes, at: position, maxPayload: maxPayload)
            {
                return position
            }
            position += 1
        }
        return nil
    }
}
