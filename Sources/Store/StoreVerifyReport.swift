import SystemCalls

/// What `Store.verify(at:)` found in a data directory (printed by `latchkey store verify`).
package struct StoreVerifyReport: Sendable, CustomStringConvertible {
    /// The directory checked.
    package var directory: String
    /// The snapshot's header and counts, if there is a snapshot.
    package var snapshot: StoreSnapshotInfo?
    /// Every journal segment replayed, in order, with its records and any damage.
    package var segments: [SegmentScan] = []
    /// Segments already covered by the snapshot (left by an interrupted compaction; removed at next open).
    package var obsoleteSegments: [UInt64] = []
    /// Live entries after replay.
    package var entryCount = 0
    /// Unexpired idempotency keys after replay.
    package var idempotencyKeyCount = 0
    /// The problem that would stop `Store.open`: a damaged snapshot, damage in the middle of the journal, or an
    /// I/O error. Nil when the directory would open.
    package var problem: StoreError?

    /// Whether the directory would open without losing any complete record.
    package var isHealthy: Bool { problem == nil }

    /// Bytes of torn final records that the next open would cut off (normal if the store is running).
    package var tornTailBytes: Int {
        segments.reduce(0) { $0 + $1.tornBytes }
    }

    /// A multi-line account for people.
    package var description: String {
        var lines = ["store \(directory): \(isHealthy ? "OK" : "DAMAGED")"]
        if let snapshot {
            lines.append(
                "  snapshot: \(snapshot.bytes) bytes, \(snapshot.entryCount) entries, \(snapshot.claimCount) "
                    + "idempotency keys, journal replay from segment \(snapshot.replayFrom)")
        } else {
            lines.append("  snapshot: none")
        }
        for scan in segments {
            var line = "  \(scan.path): \(scan.size) bytes, \(scan.records) records"
            if scan.trailingZeroBytes > 0 && scan.damage == nil {
                line += ", \(scan.trailingZeroBytes) bytes preallocated"
            }
            if let damage = scan.damage {
                line +=
                    damage.isTornTail
                    ? "; torn tail of \(scan.tornBytes) bytes at offset \(damage.offset) (\(damage.reason)); "
                        + "cut off at next open"
                    : "; DAMAGED at offset \(damage.offset) (\(damage.reason)) with valid records after it"
            }
            lines.append(line)
        }
        if !obsoleteSegments.isEmpty {
            lines.append(
                "  obsolete segments (already in the snapshot): \(obsoleteSegments.map(String.init).joined(separator: ", "))"
            )
        }
        lines.append("  live: \(entryCount) entries, \(idempotencyKeyCount) unexpired idempotency keys")
        if let problem { lines.append("  problem: \(problem)") }
        return lines.joined(separator: "\n")
    }
}

extension Store {
    /// Checks a data directory read-only, without taking its lock, so it works on a running instance's
    /// directory (a torn tail there is usually a write in progress).
    /// - Parameters:
    ///   - directory: The data directory.
    ///   - configuration: For the maximum record size and the clock; default configuration.
    /// - Returns: The report; ``StoreVerifyReport/problem`` says what would stop an open.
    package static func verify(at directory: String, configuration: StoreConfiguration = StoreConfiguration())
        -> StoreVerifyReport
    {
        var report = StoreVerifyReport(directory: directory)
        let dir = DataDirectory(path: directory)
        guard FileSystem.exists(dir.path) else {
            report.problem = StoreError(
                .io, "the data directory does not exist; check the path", path: dir.path, errno: .noSuchFileOrDirectory)
            return report
        }
        do {
            let recovered = try Recovery.load(dir, now: configuration.clock(), maxPayload: configuration.maxRecordBytes)
            report.snapshot = recovered.snapshot
            report.segments = recovered.segments
            report.obsoleteSegments = recovered.obsoleteSegments
            report.entryCount = recovered.state.entries.count
            report.idempotencyKeyCount = recovered.state.claims.count
            if let damaged = recovered.middleDamage, let damage = damaged.damage {
                report.problem = StoreError.corruptJournal(path: damaged.path, damage: damage)
            }
        } catch {
            report.problem = error
        }
        return report
    }
}
