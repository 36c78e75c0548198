import Bookings
import Configuration
import Foundation
import Gateway
import Testing

@testable import Replay

@Suite("Generated load and writing scenarios")
struct LoadGeneratorTests {
    @Test("N deliveries across M reservations, each starting with its creation, reproducible by seed")
    func shape() throws {
        let configuration = try ScenarioFiles.configuration()
        let scenario = try LoadGenerator(deliveries: 3_000, reservations: 250, seed: 4).generate(
            configuration: configuration)
        #expect(scenario.deliveries.count == 3_000)
        #expect(scenario.expectations.count == 250)
        #expect(Set(scenario.expectations.map(\.reservationID)).count == 250)
        let firstOf = scenario.deliveries.prefix(250).map { $0.body.bytes }
        #expect(firstOf.allSatisfy { String(decoding: $0, as: UTF8.self).contains("\"booking.created\"") })
        let states = Dictionary(grouping: scenario.expectations, by: \.group).mapValues(\.count)
        #expect(states[.present, default: 0] > 0 && states[.absent, default: 0] > 0, "\(states)")
        #expect(
            try LoadGenerator(deliveries: 3_000, reservations: 250, seed: 4).generate(configuration: configuration)
                == scenario)
        #expect(
            try LoadGenerator(deliveries: 3_000, reservations: 250, seed: 5).generate(configuration: configuration)
                != scenario)
    }

    @Test("the expected window of each reservation is its newest event's dates in the property's zone, with buffers")
    func expectedWindow() throws {
        let configuration = try ScenarioFiles.configuration()
        let scenario = try LoadGenerator(deliveries: 40, reservations: 2, seed: 9).generate(
            configuration: configuration)
        for (r, expectation) in scenario.expectations.enumerated() where expectation.group == .present {
            let newest = try #require(scenario.deliveries.last { $0.label?.hasPrefix("r\(r) ") == true })
            guard case .json(let body) = newest.body, let booking = body["booking"] else {
                Issue.record("no booking")
                continue
            }
            let property = try #require(
                configuration.properties.first { $0.listings["native"]?.first == booking["listing_id"]?.stringValue })
            #expect(expectation.deviceIDs == property.deviceIDs)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: property.timeZone)!
            let parts = try #require(booking["check_in"]?.stringValue).split(whereSeparator: { "-T:".contains($0) })
                .compactMap { Int($0) }
            let local = try #require(
                calendar.date(
                    from: DateComponents(
                        year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4])))
            #expect(expectation.startsAt == local.addingTimeInterval(-Double(property.bufferBeforeCheckInMinutes) * 60))
        }
    }

    @Test("a source that is missing or not native is refused", arguments: ["guesty", "nowhere"])
    func refusesOtherSources(source: String) throws {
        let configuration = try ScenarioFiles.configuration()
        #expect(throws: ReplayError.self) {
            try LoadGenerator(deliveries: 10, reservations: 2, source: source).generate(configuration: configuration)
        }
        #expect(throws: ReplayError.self) {
            try LoadGenerator(deliveries: 10, reservations: 20).generate(configuration: configuration)
        }
    }

    @Test("a written scenario reads back to the same scenario")
    func writeAndReadBack() throws {
        let configuration = try ScenarioFiles.configuration()
        var scenario = try LoadGenerator(deliveries: 30, reservations: 5).generate(configuration: configuration)
        scenario.deliveries[3].sign = .wrongSecret
        scenario.deliveries[4].delayMilliseconds = 20
        scenario.deliveries[4].expectedStatuses = [200, 202]
        scenario.deliveries.append(
            Delivery(
                label: "raw", body: .raw(Array(#"{"x": 1.50, "y": "2030-01-01"}"#.utf8)),
                headers: [("Signature", "00ff")]))
        var again = scenario.deliveries[0]
        again.duplicateOf = 0
        again.label = "again"
        scenario.deliveries.append(again)
        scenario.keepsOrderWhenShuffled = true
        scenario.knownIssue = "none really"
        let text = try ScenarioWriter.yaml(scenario)
        let parsed = try ScenarioParser.parse(yaml: text)
        #expect(parsed == scenario)
    }

    @Test("every committed scenario survives writing and reading back")
    func corpusRoundTrip() throws {
        for var scenario in try ScenarioDirectory.load(ScenarioFiles.directory) {
            scenario.file = nil
            #expect(try ScenarioParser.parse(yaml: try ScenarioWriter.yaml(scenario)) == scenario, "\(scenario.name)")
        }
    }
}
