import Foundation
import Testing

@testable import Bookings

/// The hand-written writer must produce exactly what `JSONEncoder` produces for the same values: the journal
/// keeps bytes written either way, and `JSONDecoder` reads them back.
@Suite struct JSONWriterTests {
    static func encoder(sorted: Bool = true, escapingSlashes: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        var formatting: JSONEncoder.OutputFormatting = sorted ? [.sortedKeys] : []
        if !escapingSlashes { formatting.insert(.withoutEscapingSlashes) }
        encoder.outputFormatting = formatting
        return encoder
    }

    static let awkwardStrings: [String] = [
        "", "plain", "a\"b\\c/d", "tab\there", "line\nbreak\r\n", "\u{08}\u{0C}", "Müller ✓ 😀",
        String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }), "\u{7F}del", "res/with/slashes", "</script>",
    ]

    @Test(
        "strings are escaped as JSONEncoder escapes them, with and without escaped slashes", arguments: awkwardStrings)
    func stringsMatchJSONEncoder(text: String) throws {
        for escapesSlashes in [true, false] {
            var writer = JSONWriter(escapesSlashes: escapesSlashes)
            writer.beginArray()
            writer.string(text)
            writer.endArray()
            let expected = try Self.encoder(escapingSlashes: escapesSlashes).encode([text])
            #expect(writer.bytes == Array(expected), "escapesSlashes: \(escapesSlashes)")
        }
    }

    @Test("integers of every width and sign are written as JSONEncoder writes them")
    func integersMatchJSONEncoder() throws {
        let signed: [Int64] = [
            0, 1, -1, 9, 10, -10, 99, 100, 2027, -2027, 1_234_567_890_123, .max, .min, .max - 1, .min + 1,
        ]
        for value in signed {
            var writer = JSONWriter()
            writer.beginArray()
            writer.integer(value)
            writer.integer(Int(value))
            writer.endArray()
            #expect(writer.bytes == Array(try Self.encoder().encode([value, value])), "\(value)")
        }
        for value in [UInt64.max, UInt64.max / 10, 1 << 63] {
            var writer = JSONWriter()
            writer.beginArray()
            writer.integer(value)
            writer.endArray()
            #expect(writer.bytes == Array(try Self.encoder().encode([value])), "\(value)")
        }
        var small = JSONWriter()
        small.integer(Int8.min)
        #expect(small.bytes == Array("-128".utf8))
    }

    static let doubles: [Double] = [
        0, -0.0, 1, -1, 0.5, 1.0 / 3, 1e-7, 1e21, 1e22, 123456789.125, -27.15, 815_229_296.789,
        Date(timeIntervalSince1970: 1_790_000_000.5).timeIntervalSinceReferenceDate, .leastNonzeroMagnitude,
        .greatestFiniteMagnitude,
    ]

    @Test("doubles are written as JSONEncoder writes them", arguments: doubles)
    func doublesMatchJSONEncoder(value: Double) throws {
        var writer = JSONWriter()
        writer.beginArray()
        writer.double(value)
        writer.endArray()
        #expect(
            String(decoding: writer.bytes, as: UTF8.self)
                == String(decoding: try Self.encoder().encode([value]), as: UTF8.self))
    }

    @Test("objects, arrays, integers and strings are separated by commas where JSON needs them")
    func nestedStructure() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a")
        writer.beginArray()
        writer.integer(1)
        writer.integer(-2)
        writer.beginObject()
        writer.endObject()
        writer.beginArray()
        writer.endArray()
        writer.endArray()
        writer.key("b")
        writer.string("x")
        writer.key("c")
        writer.integerObject("d", 1, "e", 2, "f", 3)
        writer.endObject()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"a":[1,-2,{},[]],"b":"x","c":{"d":1,"e":2,"f":3}}"#)
    }

    static let events: [BookingEvent] = [
        BookingEvent(
            source: "native", reservationID: "res_1", listingID: "lst_1", status: .confirmed,
            checkIn: .local(
                date: LocalDate(year: 2027, month: 7, day: 14), time: LocalTime(hour: 15), timeZone: "Europe/Berlin"),
            checkOut: .local(
                date: LocalDate(year: 2027, month: 7, day: 19), time: LocalTime(hour: 11, minute: 30, second: 5),
                timeZone: nil),
            guestName: "Zoë \"Z\" O'Neil", guestPhone: "+49 30 1234/5",
            updatedAt: Date(timeIntervalSince1970: 1_790_000_000.123)),
        BookingEvent(
            source: "guesty", reservationID: "6412/ab", listingID: "L\n1", status: .cancelled,
            checkIn: .instant(Date(timeIntervalSince1970: 1_800_000_000)),
            checkOut: .instant(Date(timeIntervalSince1970: 1_800_400_000.25))),
        BookingEvent(
            source: "hostaway", reservationID: "r", listingID: "l", status: .pending, checkIn: nil, checkOut: nil),
        BookingEvent(
            source: "lodgify", reservationID: "r2", listingID: "l2", status: .confirmed,
            checkIn: .local(date: LocalDate(year: 2026, month: 3, day: 29), time: nil, timeZone: "America/New_York"),
            checkOut: .local(date: LocalDate(year: 2026, month: 4, day: 2), time: nil, timeZone: nil),
            guestName: "", updatedAt: Date(timeIntervalSinceReferenceDate: 0)),
    ]

    @Test(
        "a booking event is written byte for byte as JSONEncoder with sorted keys encodes it, and decodes back",
        arguments: events)
    func bookingEventMatchesJSONEncoder(event: BookingEvent) throws {
        var writer = JSONWriter()
        event.writeJSON(into: &writer)
        let expected = try Self.encoder().encode(event)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(try JSONDecoder().decode(BookingEvent.self, from: Data(writer.bytes)) == event)
    }
}
