import Foundation
import LatchkeyTestSupport
import Testing

@testable import Bookings

@Suite("Native adapter")
struct NativeAdapterTests {
    @Test func createdBookingWithLocalTimesAndUnknownFields() throws {
        let event = try singleEvent("native", "created", source: "direct-site")
        #expect(
            event
                == BookingEvent(
                    source: "direct-site", reservationID: "nat-1001", listingID: "loft-1", status: .confirmed,
                    checkIn: local("2025-07-14", "15:00"), checkOut: local("2025-07-19", "11:00"),
                    guestName: "Ada Lovelace", guestPhone: "+491701234567", updatedAt: utc("2025-07-01T09:00:00Z")))
    }

    @Test func offsetsBecomeInstantsAndBareDatesKeepTheBookingZone() throws {
        let event = try singleEvent("native", "dates-changed")
        #expect(event.checkIn == .instant(utc("2025-07-15T11:00:00Z")))
        #expect(event.checkOut == local("2025-07-20", nil, zone: "Europe/Berlin"))
        #expect(event.updatedAt == utc("2025-07-02T08:30:00Z"))
    }

    @Test func cancelledEventCancelsWhateverTheStatusSays() throws {
        #expect(try singleEvent("native", "cancelled").status == .cancelled)
    }

    @Test func integerIdsAreAccepted() throws {
        let event = try singleEvent("native", "dst-new-york")
        #expect(event.reservationID == "42")
        #expect(event.listingID == "7")
        #expect(event.status == .pending)
    }

    @Test func integerZeroAndOneAreIdsNotBooleans() throws {
        let json = #"{"event":"booking.updated","booking":{"id":1,"listing_id":0,"status":"pending"}}"#
        let event = try #require(try NativeAdapter().decode(Array(json.utf8), source: "n").events.first)
        #expect(event.reservationID == "1")
        #expect(event.listingID == "0")
    }

    @Test func booleanIdsAreRejected() throws {
        #expect(
            try adapterError(
                "native", #"{"event":"booking.updated","booking":{"id":true,"listing_id":"l","status":"pending"}}"#)?
                .field == "booking.id")
    }

    @Test func unknownEventsAreIgnored() throws {
        guard case .ignored(let reason, _) = try decodeFixture("native", "ping") else {
            Issue.record("a ping must be ignored")
            return
        }
        #expect(reason.contains("ping"))
    }
}

@Suite("Guesty adapter")
struct GuestyAdapterTests {
    @Test func newReservationUsesLocalizedDatePlannedArrivalAndListingDefaults() throws {
        let event = try singleEvent("guesty", "reservation-new")
        #expect(
            event
                == BookingEvent(
                    source: "src", reservationID: "59d11425af06e3100095e9fe", listingID: "59ac245d27cb310f0017afe3",
                    status: .confirmed,
                    checkIn: local("2026-08-14", "16:00", zone: "Europe/Amsterdam"),
                    checkOut: local("2026-08-17", "11:00", zone: "Europe/Amsterdam"),
                    guestName: "Jane Smith", guestPhone: "+15550100001", updatedAt: utc("2026-08-01T09:00:00Z")))
    }

    @Test func updatedDatesWithoutTimesLeaveThePropertyDefault() throws {
        let event = try singleEvent("guesty", "reservation-updated-dates")
        #expect(event.checkIn == local("2026-08-15"))
        #expect(event.checkOut == local("2026-08-19"))
        #expect(event.guestName == nil)
    }

    @Test func canceledStatusCancels() throws {
        #expect(try singleEvent("guesty", "reservation-updated-canceled").status == .cancelled)
    }

    @Test func v2EventWithReservationUnderDataFallsBackToInstants() throws {
        let event = try singleEvent("guesty", "reservation-updated-v2")
        #expect(event.reservationID == "66b0c0ffee0000000000abcd")
        #expect(event.status == .pending)
        #expect(event.checkIn == .instant(utc("2026-09-01T13:00:00Z")))
        #expect(event.updatedAt == utc("2026-08-04T08:59:59Z"))
        let lean =
            #"{"event":"reservation.updated.v2","publishedAt":"2026-08-04T09:00:00.000Z","data":{"reservation":{"_id":"r","listingId":"l","status":"confirmed"}}}"#
        let leanEvent = try #require(try GuestyAdapter().decode(Array(lean.utf8), source: "g").events.first)
        #expect(leanEvent.updatedAt == utc("2026-08-04T09:00:00Z"))
    }

    @Test func listingEventsAreIgnored() throws {
        #expect(try decodeFixture("guesty", "listing-updated").events.isEmpty)
        guard case .ignored = try decodeFixture("guesty", "listing-updated") else {
            Issue.record("must be ignored")
            return
        }
    }

    @Test(arguments: [
        ("confirmed", BookingEvent.Status.confirmed), ("checked_in", .confirmed), ("inquiry", .pending),
        ("reserved", .pending), ("declined", .cancelled), ("expired", .cancelled), ("closed", .cancelled),
    ])
    func statusTable(_ raw: String, _ expected: BookingEvent.Status) throws {
        let json = #"{"event":"reservation.updated","reservation":{"_id":"r","listingId":"l","status":"\#(raw)"}}"#
        let event = try #require(
            try PMSAdapters.adapter(named: "guesty")?.decode(Array(json.utf8), source: "g").events.first)
        #expect(event.status == expected)
        #expect(event.checkIn == nil)
    }
}

