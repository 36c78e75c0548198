import Foundation
import LatchkeyTestSupport
import Testing

@testable import Bookings

@Suite("Local time to instant, DST included")
struct StayTimeTests {
    func resolve(_ date: String, _ time: String, _ zone: String) throws -> Date {
        try instant(ofLocal: LocalDate(parsing: date)!, time: LocalTime(parsing: time)!, timeZone: zone)
    }

    @Test func ordinaryLocalTimes() throws {
        #expect(try resolve("2025-07-14", "15:00", "Europe/Berlin") == utc("2025-07-14T13:00:00Z"))
        #expect(try resolve("2025-01-14", "15:00", "Europe/Berlin") == utc("2025-01-14T14:00:00Z"))
        #expect(try resolve("2025-07-14", "15:00", "America/New_York") == utc("2025-07-14T19:00:00Z"))
        #expect(try resolve("2024-02-29", "00:00", "UTC") == utc("2024-02-29T00:00:00Z"))
    }

    @Test func springForwardGapMovesToTheTransition() throws {
        #expect(try resolve("2025-03-30", "02:30", "Europe/Berlin") == utc("2025-03-30T01:00:00Z"))
        #expect(try resolve("2025-03-30", "02:00", "Europe/Berlin") == utc("2025-03-30T01:00:00Z"))
        #expect(try resolve("2025-03-30", "03:00", "Europe/Berlin") == utc("2025-03-30T01:00:00Z"))
        #expect(try resolve("2025-03-30", "01:59:59", "Europe/Berlin") == utc("2025-03-30T00:59:59Z"))
        #expect(try resolve("2025-03-09", "02:30", "America/New_York") == utc("2025-03-09T07:00:00Z"))
    }

    @Test func fallBackAmbiguityTakesTheEarlierInstant() throws {
        #expect(try resolve("2025-10-26", "02:30", "Europe/Berlin") == utc("2025-10-26T00:30:00Z"))
        #expect(try resolve("2025-10-26", "03:00", "Europe/Berlin") == utc("2025-10-26T02:00:00Z"))
        #expect(try resolve("2025-11-02", "01:30", "America/New_York") == utc("2025-11-02T05:30:00Z"))
    }

    @Test func dstFixturesResolveThroughTheProperty() throws {
        let berlin = try singleEvent("native", "dst-berlin-spring-forward")
        let property = Property(id: "p", name: "P", listings: [:], deviceIDs: [], timeZone: "UTC")
        let window = try #require(try StayWindow(event: berlin, property: property))
        #expect(window == StayWindow(startsAt: utc("2025-03-30T01:00:00Z"), endsAt: utc("2025-10-26T00:30:00Z")))

        let newYork = try singleEvent("native", "dst-new-york")
        let nyWindow = try #require(try StayWindow(event: newYork, property: property))
        #expect(nyWindow == StayWindow(startsAt: utc("2025-03-09T07:00:00Z"), endsAt: utc("2025-11-02T05:30:00Z")))
    }

    @Test func instantsPassThroughAndDatesTakeTheDefaultTime() throws {
        let fixed = utc("2025-07-14T13:00:00Z")
        #expect(
            try instant(of: .instant(fixed), defaultTime: LocalTime(hour: 9), propertyZone: "Nowhere/Zone") == fixed)
        #expect(
            try instant(of: local("2025-07-14"), defaultTime: LocalTime(hour: 16), propertyZone: "Europe/Berlin")
                == utc("2025-07-14T14:00:00Z"))
        #expect(
            try instant(
                of: local("2025-07-14", "10:00", zone: "America/New_York"), defaultTime: LocalTime(hour: 16),
                propertyZone: "Europe/Berlin") == utc("2025-07-14T14:00:00Z"))
    }

    @Test func unknownZonesAndImpossibleValuesAreTypedErrors() {
        #expect(throws: StayTimeError(.unknownTimeZone("Mars/Olympus"))) {
            try instant(of: local("2025-07-14"), defaultTime: LocalTime(hour: 15), propertyZone: "Mars/Olympus")
        }
        #expect(throws: StayTimeError(.invalidDate(LocalDate(year: 2025, month: 2, day: 29)))) {
            try instant(ofLocal: LocalDate(year: 2025, month: 2, day: 29), time: LocalTime(hour: 1), timeZone: "UTC")
        }
        #expect(throws: StayTimeError(.invalidTime(LocalTime(hour: 24)))) {
            try instant(ofLocal: LocalDate(year: 2025, month: 2, day: 28), time: LocalTime(hour: 24), timeZone: "UTC")
        }
    }

    @Test func windowAppliesBuffersAndDefaultTimes() throws {
        let property = Property(
            id: "p", name: "P", listings: [:], deviceIDs: [], timeZone: "Europe/Berlin",
            bufferBeforeCheckInMinutes: 30, bufferAfterCheckOutMinutes: 60)
        let event = BookingEvent(
            source: "s", reservationID: "r", listingID: "l", status: .confirmed,
            checkIn: local("2025-07-14"), checkOut: local("2025-07-19"))
        let window = try #require(try StayWindow(event: event, property: property))
        #expect(window.startsAt == utc("2025-07-14T12:30:00Z"))
        #expect(window.endsAt == utc("2025-07-19T10:00:00Z"))
        #expect(window.description == "2025-07-14T12:30:00Z…2025-07-19T10:00:00Z")
    }

    @Test func windowIsNilWithoutDatesAndAnErrorWhenBackwards() throws {
        let property = Property(id: "p", name: "P", listings: [:], deviceIDs: [], timeZone: "Europe/Berlin")
        var event = BookingEvent(
            source: "s", reservationID: "r", listingID: "l", status: .confirmed, checkIn: nil, checkOut: nil)
        #expect(try StayWindow(event: event, property: property) == nil)
        event.checkIn = local("2025-07-19")
        event.checkOut = local("2025-07-19")
        #expect(throws: StayTimeError.self) { try StayWindow(event: event, property: property) }
    }

    @Test func parsingDatesAndTimes() {
        #expect(LocalDate(parsing: "2024-02-29") == LocalDate(year: 2024, month: 2, day: 29))
        #expect(LocalDate(parsing: "2023-02-29") == nil)
        #expect(LocalDate(parsing: "2023-13-01") == nil)
        #expect(LocalDate(parsing: "2023-1-01") == nil)
        #expect(LocalTime(parsing: "15:00") == LocalTime(hour: 15))
        #expect(LocalTime(parsing: "23:59:59") == LocalTime(hour: 23, minute: 59, second: 59))
        #expect(LocalTime(parsing: "24:00") == nil)
        #expect(LocalTime(parsing: "7:00") == nil)
        #expect(WireTime(parsing: "2025-07-14T15:00:00.123+0530")?.instant == utc("2025-07-14T09:30:00Z"))
        #expect(WireTime(parsing: "2025-07-14 15:00")?.offsetSeconds == nil)
        #expect(WireTime(parsing: "2025-07-14T15:00:00-07")?.instant == utc("2025-07-14T22:00:00Z"))
        #expect(WireTime(parsing: "2025-07-14T15:00:00+") == nil)
        #expect(WireTime(parsing: "2025-07-14T15:00:00.") == nil)
    }
}
