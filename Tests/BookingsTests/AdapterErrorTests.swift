import Foundation
import Testing

@testable import Bookings

@Suite("Adapter errors name the field")
struct AdapterErrorTests {
    @Test func notJSONAndNotAnObject() throws {
        #expect(try adapterError("native", "not json")?.problem.contains("not valid JSON") == true)
        #expect(try adapterError("native", "[1,2]")?.problem.contains("an array") == true)
    }

    @Test func missingNestedFieldIsNamedByItsPath() throws {
        let error = try adapterError(
            "native", #"{"event":"booking.created","booking":{"listing_id":"l","status":"confirmed"}}"#)
        #expect(error == AdapterError(field: "booking.id", problem: "is missing"))
        #expect(error?.description == "booking.id: is missing")
    }

    @Test func checkOutWithoutCheckInNamesTheMissingOne() throws {
        let error = try adapterError(
            "native",
            #"{"event":"booking.created","booking":{"id":"r","listing_id":"l","status":"confirmed","check_out":"2025-07-19"}}"#
        )
        #expect(error?.field == "booking.check_in")
    }

    @Test(arguments: [
        "2025-07-14T25:00:00", "2025-02-30", "14.07.2025", "2025-07-14T15:00:00+25:00", "2025-07-14X15:00",
    ])
    func badDatesAreRejectedWithTheirValue(_ value: String) throws {
        let error = try adapterError(
            "native",
            #"{"event":"booking.created","booking":{"id":"r","listing_id":"l","status":"confirmed","check_in":"\#(value)","check_out":"2025-07-19"}}"#
        )
        #expect(error?.field == "booking.check_in")
        #expect(error?.problem.contains(value) == true)
    }

    @Test func wrongTypeIsNamed() throws {
        let error = try adapterError(
            "native", #"{"event":"booking.created","booking":{"id":{"x":1},"listing_id":"l","status":"confirmed"}}"#)
        #expect(error?.field == "booking.id")
        #expect(error?.problem.contains("an object") == true)
    }

    @Test func unknownStatusListsTheKnownOnes() throws {
        let error = try adapterError(
            "native", #"{"event":"booking.updated","booking":{"id":"r","listing_id":"l","status":"maybe"}}"#)
        #expect(error?.field == "booking.status")
        #expect(error?.problem.contains("\"maybe\"") == true)
        #expect(error?.problem.contains("confirmed") == true)
    }

    @Test func unknownTimeZoneIsRejected() throws {
        let error = try adapterError(
            "native",
            #"{"event":"booking.updated","booking":{"id":"r","listing_id":"l","status":"pending","time_zone":"Mars/Olympus"}}"#
        )
        #expect(error?.field == "booking.time_zone")
    }

    @Test func hostawayHourOutOfRangeAndMissingDate() throws {
        let badHour = try adapterError(
            "hostaway",
            #"{"event":"reservation.created","data":{"id":1,"listingMapId":2,"status":"new","arrivalDate":"2025-07-01","departureDate":"2025-07-03","checkInTime":25}}"#
        )
        #expect(badHour?.field == "data.checkInTime")
        let noDate = try adapterError(
            "hostaway",
            #"{"event":"reservation.created","data":{"id":1,"listingMapId":2,"status":"new","departureDate":"2025-07-03"}}"#
        )
        #expect(noDate?.field == "data.arrivalDate")
    }

    @Test func hospitableWithoutPropertiesExplainsTheScope() throws {
        let error = try adapterError(
            "hospitable",
            #"{"id":"x","action":"reservation.created","data":{"id":"r","reservation_status":{"current":{"category":"accepted"}}}}"#
        )
        #expect(error?.field == "data.properties")
        #expect(error?.problem.contains("property:read") == true)
    }

    @Test func hospitableUnknownCategoryIsNamedByPath() throws {
        let error = try adapterError(
            "hospitable",
            #"{"id":"x","action":"reservation.created","data":{"id":"r","properties":[{"id":"p"}],"reservation_status":{"current":{"category":"weird"}}}}"#
        )
        #expect(error?.field == "data.reservation_status.current.category")
    }

    @Test func guestyLeanV2WithoutListingIsNamed() throws {
        let error = try adapterError(
            "guesty", #"{"event":"reservation.updated.v2","data":{"reservation":{"_id":"r","status":"confirmed"}}}"#)
        #expect(error?.field == "data.reservation.listingId")
    }

    @Test func lodgifyBookingWithoutStatusOnAGenericAction() throws {
        let error = try adapterError("lodgify", #"{"action":"booking_change","booking":{"id":1,"property_id":2}}"#)
        #expect(error?.field == "booking.status")
    }

    @Test func missingEventNameIsNamed() throws {
        #expect(try adapterError("hostaway", #"{"data":{"id":1}}"#)?.field == "event")
        #expect(try adapterError("lodgify", #"{"booking":{"id":1}}"#)?.field == "action")
        #expect(try adapterError("hospitable", #"{"data":{"id":1}}"#)?.field == "action")
    }
}