@Suite("Hostaway adapter")
struct HostawayAdapterTests {
    @Test func createdReservationUsesDatesAndHours() throws {
        let event = try singleEvent("hostaway", "reservation-created")
        #expect(
            event
                == BookingEvent(
                    source: "src", reservationID: "15678", listingID: "40160", status: .confirmed,
                    checkIn: .local(
                        date: LocalDate(year: 2025, month: 7, day: 14), time: LocalTime(hour: 16), timeZone: nil),
                    checkOut: .local(
                        date: LocalDate(year: 2025, month: 7, day: 19), time: LocalTime(hour: 10), timeZone: nil),
                    guestName: "Max Mustermann", guestPhone: "+4915112345678", updatedAt: utc("2025-06-10T10:41:12Z")))
    }

    @Test func nullHoursLeaveThePropertyDefault() throws {
        let event = try singleEvent("hostaway", "reservation-updated-dates")
        #expect(event.status == .confirmed)
        #expect(event.checkIn == local("2025-07-15"))
        #expect(event.checkOut == local("2025-07-20"))
    }

    @Test func cancelledStatusCancels() throws {
        #expect(try singleEvent("hostaway", "reservation-updated-cancelled").status == .cancelled)
    }

    @Test func unspecifiedDatesBecomeNoDates() throws {
        let event = try singleEvent("hostaway", "dates-unspecified")
        #expect(event.checkIn == nil)
        #expect(event.checkOut == nil)
        #expect(event.status == .pending)
    }

    @Test(arguments: ["1", "\"1\"", "true", "\"true\""])
    func datesUnspecifiedFlagAcceptsNumbersBooleansAndStrings(_ flag: String) throws {
        let json =
            #"{"event":"reservation.created","data":{"id":1,"listingMapId":2,"status":"new","arrivalDate":"2025-07-01","departureDate":"2025-07-01","isDatesUnspecified":\#(flag)}}"#
        let event = try #require(try HostawayAdapter().decode(Array(json.utf8), source: "h").events.first)
        #expect(event.checkIn == nil)
    }

    @Test func testPingsAndMessagesAreIgnored() throws {
        guard case .ignored(let reason, _) = try decodeFixture("hostaway", "test-ping") else {
            Issue.record("ping")
            return
        }
        #expect(reason.contains("test"))
        guard case .ignored = try decodeFixture("hostaway", "message-received") else {
            Issue.record("message")
            return
        }
    }

    @Test(arguments: [
        ("new", BookingEvent.Status.confirmed), ("ownerStay", .confirmed), ("awaitingPayment", .pending),
        ("inquiryPreapproved", .pending), ("declined", .cancelled), ("inquiryDenied", .cancelled),
        ("expired", .cancelled),
    ])
    func statusTable(_ raw: String, _ expected: BookingEvent.Status) throws {
        let json =
            #"{"event":"reservation.updated","data":{"id":1,"listingMapId":2,"status":"\#(raw)","arrivalDate":"2025-07-01","departureDate":"2025-07-02"}}"#
        let event = try #require(
            try PMSAdapters.adapter(named: "hostaway")?.decode(Array(json.utf8), source: "h").events.first)
        #expect(event.status == expected)
    }
}

