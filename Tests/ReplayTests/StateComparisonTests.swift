import Foundation
import Reconciler
import Testing

@testable import Replay

@Suite("Expected against actual Seam state")
struct StateComparisonTests {
    static let start = RFC3339.parse("2030-07-14T13:00:00Z")!
    static let end = RFC3339.parse("2030-07-17T09:00:00Z")!
    static let expected = ReservationExpectation(
        source: "guesty", reservationID: "R1", group: .present, deviceIDs: ["front", "back"],
        startsAt: start, endsAt: end, samePinOnAllLocks: true
    )

    static func code(
        _ device: String, pin: String = "4821", key: String? = "ck1", starts: Date = start, ends: Date = end,
        reservation: String = "R1", status: String = "unset"
    ) -> ObservedAccessCode {
        ObservedAccessCode(
            id: "ac_\(device)_\(reservation)", deviceID: device, name: "Ada R1 [lk:guesty:\(reservation)]", code: pin,
            commonCodeKey: key, startsAt: starts, endsAt: ends, status: status
        )
    }

    @Test("a group on the expected locks with the expected window and one PIN matches")
    func matching() {
        let verdicts = StateComparison.compare(
            [Self.expected], with: [Self.code("front"), Self.code("back"), Self.code("front", reservation: "R2")])
        #expect(verdicts.count == 1)
        #expect(verdicts[0].matches, "\(verdicts[0].differences)")
        #expect(verdicts[0].observed.count == 2)
    }

    @Test("every kind of difference is named, and no PIN is shown")
    func differing() {
        let codes = [
            Self.code("front", pin: "4821"),
            Self.code("garage", pin: "9034", key: "ck2", starts: Self.start.addingTimeInterval(3_600)),
        ]
        let verdict = StateComparison.compare([Self.expected], with: codes)[0]
        #expect(!verdict.matches)
        let text = verdict.differences.joined(separator: "\n")
        #expect(
            text.contains("devices: expected [back, front], found [front, garage] (missing on back; also on garage)"))
        #expect(text.contains("starts_at: expected 2030-07-14T13:00:00Z, found 2030-07-14T14:00:00Z"))
        #expect(text.contains("found 2 different PINs across 2 locks"))
        #expect(text.contains("common_code_key"))
        #expect(!text.contains("4821") && !text.contains("9034"))
        #expect(!text.contains("ends_at"))
    }

    @Test("an absent expectation fails while any live code of the reservation remains")
    func absent() {
        let gone = ReservationExpectation(source: "guesty", reservationID: "R1", group: .absent)
        #expect(!StateComparison.compare([gone], with: [Self.code("front")])[0].matches)
        #expect(StateComparison.compare([gone], with: [Self.code("front", status: "removing")])[0].matches)
        #expect(StateComparison.compare([gone], with: [])[0].matches)
    }

    @Test("a present expectation with no code says so")
    func missingGroup() {
        let verdict = StateComparison.compare([Self.expected], with: [Self.code("front", status: "removing")])[0]
        #expect(verdict.differences == ["expected a group, found no code"])
    }

    @Test("two codes on one lock for one reservation are a difference")
    func doubleCode() {
        var second = Self.code("front")
        second.id = "ac_other"
        let verdict = StateComparison.compare([Self.expected], with: [Self.code("front"), second, Self.code("back")])[0]
        #expect(verdict.differences.contains { $0.contains("more than one code on front") })
    }

    @Test("readable markers match by source and id, long ids by their hash, like the reconciler's names")
    func markers() {
        #expect(ReservationMarker.marker(source: "guesty", reservationID: "HM12345") == "[lk:guesty:HM12345]")
        let long = ReservationMarker.marker(source: "hospitable", reservationID: "6f58fd0a-a9cb-3746-9219-384a156ff7bb")
        #expect(long.hasPrefix("[lk:#") && long.count == 22)
        #expect(
            ReservationMarker.marker(source: "x", reservationID: "a b")
                != ReservationMarker.marker(source: "x", reservationID: "a c"))
        #expect(
            ReservationMarker.reservation(inName: "Ada HM1 [lk:guesty:HM1]")
                == ReservationKey(source: "guesty", reservationID: "HM1"))
        #expect(ReservationMarker.reservation(inName: "Ada \(long)") == nil)
        let hashed = ReservationExpectation(
            source: "hospitable", reservationID: "6f58fd0a-a9cb-3746-9219-384a156ff7bb", group: .present)
        let code = ObservedAccessCode(id: "1", deviceID: "front", name: "Ada \(long)", code: "1234")
        #expect(StateComparison.compare([hashed], with: [code])[0].matches)
    }
}

