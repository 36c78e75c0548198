import Bookings
import Foundation
import Testing

@testable import Reconciler

@Suite("Reservation state: ordering, naming, time, secrets")
struct ReservationStateTests {
    @Test func laterUpdatedAtWinsRegardlessOfReceiptOrder() {
        let early = EventVersion(updatedAt: Fixture.instant("2026-05-01T10:00:00Z"), receivedSequence: 9)
        let late = EventVersion(updatedAt: Fixture.instant("2026-05-01T11:00:00Z"), receivedSequence: 3)
        #expect(late.supersedes(early))
        #expect(!early.supersedes(late))
    }

    @Test func receiptOrderDecidesWithoutUpdatedAtOrOnTies() {
        let time = Fixture.instant("2026-05-01T10:00:00Z")
        #expect(
            EventVersion(updatedAt: time, receivedSequence: 5).supersedes(.init(updatedAt: time, receivedSequence: 4)))
        #expect(
            EventVersion(updatedAt: nil, receivedSequence: 5).supersedes(.init(updatedAt: time, receivedSequence: 4)))
        #expect(
            !EventVersion(updatedAt: nil, receivedSequence: 4).supersedes(.init(updatedAt: nil, receivedSequence: 4)))
    }

    @Test func foldIgnoresStaleAndDuplicateEventsAndANewEventUnblocks() {
        var record = ReservationRecord(key: Fixture.key(), blockedBy: "dl-1")
        let accepted = record.fold(Fixture.event(updatedAt: "2026-05-02T00:00:00Z"), receivedSequence: 1)
        #expect(accepted)
        #expect(record.blockedBy == nil)
        let stale = record.fold(Fixture.event(.cancelled, updatedAt: "2026-05-01T00:00:00Z"), receivedSequence: 2)
        let duplicate = record.fold(Fixture.event(updatedAt: "2026-05-02T00:00:00Z"), receivedSequence: 1)
        #expect(!stale && !duplicate)
        #expect(record.desired?.status == .confirmed)
    }

    @Test func markerIsReadableForShortSafeIDsAndHashedOtherwise() {
        #expect(CodeNaming.marker(for: Fixture.key("HM-123")) == "[lk:guesty:HM-123]")
        let odd = CodeNaming.marker(for: ReservationKey(source: "guesty", reservationID: "a b/c"))
        let long = CodeNaming.marker(
            for: ReservationKey(source: "guesty", reservationID: String(repeating: "9", count: 60)))
        #expect(odd.hasPrefix("[lk:#") && odd.count == 22)
        #expect(long.hasPrefix("[lk:#") && long != odd)
        #expect(odd == CodeNaming.marker(for: ReservationKey(source: "guesty", reservationID: "a b/c")))
    }

    @Test func codeNameFillsTheTemplateAndCutsItButNeverTheMarker() {
        let name = CodeNaming().name(for: Fixture.key("R1"), at: Fixture.loft, guestName: "Ada Lovelace")
        #expect(name == "Ada R1 [lk:guesty:R1]")
        var verbose = Fixture.loft
        verbose.codeNameTemplate = "{property} – {guest} – {source} {reservation}"
        let cut = CodeNaming(maxLength: 30).name(for: Fixture.key("R1"), at: verbose, guestName: nil)
        #expect(cut == "Seaside Loft – [lk:guesty:R1]")
        #expect(cut.count <= 30)
    }

    @Test func pinIsRedactedInEveryTextualForm() throws {
        let code = AppliedCode(
            deviceID: "front", accessCodeID: "ac-1", pin: AccessPIN("9731"), commonCodeKey: nil,
            window: Fixture.june10to14, name: "n", status: .set)
        var dumped = ""
        dump(code, to: &dumped)
        for text in [String(describing: code), String(reflecting: code), "\(code.pin!)", dumped] {
            #expect(!text.contains("9731"))
        }
        let json = String(decoding: try JSONEncoder().encode(code), as: UTF8.self)
        #expect(json.contains("\"9731\""))
    }

    @Test func backoffIsFullJitterUnderACappedCeilingAndHonoursRetryAfter() {
        let configuration = ReconcilerConfiguration(backoffBase: 1, backoffCap: 10)
        #expect(configuration.backoff(afterFailures: 1, retryAfter: nil, jitter: { $0 }) == 1)
        #expect(configuration.backoff(afterFailures: 3, retryAfter: nil, jitter: { $0 }) == 4)
        #expect(configuration.backoff(afterFailures: 9, retryAfter: nil, jitter: { $0 }) == 10)
        #expect(configuration.backoff(afterFailures: 3, retryAfter: nil, jitter: { $0 / 2 }) == 2)
        #expect(configuration.backoff(afterFailures: 1, retryAfter: 30, jitter: { _ in 0 }) == 30)
    }

    @Test func templatesAreFilledInOnePassKeepingUnknownPlaceholdersAndLoneBraces() {
        let values: [Substring: String] = ["guest": "Ada {property}", "property": "Loft"]
        let fill = { (template: String) in CodeNaming.fill(template) { values[$0] } }
        #expect(fill("{guest} at {property}") == "Ada {property} at Loft")
        #expect(fill("{unknown} {property}") == "{unknown} Loft")
        #expect(fill("{ {property") == "{ {property")
        #expect(fill("a } b {property}} c") == "a } b Loft} c")
        #expect(fill("") == "")
        #expect(fill("plain") == "plain")
    }
}
