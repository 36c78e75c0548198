import Console
import Foundation
import Testing

@Suite struct EscapingTests {
    static let hostile = "<script>alert('x')</script> \"Mallory\" & co"

    @Test func escapeReplacesEveryMarkupCharacter() {
        #expect(
            HTML.escape(Self.hostile)
                == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;Mallory&quot; &amp; co")
        #expect(HTML.escape("Zoë Smith") == "Zoë Smith")
    }

    @Test func urlComponentEncodesEverythingButUnreserved() {
        #expect(HTML.urlComponent("a b/c?d&e\"<") == "a%20b%2Fc%3Fd%26e%22%3C")
        #expect(HTML.urlComponent("HM-12_3.x~") == "HM-12_3.x~")
    }

    static func row(guest: String, reservation: String = "r1") -> ArrivalRow {
        ArrivalRow(
            source: "native", reservationID: reservation, guestFirstName: guest, propertyName: "Loft <b>",
            timeZone: "Europe/Berlin", checkIn: Date(timeIntervalSince1970: 1_800_000_000),
            checkOut: Date(timeIntervalSince1970: 1_800_300_000), status: .ready, statusText: "Code on 1 of 1 lock",
            locks: [LockLine(lockName: "Front <i>Door</i>", deviceID: "d1", state: .set)])
    }

    @Test func arrivalsPageEscapesGuestPropertyAndLockNames() {
        let page = ConsolePages.arrivals(
            [Self.row(guest: Self.hostile, reservation: "<r\">")], range: .today, now: Date(), seamNote: nil,
            showsPreArrival: false, csrf: "t", problems: 0)
        #expect(!page.contains("<script>alert"))
        #expect(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(!page.contains("Loft <b>"))
        #expect(!page.contains("<i>Door"))
        #expect(!page.contains("<r\">"))
        #expect(page.contains("/console/reservations/native/%3Cr%22%3E"))
    }

    @Test func reservationDeliveriesAndProblemsEscapeTheirData() {
        let detail = ReservationDetail(
            arrival: Self.row(guest: "Ada"), guestName: Self.hostile, bookingStatus: "confirmed", hasPIN: true,
            deliveries: [
                DeliveryLine(
                    at: Date(), source: "native", verdict: "rejected", status: 400, reason: "<img src=x onerror=1>",
                    reservationIDs: ["<x>"])
            ],
            seamActions: [SeamActionLine(at: Date(), call: "/access_codes/create", succeeded: false, message: "<b>")])
        let reservation = ConsolePages.reservation(detail, csrf: "tok\"en", problems: 0)
        #expect(!reservation.contains("<script>alert"))
        #expect(!reservation.contains("<img src=x"))
        #expect(!reservation.contains("<b>"))
        #expect(reservation.contains("value=\"tok&quot;en\""))
        let deliveries = ConsolePages.deliveries(
            detail.deliveries, sources: ["<s>"], source: "<s>", verdict: nil, kept: 500, csrf: "t", problems: 0)
        #expect(!deliveries.contains("<img src=x"))
        #expect(!deliveries.contains("<s>"))
        let problems = ConsolePages.problems(
            ProblemsReport(
                deadLetters: [
                    DeadLetterLine(
                        id: "dl\"1", source: "native", reservationID: "r1", operation: "create", message: Self.hostile,
                        attempts: 8, failedAt: Date())
                ], failedLocks: [], uncertain: [("native/<r>", "<why>")], failedNotifications: nil,
                signatureFailures: [("<src>", 3)]), now: Date(), csrf: "t", showsPreArrival: false)
        #expect(!problems.contains("<script>alert"))
        #expect(!problems.contains("<why>"))
        #expect(!problems.contains("<src>"))
        #expect(problems.contains("/console/dead-letters/dl%221/retry"))
    }

    @Test func thePINIsOnlyInThePageOnceRevealed() {
        var detail = ReservationDetail(
            arrival: Self.row(guest: "Ada"), guestName: "Ada Lovelace", bookingStatus: "confirmed", hasPIN: true)
        let hidden = ConsolePages.reservation(detail, csrf: "t", problems: 0)
        #expect(!hidden.contains("4821"))
        #expect(hidden.contains("Reveal PIN"))
        detail.revealedPIN = "4821"
        let shown = ConsolePages.reservation(detail, csrf: "t", problems: 0)
        #expect(shown.contains(">4821<"))
    }

    @Test func everyStatusIsToldInWordsNotOnlyColour() {
        for state in LockState.allCases {
            let badge = ConsolePages.badge(state.label, tone: state.tone, icon: state.icon, cls: "lock")
            #expect(badge.contains(">\(state.label)</span>"))
            #expect(badge.contains("#i-\(state.icon.rawValue)"))
        }
    }
}
