import SystemCalls

/// What reading one journal segment found.
package struct SegmentScan: Sendable, Equatable {
    /// Damage found in a segment.
    package struct Damage: Sendable, Equatable {
        /// Where the first unreadable record starts.
        package var offset: Int
        /// Why it is unreadable (incomplete, checksum mismatch, …).
        package var reason: String
        /// True when nothing valid follows it anywhere in the journal: a torn final write, safe to cut off.
        /// False means good records follow: damage in the middle, which recovery must not paper over.
        package var isTornTail: Bool
    }

    /// The segment's number.
    package var number: UInt64
    /// The segment's path.
    package var path: String
    /// Its size in bytes.
    package var size: Int
    /// Zero bytes at the end of the file: space the writer filled with zeros ahead of its records (see
    /// ``StoreConfiguration/preallocationBytes``). They hold no data and are not damage.
    package var trailingZeroBytes = 0
    /// Bytes the next open cuts off as a torn tail (zeros written ahead of it included); 0 when there is none.
    package var tornBytes: Int {
        guard let damage, damage.isTornTail else { return 0 }
        return size - validBytes
    }
    /// Bytes up to the end of the last good record before any damage.
    package var validBytes: Int
    /// Good records read before any damage.
    package var records: Int
    /// The first damage, if any.
    package var damage: Damage?
}

/// The state rebuilt from a data directory, and what was found on the way.
struct RecoveredJournal: Sendable {
    /// The committed state: snapshot plus replayed records up to the first damage.
    var state = StoreState()
    /// The snapshot's info, if there is one.
    var snapshot: Snapshot.Info?
    /// The first segment replayed (segments before it are covered by the snapshot).
    var replayFrom: UInt64 = 1
    /// The segments replayed, ascending.
    var segments: [SegmentScan] = []
    /// Segments older than `replayFrom`, left behind by an interrupted compaction.
    var obsoleteSegments: [UInt64] = []

    /// The first damage that is not a torn tail, if any: replay stopped there.
    var middleDamage: SegmentScan? { segments.first { $0.damage.map { !$0.isTornTail } ?? false } }
}

/// Rebuilds the committed state from a data directory without changing any file: used by `open` (which then
/// truncates torn tails) and by `verify` (which only reports).
enum Recovery {
    /// Loads the snapshot, then replays every segment from the snapshot's `replayFrom` on.
    /// - Parameters:
    ///   - directory: The data directory.
    ///   - now: The current time; claims expired by then are not loaded.
    ///   - maxPayload: The largest acceptable record payload.
    /// - Returns: The state and the scan of each segment. Replay stops at the first damage in the middle.
    /// - Throws: ``StoreError/Code/corruptSnapshot`` for a damaged snapshot, or an I/O error.
    static func load(_ directory: DataDirectory, now: Int64, maxPayload: Int) throws(StoreError) -> RecoveredJournal {
        var result = RecoveredJournal()
        if FileSystem.exists(directory.snapshotPath) {
            let info = try Snapshot.read(directory.snapshotPath, into: &result.state, now: now, maxPayload: maxPayload)
            result.snapshot = info
            result.replayFrom = info.replayFrom
        }
        let numbers = try directory.segmentNumbers()
        result.obsoleteSegments = numbers.filter { $0 < result.replayFrom }
        let live = numbers.filter { $0 >= result.replayFrom }
        let holdsData = try live.map { (n) throws(StoreError) in try startsWithRecord(directory.segmentPath(n)) }
        for (index, number) in live.enumerated() {
            let laterHoldsData = holdsData[(index + 1)...].contains(true)
            let scan = try replay(
                segment: number, in: directory, into: &result.state, now: now,
                maxPayload: maxPayload, laterSegmentsHoldData: laterHoldsData)
            result.segments.append(scan)
            if let damage = scan.damage, !damage.isTornTail { break }
        }
        return result
    }

    /// Replays one segment into `state`, stopping at the first unreadable record.
    private static func replay(
        segment number: UInt64, in directory: DataDirectory, into state: inout StoreState, now: Int64,
        maxPayload: Int, laterSegmentsHoldData: Bool
    ) throws(StoreError) -> SegmentScan {
        let path = directory.segmentPath(number)
        return try FileSystem.withMappedFile(path, mapError: StoreError.init(_:)) {
            (bytes) throws(StoreError) -> SegmentScan in
            var scan = SegmentScan(number: number, path: path, size: bytes.count, validBytes: 0, records: 0)
            var offset = 0
            while offset < bytes.count {
                let reason: String
                switch Frame.parse(bytes, at: offset, maxPayload: maxPayload) {
                case .frame(.transaction, let payload, let next):
                    if let record = TransactionRecord.decode(payload) {
                        state.apply(record, now: now)
                        scan.records += 1
                        offset = next
                        scan.validBytes = next
                        continue
                    }
                    reason = "malformed transaction record"
                case .frame(let kind, _, _):
                    reason = "record kind \(kind.rawValue) does not belong in a journal"
                case .incomplete:
                    reason = "incomplete record"
                case .corrupt(let why):
                    reason = why
                }
                scan.trailingZeroBytes = trailingZeros(bytes)
                let dataEnd = bytes.count - scan.trailingZeroBytes
                // Only zeros from here on: the end of the records in a preallocated segment, not damage.
                if offset >= dataEnd { break }
                let followedByGood =
                    laterSegmentsHoldData
                    || Frame.firstValidFrame(
                        in: UnsafeRawBufferPointer(rebasing: bytes[..<dataEnd]), after: offset, maxPayload: maxPayload)
                        != nil
                scan.damage = SegmentScan.Damage(offset: offset, reason: reason, isTornTail: !followedByGood)
                break
            }
            return scan
        }
    }

    /// Whether a segment holds anything at all: a non-zero byte in its first record header (a header is never all
    /// zeros). An empty segment, or one with only preallocated zeros, holds nothing.
    private static func startsWithRecord(_ path: String) throws(StoreError) -> Bool {
        try StoreError.catching { () throws(SystemCallError) in
            let file = try FileDescriptor.open(path, .readOnly)
            defer { file.close() }
            return try file.read(upTo: Frame.headerSize, atOffset: 0, path: path).contains { $0 != 0 }
        }
    }

    /// The number of zero bytes at the end of `bytes`.
    private static func trailingZeros(_ bytes: UnsafeRawBufferPointer) -> Int {
        var end = bytes.count
        while end > 0 && bytes[end - 1] == 0 { end -= 1 }
        return bytes.count - end
    }
}
