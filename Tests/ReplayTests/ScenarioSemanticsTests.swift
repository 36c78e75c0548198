import Bookings
import Configuration
import Foundation
import Gateway
import Testing

@testable import Replay

/// Checks the committed scenarios against the Bookings adapters: every validly signed body decodes, and the
/// expected end state is what the newest event means for the configured property (its locks, zone, default
/// times and buffers). A scenario and the adapters that disagree fail here, before any server is involved.
@Suite("The scenarios agree with the Bookings adapters")
struct ScenarioSemanticsTests {
    /// The event that decides a reservation: the newest by the PMS's `updatedAt` when both have one, else the
    /// one received later.
    static func newest(_ events: [BookingEvent]) -> BookingEvent? {
        events.reduce(nil) { current, next in
            guard let current else { return next }
            if let a = current.updatedAt, let b = next.updatedAt { return b >= a ? next : current }
            return next
        }
    }

    @Test("every validly signed body decodes, and each expectation follows from the newest event")
    func expectationsFollowFromAdapters() throws {
        let configuration = try ScenarioFiles.configuration()
        let catalogue = PropertyCatalogue(configuration.properties)
        var checked = 0
        for scenario in try ScenarioDirectory.load(ScenarioFiles.directory) {
            let adapterName = try #require(configuration.source(named: scenario.source)?.adapter)
            let adapter = try #require(PMSAdapters.adapter(named: adapterName))
            var events: [BookingEvent] = []
            for delivery in scenario.deliveries where delivery.sign == .valid && delivery.duplicateOf == nil {
                do {
                    events += try adapter.decode(delivery.body.bytes, source: scenario.source).events
                } catch {
                    Issue.record("\(scenario.name) › \(delivery.label ?? "?"): \(error)")
                }
            }
            for expectation in scenario.expectations {
                let newest = Self.newest(events.filter { $0.reservationID == expectation.reservationID })
                let property = newest.flatMap { catalogue.property(source: scenario.source, listingID: $0.listingID) }
                let window = try newest.flatMap { event in
                    try property.flatMap { try StayWindow(event: event, property: $0) }
                }
                let present = newest?.status == .confirmed && window != nil
                if scenario.knownIssue != nil {
                    // The adapters alone cannot order these: the scenario documents what a correct server must do.
                    #expect(
                        present != (expectation.group == .present) || window?.endsAt != expectation.endsAt,
                        "\(scenario.name): known issue no longer holds")
                    continue
                }
                #expect(present == (expectation.group == .present), "\(scenario.name): \(String(describing: newest))")
                if present {
                    #expect(expectation.deviceIDs == property?.deviceIDs, "\(scenario.name)")
                    #expect(expectation.startsAt == window?.startsAt, "\(scenario.name): starts_at")
                    #expect(expectation.endsAt == window?.endsAt, "\(scenario.name): ends_at")
                }
                checked += 1
            }
        }
        #expect(checked >= 68)
    }

    @Test("negatively signed deliveries would otherwise be valid bookings, so only the signature refuses them")
    func negativeDeliveriesAreRealBookings() throws {
        let configuration = try ScenarioFiles.configuration()
        for scenario in try ScenarioDirectory.load(ScenarioFiles.directory) {
            let adapter = try #require(
                PMSAdapters.adapter(named: configuration.source(named: scenario.source)?.adapter ?? ""))
            for delivery in scenario.deliveries where delivery.sign.isNegative {
                let events = try adapter.decode(delivery.body.bytes, source: scenario.source).events
                #expect(events.contains { $0.status == .confirmed }, "\(scenario.name) › \(delivery.label ?? "?")")
            }
        }
    }

    @Test("generated load decodes with the native adapter and its expectations follow from the newest events")
    func generatedLoadAgrees() throws {
        let configuration = try ScenarioFiles.configuration()
        let catalogue = PropertyCatalogue(configuration.properties)
        let scenario = try LoadGenerator(deliveries: 600, reservations: 60, seed: 3).generate(
            configuration: configuration)
        let events = try scenario.deliveries.flatMap {
            try NativeAdapter().decode($0.body.bytes, source: "native").events
        }
        for expectation in scenario.expectations {
            let newest = try #require(Self.newest(events.filter { $0.reservationID == expectation.reservationID }))
            #expect((newest.status == .confirmed) == (expectation.group == .present))
            if newest.status == .confirmed {
                let property = try #require(catalogue.property(source: "native", listingID: newest.listingID))
                let window = try #require(try StayWindow(event: newest, property: property))
                #expect(expectation.startsAt == window.startsAt && expectation.endsAt == window.endsAt)
            }
        }
    }
}