@Suite("Hospitable adapter")
struct HospitableAdapterTests {
    @Test func createdReservationUsesOffsetInstantsAndEnvelopeId() throws {
        let outcome = try decodeFixture("hospitable", "reservation-created")
        #expect(outcome.deliveryID == "01GTKD6ZYFVQMR0RWP4HBBHNZC")
        #expect(
            outcome.events == [
                BookingEvent(
                    source: "src", reservationID: "6f58fd0a-a9cb-3746-9219-384a156ff7bb",
                    listingID: "550e8400-e29b-41d4-a716-446655440000", status: .confirmed,
                    checkIn: .instant(utc("2026-08-14T23:00:00Z")), checkOut: .instant(utc("2026-08-17T18:00:00Z")),
                    guestName: "Ada Guest", guestPhone: "+15550100000", updatedAt: utc("2026-08-01T09:00:00Z"))
            ])
    }

    @Test func changedDatesWithoutCheckInTimesUseTheArrivalDates() throws {
        let event = try singleEvent("hospitable", "reservation-changed-dates")
        #expect(event.checkIn == local("2026-08-15"))
        #expect(event.checkOut == local("2026-08-18"))
        #expect(event.guestName == "Ada")
        #expect(event.guestPhone == nil)
    }

    @Test func cancelledCategoryCancels() throws {
        #expect(try singleEvent("hospitable", "reservation-changed-cancelled").status == .cancelled)
    }

    @Test func arrayDataYieldsOneEventPerReservationAndNamesTheBadOne() throws {
        let one = #"{"id":"r1","properties":[{"id":"p"}],"reservation_status":{"current":{"category":"accepted"}}}"#
        let two = #"{"id":"r2","properties":[{"id":"p"}],"reservation_status":{"current":{"category":"request"}}}"#
        let json =
            #"{"id":"e","action":"reservation.changed","created":"2026-08-01T09:00:00Z","data":[\#(one),\#(two)]}"#
        let outcome = try HospitableAdapter().decode(Array(json.utf8), source: "h")
        #expect(outcome.events.map(\.reservationID) == ["r1", "r2"])
        #expect(outcome.events.map(\.status) == [.confirmed, .pending])
        let bad = #"{"id":"e","action":"reservation.changed","data":[\#(one),{"id":"r3"}]}"#
        #expect(try adapterError("hospitable", bad)?.field == "data[1].properties")
    }

    @Test func propertyEventsAreIgnoredButKeepTheirId() throws {
        let outcome = try decodeFixture("hospitable", "property-changed")
        guard case .ignored = outcome else {
            Issue.record("must be ignored")
            return
        }
        #expect(outcome.deliveryID == "01GTKD9Z9Z9Z9Z9Z9Z9Z9Z9Z9Z")
    }
}

@Suite("Lodgify adapter")
struct LodgifyAdapterTests {
    @Test func bookedBookingReadsMidnightsAsDatesAndTopLevelGuest() throws {
        let event = try singleEvent("lodgify", "booking-new-booked")
        #expect(
            event
                == BookingEvent(
                    source: "src", reservationID: "123456", listingID: "10000", status: .confirmed,
                    checkIn: local("2026-08-14"), checkOut: local("2026-08-17"),
                    guestName: "Ada Guest", guestPhone: "+15550100000", updatedAt: nil))
    }

    @Test func bookingChangeMovesDates() throws {
        let event = try singleEvent("lodgify", "booking-change-dates")
        #expect(event.checkIn == local("2026-08-15"))
        #expect(event.checkOut == local("2026-08-19"))
    }

    @Test func declinedActionImpliesCancelledWithoutAStatus() throws {
        #expect(try singleEvent("lodgify", "booking-declined").status == .cancelled)
    }

    @Test func rateChangesAreIgnored() throws {
        guard case .ignored = try decodeFixture("lodgify", "rate-change") else {
            Issue.record("must be ignored")
            return
        }
    }
}

@Suite("Adapter registry")
struct AdapterRegistryTests {
    @Test func everyBuiltInAdapterIsFoundByName() {
        #expect(PMSAdapters.names == ["native", "guesty", "hostaway", "hospitable", "lodgify"])
        for name in PMSAdapters.names { #expect(PMSAdapters.adapter(named: name)?.name == name) }
        #expect(PMSAdapters.adapter(named: "Hostaway")?.name == "hostaway")
        #expect(PMSAdapters.adapter(named: "smoobu") == nil)
    }
}
