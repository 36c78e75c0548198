import Foundation
import Intake
import Testing

@Suite struct RecentDeliveriesTests {
    static func entry(_ index: Int, at: Date = Date(timeIntervalSince1970: 1_800_000_000)) -> RecentDeliveries.Entry {
        RecentDeliveries.Entry(
            at: at.addingTimeInterval(Double(index)), source: "native", verdict: "accepted", status: 202, reason: nil,
            reservationIDs: ["r\(index)"])
    }

    @Test func keepsTheLastNMostRecentFirst() {
        let recent = RecentDeliveries(capacity: 3)
        #expect(recent.entries().isEmpty)
        recent.record(Self.entry(1))
        recent.record(Self.entry(2))
        #expect(recent.entries().map(\.reservationIDs) == [["r2"], ["r1"]])
        for index in 3...7 { recent.record(Self.entry(index)) }
        #expect(recent.entries().map(\.reservationIDs) == [["r7"], ["r6"], ["r5"]])
    }

    @Test func countsSignatureFailuresPerSourceOverTheLast24Hours() {
        let recent = RecentDeliveries()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var failed = Self.entry(0, at: start)
        failed.verdict = "rejected"
        recent.record(failed, signatureFailed: true)
        recent.record(failed, signatureFailed: true)
        failed.source = "guesty"
        recent.record(failed, signatureFailed: true)
        recent.record(Self.entry(1, at: start))
        #expect(recent.signatureFailures(now: start) == ["native": 2, "guesty": 1])
        #expect(recent.signatureFailures(now: start.addingTimeInterval(23 * 3_600)) == ["native": 2, "guesty": 1])
        #expect(recent.signatureFailures(now: start.addingTimeInterval(25 * 3_600)).isEmpty)
    }
}
