import Foundation
import Testing

@testable import Bookings

/// The bytes of fixture `Fixtures/<pms>/<name>.json`.
func fixture(_ pms: String, _ name: String) throws -> [UInt8] {
    let url = try #require(
        Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/\(pms)"),
        "fixture \(pms)/\(name).json is missing")
    return [UInt8](try Data(contentsOf: url))
}

/// Decodes a fixture with the named adapter.
func decodeFixture(_ pms: String, _ name: String, source: String = "src") throws -> AdapterOutcome {
    let adapter = try #require(PMSAdapters.adapter(named: pms))
    return try adapter.decode(try fixture(pms, name), source: source)
}

/// Decodes a fixture that must yield exactly one event.
func singleEvent(_ pms: String, _ name: String, source: String = "src") throws -> BookingEvent {
    let outcome = try decodeFixture(pms, name, source: source)
    try #require(outcome.events.count == 1, "expected one event, got \(outcome)")
    return outcome.events[0]
}

/// The error an adapter throws for `json`, or `nil` when it decodes.
func adapterError(_ pms: String, _ json: String) throws -> AdapterError? {
    let adapter = try #require(PMSAdapters.adapter(named: pms))
    do {
        _ = try adapter.decode(Array(json.utf8), source: "src")
        return nil
    } catch {
        return error
    }
}

/// A local stay time.
func local(_ date: String, _ time: String? = nil, zone: String? = nil) -> StayTime {
    .local(date: LocalDate(parsing: date)!, time: time.flatMap { LocalTime(parsing: $0) }, timeZone: zone)
}
