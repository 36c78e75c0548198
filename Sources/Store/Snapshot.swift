import Glibc
import SystemCalls

/// Reading and atomically writing the `snapshot` file.
///
/// Layout: frames (see ``Frame``) — one header (`version u8, replayFrom u64, createdAt i64`), then runs of
/// entries (`key blob, value blob`) and claims (`digest 16, expiresAt i64, response blob`) of about 64 KiB each,
/// then one footer (`entryCount u64, claimCount u64`). A snapshot without its footer, or with any bad frame,
/// is corrupt: it is only ever installed by rename after `fsync`, so damage means the disk lost data.
enum Snapshot {
    /// The format version written in the header.
    static let version: UInt8 = 1
    /// Target size of one entries or claims frame.
    private static let chunkBytes = 64 << 10

    /// What a snapshot says about itself.
    typealias Info = StoreSnapshotInfo

    /// Writes `state` as the new snapshot: temp file, `fsync`, rename, `fsync` of the directory.
    /// - Parameters:
    ///   - state: The state to save (expired claims should already be gone).
    ///   - replayFrom: The first segment whose records are *not* in `state`.
    ///   - directory: The data directory.
    ///   - now: The creation time.
    /// - Returns: The new snapshot's info.
    static func write(
        _ state: StoreState, replayFrom: UInt64, in directory: DataDirectory, now: Int64
    ) throws(StoreError) -> Info {
        let tempPath = directory.path + "/" + DataDirectory.snapshotTempPrefix + String(getpid())
        let fd = try StoreError.catching { () throws(SystemCallError) in
            try FileDescriptor.open(tempPath, .writeOnly, options: [.create, .truncate])
        }
        var written = 0
        do throws(StoreError) {
            var out: [UInt8] = []
            out.reserveCapacity(2 * chunkBytes)
            func flush(force: Bool) throws(StoreError) {
                guard force || out.count >= chunkBytes * 8 else { return }
                try StoreError.catching { () throws(SystemCallError) in
                    try fd.writeAll(out, atOffset: written, path: tempPath)
                }
                written += out.count
                out.removeAll(keepingCapacity: true)
            }
            var header = ByteWriter()
            header.u8(version)
            header.u64(replayFrom)
            header.i64(now)
            Frame.append(kind: .snapshotHeader, payload: header.bytes, to: &out)

            var chunk = ByteWriter()
            for (key, value) in state.entries {
                chunk.string(key)
                chunk.blob(value)
                if chunk.bytes.count >= chunkBytes {
                    Frame.append(kind: .snapshotEntries, payload: chunk.bytes, to: &out)
                    chunk = ByteWriter()
                    try flush(force: false)
                }
            }
            if !chunk.bytes.isEmpty { Frame.append(kind: .snapshotEntries, payload: chunk.bytes, to: &out) }
            chunk = ByteWriter()
            for (digest, slot) in state.claims {
                digest.write(to: &chunk)
                chunk.i64(Int64(slot.expiresAt))
                chunk.blob(state.arena.bytes(of: slot))
                if chunk.bytes.count >= chunkBytes {
                    Frame.append(kind: .snapshotClaims, payload: chunk.bytes, to: &out)
                    chunk = ByteWriter()
                    try flush(force: false)
                }
            }
            if !chunk.bytes.isEmpty { Frame.append(kind: .snapshotClaims, payload: chunk.bytes, to: &out) }
            var footer = ByteWriter()
            footer.u64(UInt64(state.entries.count))
            footer.u64(UInt64(state.claims.count))
            Frame.append(kind: .snapshotFooter, payload: footer.bytes, to: &out)
            try flush(force: true)
            try StoreError.catching { () throws(SystemCallError) in try fd.synchronize(path: tempPath) }
            fd.close()
        } catch {
            fd.close()
            try? FileSystem.remove(tempPath)
            throw error
        }
        do throws(StoreError) {
            try StoreError.catching { () throws(SystemCallError) in
                try FileSystem.rename(tempPath, to: directory.snapshotPath)
            }
        } catch {
            try? FileSystem.remove(tempPath)
            throw error
        }
        try StoreError.catching { () throws(SystemCallError) in try FileSystem.synchronizeDirectory(directory.path) }
        return Info(
            replayFrom: replayFrom, createdAt: now, entryCount: state.entries.count,
            claimCount: state.claims.count, bytes: written)
    }

    /// Reads the snapshot into `state`.
    /// - Parameters:
    ///   - path: The snapshot file.
    ///   - state: The state to fill (normally empty).
    ///   - now: The current time; expired claims are skipped.
    ///   - maxPayload: The largest acceptable frame payload.
    /// - Returns: The snapshot's info.
    /// - Throws: ``StoreError/Code/corruptSnapshot`` naming the offset of the first bad frame.
    static func read(_ path: String, into state: inout StoreState, now: Int64, maxPayload: Int) throws(StoreError)
        -> Info
    {
        try FileSystem.withMappedFile(path, mapError: StoreError.init(_:)) { (bytes) throws(StoreError) -> Info in
            func corrupt(_ reason: String, at offset: Int) -> StoreError {
                StoreError(
                    .corruptSnapshot,
                    "the snapshot is damaged (\(reason)); restore the data directory from a backup, or move "
                        + "the snapshot aside to start from the journal alone if it still holds everything",
                    path: path, offset: offset)
            }
            var offset = 0
            var info: Info?
            var entries = 0
            var claims = 0
            while offset < bytes.count {
                guard
                    case .frame(let kind, let payload, let next) = Frame.parse(
                        bytes, at: offset, maxPayload: maxPayload)
                else { throw corrupt("unreadable record", at: offset) }
                var r = ByteReader(payload)
                switch kind {
                case .snapshotHeader where info == nil && offset == 0:
                    guard r.u8() == version, let replayFrom = r.u64(), let createdAt = r.i64() else {
                        throw corrupt("unknown header or version", at: offset)
                    }
                    info = Info(
                        replayFrom: replayFrom, createdAt: createdAt, entryCount: 0, claimCount: 0, bytes: bytes.count)
                case .snapshotEntries where info != nil:
                    while !r.isAtEnd {
                        guard let key = r.string(), let value = r.blob() else {
                            throw corrupt("malformed entries", at: offset)
                        }
                        state.entries[key] = value
                        entries += 1
                    }
                case .snapshotClaims where info != nil:
                    while !r.isAtEnd {
                        guard let d = r.raw(16), let expiresAt = r.i64(), let n = r.u32(), let response = r.raw(Int(n))
                        else {
                            throw corrupt("malformed claims", at: offset)
                        }
                        state.addClaim(KeyDigest(bytes: d), expiresAt: expiresAt, response: response, now: now)
                        claims += 1
                    }
                case .snapshotFooter where info != nil:
                    guard r.u64() == UInt64(entries), r.u64() == UInt64(claims), next == bytes.count else {
                        throw corrupt("footer does not match the contents", at: offset)
                    }
                    info?.entryCount = entries
                    info?.claimCount = claims
                    return info!
                default:
                    throw corrupt("unexpected record kind \(kind.rawValue)", at: offset)
                }
                offset = next
            }
            throw corrupt("no footer: the file is incomplete", at: offset)
        }
    }
}
