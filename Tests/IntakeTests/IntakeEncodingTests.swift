import Bookings
import Foundation
import HTTPServer
import Testing

@testable import Intake

/// The intake writes its journal records and its 202 body by hand (``JSONWriter``) for speed; they must stay
/// what `JSONEncoder` wrote before, so journals written by either read back the same.
@Suite struct IntakeEncodingTests {
    static let event = BookingEvent(
        source: "native", reservationID: "res/1", listingID: "lst_000048213", status: .confirmed,
        checkIn: .local(
            date: LocalDate(year: 2027, month: 7, day: 14), time: LocalTime(hour: 15), timeZone: "Europe/Berlin"),
        checkOut: .instant(Date(timeIntervalSince1970: 1_815_000_000.5)), guestName: "Ana \"Ani\" Müller",
        guestPhone: "+1 555 0100", updatedAt: Date(timeIntervalSince1970: 1_790_000_000.25))

    @Test("a stored booking is written byte for byte as JSONEncoder with sorted keys wrote it, and decodes back")
    func storedBookingMatchesJSONEncoder() throws {
        let stored = StoredBooking(event: Self.event, sequence: 18_446_744_073_709_551_615)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(
            String(decoding: stored.encoded(), as: UTF8.self)
                == String(decoding: try encoder.encode(stored), as: UTF8.self))
        let decoded = try #require(StoredBooking.decode(stored.encoded()))
        #expect(decoded.event == Self.event)
        #expect(decoded.sequence == stored.sequence)
    }

    @Test("the 202 body is what HTTPResponse.json makes of it, with and without a delivery id")
    func acceptedBodyMatchesHTTPResponseJSON() {
        for body in [
            AcceptedBody(status: "accepted", deliveryID: "msg_2/x", reservationIDs: ["res/1", "res_2"]),
            AcceptedBody(status: "accepted", deliveryID: nil, reservationIDs: ["only"]),
        ] {
            #expect(
                String(decoding: body.encoded(), as: UTF8.self)
                    == String(decoding: HTTPResponse.json(status: 202, body).body, as: UTF8.self))
        }
    }

    @Test("a remembered answer reads back with its fingerprint and the exact first body")
    func rememberedAnswerRoundTrips() throws {
        let body = String(
            decoding: AcceptedBody(status: "accepted", deliveryID: "msg_1", reservationIDs: ["r\"1"]).encoded(),
            as: UTF8.self)
        let answer = RememberedAnswer(fingerprint: "00ff", body: body)
        let decoded = try #require(RememberedAnswer.decode(answer.encoded()))
        #expect(decoded.fingerprint == "00ff")
        #expect(decoded.body == body)
    }
}

/// Which Content-Types the intake takes for JSON.
@Suite struct ContentTypeTests {
    @Test(
        "any Content-Type containing json in any case is JSON; others are not",
        arguments: [
            ("application/json", true), ("Application/JSON; charset=utf-8", true), ("application/vnd.api+json", true),
            ("text/plain", false), ("application/x-www-form-urlencoded", false), ("", false), ("jso", false),
            ("JSoN", true),
        ])
    func jsonContentTypes(contentType: String, isJSON: Bool) {
        #expect(WebhookIntake.namesJSON(contentType) == isJSON)
    }
}