@Suite("The report")
struct ReplayReportTests {
    @Test("a passing report shows the counts and one line per reservation")
    func passing() {
        var report = ReplayReport()
        report.count(.accepted, isDuplicate: false)
        report.count(.duplicate, isDuplicate: true)
        report.count(.rejected(401), isDuplicate: false)
        report.count(.transportError("refused"), isDuplicate: false)
        report.stateChecked = true
        report.convergenceSeconds = 1.25
        report.verdicts = StateComparison.compare(
            [StateComparisonTests.expected],
            with: [StateComparisonTests.code("front"), StateComparisonTests.code("back")])
        #expect(report.passed)
        let text = report.render()
        #expect(text.hasPrefix("Replay: PASS"))
        #expect(
            text.contains(
                "sent 4 (1 injected duplicates), accepted 1, duplicates 1, ignored 0, rejected 1 (401: 1), transport errors 1"
            ))
        #expect(text.contains("Seam state: 1/1 reservations as expected, converged after 1.25 s"))
        #expect(text.contains("✓ guesty/R1: expected present, group on 2 lock(s)"))
    }

    @Test("a failing report lists unexpected statuses and the differences, failures first")
    func failing() {
        var report = ReplayReport()
        report.stateChecked = true
        report.statusMismatches = [
            StatusMismatch(
                scenario: "guesty: bad signature", delivery: "not signed", isDuplicate: false, expected: "401",
                received: "202")
        ]
        let good = ReservationExpectation(source: "guesty", reservationID: "A", group: .absent)
        report.verdicts = StateComparison.compare(
            [good, StateComparisonTests.expected], with: [StateComparisonTests.code("front")])
        #expect(!report.passed)
        let text = report.render()
        #expect(text.hasPrefix("Replay: FAIL"))
        #expect(text.contains("✗ guesty: bad signature › not signed: expected 401, got 202"))
        #expect(text.contains("did not converge"))
        let failure = text.range(of: "✗ guesty/R1")?.lowerBound
        let success = text.range(of: "✓ guesty/A")?.lowerBound
        #expect(failure != nil && success != nil && failure! < success!)
        #expect(text.contains("      - devices: expected [back, front], found [front]"))
    }

    @Test("a known issue is reported without failing the run")
    func knownIssue() {
        var report = ReplayReport()
        report.stateChecked = true
        var expectation = StateComparisonTests.expected
        expectation.knownIssue = "no version in the body"
        report.verdicts = StateComparison.compare([expectation], with: [])
        #expect(report.passed)
        #expect(
            report.render().contains("~ guesty/R1") && report.render().contains("known issue: no version in the body"))
    }

    @Test("the progress bar redraws in place on a terminal; plain lines come about every 5 %")
    func progressText() {
        let report = ReplayReport()
        let bar = StandardErrorProgress.text(done: 50, total: 100, report: report, isTerminal: true)
        #expect(bar?.hasPrefix("\r[###############---------------] 50/100") == true)
        let plain = (1...100).compactMap {
            StandardErrorProgress.text(done: $0, total: 100, report: report, isTerminal: false)
        }
        #expect(plain.count == 20)
        #expect(plain.last == "replay: 100/100 sent; accepted 0, duplicates 0, rejected 0, errors 0\n")
    }
}
