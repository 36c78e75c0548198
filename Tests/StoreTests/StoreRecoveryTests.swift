import Foundation
import Glibc
import LatchkeyTestSupport
import Store
import Testing

/// Commits `count` transactions, each claiming `delivery/i` and putting `entry/i`, one at a time so that each
/// is its own record; returns the data directory's first segment path.
private func writeJournal(_ dir: String, count: Int) async throws -> String {
    let store = try openStore(at: dir, configuration: configuration(), logger: quietLogger)
    for i in 0..<count {
        // Values of varying length so records have different sizes.
        #expect(
            try await store.commit(
                claimAndPut(
                    "delivery/\(i)", entry: "entry/\(i)",
                    value: String(repeating: "v", count: 1 + i * 3))) == .committed)
    }
    store.close()
    return dir + "/journal/00000001.log"
}

/// Copies a data directory.
private func copy(_ from: String, to: String) {
    try? FileManager.default.removeItem(atPath: to)
    try! FileManager.default.copyItem(atPath: from, toPath: to)
}

@Suite("Store recovery")
struct StoreRecoveryTests {
    @Test func reopeningAfterCloseKeepsEverything() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        for i in 0..<50 {
            _ = try await store.commit(claimAndPut("delivery/\(i)", entry: "reservation/\(i)", value: "s\(i)"))
        }
        var t = Transaction()
        t.delete(key: "reservation/7")
        _ = try await store.commit(t)
        store.close()
        store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        defer { store.close() }
        for i in 0..<50 {
            #expect(store.idempotencyResponse(forKey: "delivery/\(i)") == bytes("resp-delivery/\(i)"))
            #expect(store.value(forKey: "reservation/\(i)") == (i == 7 ? nil : bytes("s\(i)")))
        }
        #expect(try await store.commit(claimAndPut("delivery/3", entry: "x", value: "y")) != .committed)
    }

    @Test func aJournalCutAtEveryByteOffsetOpensWithEverythingBeforeTheCut() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let original = dir.path + "/original"
        let segment = try await writeJournal(original, count: 4)
        let ends = recordEnds(ofSegment: segment)
        let size = ends.last!
        #expect(ends.count == 4)
        let work = dir.path + "/work"
        for cut in 0...size {
            copy(original, to: work)
            #expect(truncate(work + "/journal/00000001.log", off_t(cut)) == 0)
            let log = LogCapture()
            let store = try openStore(at: work, configuration: configuration(), logger: log.logger)
            let complete = ends.filter { $0 <= cut }.count
            for i in 0..<4 {
                let present = i < complete
                #expect((store.value(forKey: "entry/\(i)") != nil) == present, "cut \(cut) record \(i)")
                #expect(
                    (store.idempotencyResponse(forKey: "delivery/\(i)") != nil) == present, "cut \(cut) record \(i)")
            }
            let lastGood = ends.filter { $0 <= cut }.last ?? 0
            let dropped = cut - lastGood
            let truncations = log.messages.filter { $0.contains("truncated a torn tail") }
            if dropped > 0 {
                #expect(
                    truncations.count == 1 && truncations[0].contains("store.bytes_dropped=\(dropped)"),
                    "cut \(cut): \(truncations)")
            } else {
                #expect(truncations.isEmpty, "cut \(cut)")
            }
            // The next commit appends after the cut and survives another reopen (checked at every 5th cut and at
            // record boundaries, to keep the test's fsyncs few).
            guard cut % 5 == 0 || dropped == 0 else {
                store.close()
                continue
            }
            #expect(try await store.commit(claimAndPut("delivery/after", entry: "after", value: "1")) == .committed)
            store.close()
            let again = try openStore(at: work, configuration: configuration(), logger: quietLogger)
            #expect(again.value(forKey: "after") == bytes("1"), "cut \(cut)")
            #expect(again.entries(withPrefix: "entry/").count == complete, "cut \(cut)")
            again.close()
        }
    }

    @Test func aFlippedByteInTheMiddleStopsTheOpenNamingFileAndOffset() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let segment = try await writeJournal(dir.data, count: 6)
        let ends = recordEnds(ofSegment: segment)
        let damagedRecordStart = ends[2]
        var data = [UInt8](FileManager.default.contents(atPath: segment)!)
        data[damagedRecordStart + 12] ^= 0x40  // inside the fourth record's payload
        try Data(data).write(to: URL(fileURLWithPath: segment))

        #expect { try Store.open(at: dir.data, configuration: configuration(), logger: quietLogger) } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .corruptJournal && error.path == segment && error.offset == damagedRecordStart
                && error.description.contains(segment) && error.description.contains("offset \(damagedRecordStart)")
        }
        let report = Store.verify(at: dir.data)
        #expect(!report.isHealthy)
        #expect(report.problem?.offset == damagedRecordStart)
        #expect(report.segments.first?.records == 3)
        #expect(report.description.contains("DAMAGED at offset \(damagedRecordStart)"))
        // The file was not changed by the failed open.
        #expect([UInt8](FileManager.default.contents(atPath: segment)!) == data)
    }

    @Test func aFlippedByteInTheLengthOfAMiddleRecordIsAlsoCaught() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let segment = try await writeJournal(dir.data, count: 6)
        let ends = recordEnds(ofSegment: segment)
        var data = [UInt8](FileManager.default.contents(atPath: segment)!)
        data[ends[1] + 2] ^= 0x01  // the length field of record 3 now runs far past its end
        try Data(data).write(to: URL(fileURLWithPath: segment))
        #expect { try Store.open(at: dir.data, configuration: configuration(), logger: quietLogger) } throws: {
            ($0 as? StoreError)?.code == .corruptJournal && ($0 as? StoreError)?.offset == ends[1]
        }
    }

    @Test func aFlippedByteInTheLastRecordIsATornTailAndIsCutOff() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let segment = try await writeJournal(dir.data, count: 4)
        let ends = recordEnds(ofSegment: segment)
        var data = [UInt8](FileManager.default.contents(atPath: segment)!)
        data[ends[2] + 11] ^= 0xff
        try Data(data).write(to: URL(fileURLWithPath: segment))
        let verify = Store.verify(at: dir.data)
        #expect(verify.isHealthy)
        // The damaged record and the zeros written ahead of it.
        #expect(verify.tornTailBytes == (try fileSize(atPath: segment)) - ends[2])
        let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        defer { store.close() }
        #expect(store.value(forKey: "entry/2") != nil)
        #expect(store.value(forKey: "entry/3") == nil)
        #expect(try fileSize(atPath: segment) == ends[2])
    }

    @Test func zerosWrittenAheadOfTheRecordsAreTheirEndNotDamage() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let segment = try await writeJournal(dir.data, count: 5)
        let ends = recordEnds(ofSegment: segment)
        #expect(ends.count == 5)
        // The first append wrote the default 1 MiB of zeros past its record; they are still there.
        #expect(try fileSize(atPath: segment) == ends[0] + (1 << 20))
        let report = Store.verify(at: dir.data)
        #expect(report.isHealthy && report.tornTailBytes == 0 && report.segments.first?.damage == nil)
        #expect(report.segments.first?.trailingZeroBytes == (1 << 20) - (ends[4] - ends[0]))
        let log = LogCapture()
        var store = try openStore(at: dir.data, configuration: configuration(), logger: log.logger)
        #expect(!log.messages.contains { $0.contains("truncated") }, "\(log.messages)")
        #expect(store.entries(withPrefix: "entry/").count == 5)
        #expect(try await store.commit(claimAndPut("delivery/after", entry: "after", value: "1")) == .committed)
        store.close()
        // The record went where the zeros were; the file did not grow.
        #expect(try fileSize(atPath: segment) == ends[0] + (1 << 20))
        #expect(recordEnds(ofSegment: segment).count == 6)
        store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        #expect(store.value(forKey: "after") == bytes("1"))
        store.close()
    }

    @Test func aTornRecordInFrontOfTheZerosIsCutOffWithTheZeros() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let segment = try await writeJournal(dir.data, count: 3)
        let ends = recordEnds(ofSegment: segment)
        // Half of a copy of the first record, written where the fourth would go: a torn write.
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: segment))
        let first = [UInt8](FileManager.default.contents(atPath: segment)!)[0..<ends[0]]
        try file.seek(toOffset: UInt64(ends[2]))
        try file.write(contentsOf: Data(first.prefix(ends[0] / 2)))
        try file.close()
        // What is cut off: the torn half record and the zeros after it.
        let size = try fileSize(atPath: segment)
        #expect(size > ends[2] + ends[0])
        #expect(Store.verify(at: dir.data).tornTailBytes == size - ends[2])
        let log = LogCapture()
        let store = try openStore(at: dir.data, configuration: configuration(), logger: log.logger)
        defer { store.close() }
        let truncations = log.messages.filter { $0.contains("truncated a torn tail") }
        #expect(
            truncations.count == 1 && truncations[0].contains("store.bytes_dropped=\(size - ends[2])"), "\(truncations)"
        )
        #expect(store.entries(withPrefix: "entry/").count == 3)
        #expect(try fileSize(atPath: segment) == ends[2])
    }

    @Test func aNextSegmentHoldingOnlyZerosDoesNotTurnATornTailIntoDamage() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let segment = try await writeJournal(dir.data, count: 4)
        let ends = recordEnds(ofSegment: segment)
        var data = [UInt8](FileManager.default.contents(atPath: segment)!)
        data[ends[2] + 11] ^= 0xff  // the last record is torn
        try Data(data).write(to: URL(fileURLWithPath: segment))
        // A crash right after the next segment was created and filled ahead with zeros.
        try Data(count: 1 << 16).write(to: URL(fileURLWithPath: dir.data + "/journal/00000002.log"))
        #expect(Store.verify(at: dir.data).isHealthy)
        let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        defer { store.close() }
        #expect(store.entries(withPrefix: "entry/").count == 3)
        #expect(try await store.commit(claimAndPut("delivery/after", entry: "after", value: "1")) == .committed)
    }

    @Test func withoutPreallocationTheSegmentEndsAtItsLastRecord() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try openStore(
            at: dir.data, configuration: configuration { $0.preallocationBytes = 0 }, logger: quietLogger)
        for i in 0..<3 { _ = try await store.commit(claimAndPut("delivery/\(i)", entry: "e/\(i)", value: "v")) }
        store.close()
        let segment = dir.data + "/journal/00000001.log"
        #expect(try fileSize(atPath: segment) == recordEnds(ofSegment: segment).last)
    }

    @Test func compactionKeepsLiveStateAndDropsExpiredKeys() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let config = configuration(clock: clock)
        var store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        for i in 0..<20 {
            var t = Transaction()
            t.claim("delivery/short/\(i)", response: bytes("s\(i)"), retention: .seconds(100))
            t.put(bytes("v\(i)"), forKey: "reservation/\(i)")
            _ = try await store.commit(t)
            var u = Transaction()
            u.claim("delivery/long/\(i)", response: bytes("l\(i)"))
            if i % 2 == 0 { u.delete(key: "reservation/\(i)") }
            _ = try await store.commit(u)
        }
        clock.advance(by: 101)
        try store.compact()
        var stats = store.stats()
        #expect(stats.compactions == 1)
        #expect(stats.idempotencyKeyCount == 20)
        #expect(stats.entryCount == 10)
        #expect(stats.journalBytes == 0)
        let segments = try FileManager.default.contentsOfDirectory(atPath: dir.data + "/journal")
        #expect(segments.count == 1, "old segments removed: \(segments)")
        _ = try await store.commit(claimAndPut("delivery/after", entry: "after", value: "1"))
        store.close()

        let report = Store.verify(at: dir.data, configuration: config)
        #expect(report.isHealthy)
        #expect(report.snapshot?.claimCount == 20)
        #expect(report.snapshot?.entryCount == 10)

        store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        defer { store.close() }
        for i in 0..<20 {
            #expect(store.idempotencyResponse(forKey: "delivery/short/\(i)") == nil)
            #expect(store.idempotencyResponse(forKey: "delivery/long/\(i)") == bytes("l\(i)"))
            #expect(store.value(forKey: "reservation/\(i)") == (i % 2 == 0 ? nil : bytes("v\(i)")))
        }
        #expect(store.value(forKey: "after") == bytes("1"))
        stats = store.stats()
        #expect(stats.idempotencyKeyCount == 21)
    }

    @Test func compactionRunsAutomaticallyPastTheThreshold() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = configuration {
            $0.compactionThresholdBytes = 4096
            $0.segmentSizeLimitBytes = 1024
        }
        var store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        // Compactions write their snapshot in the background; waiting for each one after every commit makes the
        // journal's size after the loop exact: at most the threshold plus one record.
        for i in 0..<200 {
            _ = try await store.commit(claimAndPut("delivery/\(i)", entry: "e/\(i)", value: "v\(i)"))
            try store.waitForBackgroundCompaction()
        }
        let stats = store.stats()
        #expect(stats.compactions >= 2)
        #expect(stats.journalBytes <= 4096 + 200)
        let segments = try FileManager.default.contentsOfDirectory(atPath: dir.data + "/journal")
        #expect(segments.count <= 4096 / 1024 + 2, "covered segments removed: \(segments)")
        store.close()
        store = try openStore(at: dir.data, configuration: config, logger: quietLogger)
        defer { store.close() }
        #expect(store.entries(withPrefix: "e/").count == 200)
        for i in 0..<200 { #expect(store.idempotencyResponse(forKey: "delivery/\(i)") == bytes("resp-delivery/\(i)")) }
    }

    @Test func verifyReportsAHealthyDirectory() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        _ = try await writeJournal(dir.data, count: 5)
        let report = Store.verify(at: dir.data)
        #expect(report.isHealthy)
        #expect(report.snapshot == nil)
        #expect(report.segments.map(\.records) == [5])
        #expect(report.entryCount == 5 && report.idempotencyKeyCount == 5)
        #expect(report.description.contains("OK"))
        #expect(!Store.verify(at: dir.path + "/missing").isHealthy)
    }

    @Test func verifyWorksOnAnOpenStoreWithoutTakingTheLock() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
        defer { store.close() }
        for i in 0..<3 { _ = try await store.commit(claimAndPut("delivery/\(i)", entry: "e/\(i)", value: "v")) }
        let report = Store.verify(at: dir.data)
        #expect(report.isHealthy)
        #expect(report.entryCount == 3)
        #expect(try await store.commit(claimAndPut("delivery/9", entry: "e/9", value: "v")) == .committed)
    }

    @Test func aDamagedSnapshotStopsTheOpen() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await writeCompactedStore(at: dir.data)
        let path = dir.data + "/snapshot"
        var data = [UInt8](FileManager.default.contents(atPath: path)!)
        data.removeLast(3)
        try Data(data).write(to: URL(fileURLWithPath: path))
        #expect { try Store.open(at: dir.data, configuration: configuration(), logger: quietLogger) } throws: {
            ($0 as? StoreError)?.code == .corruptSnapshot && ($0 as? StoreError)?.path == path
        }
    }
}

/// The size of a file.
func fileSize(atPath path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
}
