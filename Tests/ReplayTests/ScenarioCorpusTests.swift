import Bookings
import Configuration
import Foundation
import Gateway
import Testing

@testable import Replay

@Suite("The committed scenarios")
struct ScenarioCorpusTests {
    static let kinds = [
        "new-booking", "duplicate-delivery", "early-check-in", "late-checkout", "shortened-stay", "cancellation",
        "reconfirmed-after-cancellation", "moved-listing", "out-of-order-update-before-create",
        "out-of-order-cancel-before-create", "out-of-order-stale-cancel-after-reconfirm", "dates-unspecified",
        "unknown-listing", "bad-signature", "stale-timestamp",
    ]

    @Test(
        "every supported PMS has every kind of scenario",
        arguments: ["native", "guesty", "hostaway", "hospitable", "lodgify"])
    func everyKindPerPMS(pms: String) throws {
        let names = Set(
            ScenarioDirectory.scenarioPaths(in: ScenarioFiles.directory)
                .filter { $0.contains("/\(pms)/") }
                .map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent })
        #expect(Set(Self.kinds).subtracting(names).isEmpty, "missing: \(Set(Self.kinds).subtracting(names).sorted())")
    }

    @Test("every scenario parses, posts to a configured source, expects something, and can be signed")
    func allScenariosAreUsable() async throws {
        let configuration = try ScenarioFiles.configuration()
        let scenarios = try ScenarioDirectory.load(ScenarioFiles.directory)
        #expect(scenarios.count >= 70)
        for scenario in scenarios {
            #expect(configuration.source(named: scenario.source) != nil, "\(scenario.name)")
            #expect(!scenario.expectations.isEmpty, "\(scenario.name) checks no state")
        }
        let keys = scenarios.flatMap(\.expectations).map(\.key)
        #expect(Set(keys).count == keys.count, "two scenarios share a reservation id")
        // Sending them all to an intake stand-in: every status is what the scenarios expect (401 for the
        // negative ones), so the signatures are right for every scheme.
        let latchkey = InMemoryLatchkey(configuration: configuration)
        let replayer = try Replayer(configuration: configuration, transport: latchkey, state: nil, environment: [:])
        let report = try await replayer.run(scenarios)
        let unexpected = report.statusMismatches.filter { !($0.expected.contains("404") && $0.received == "401") }
        #expect(unexpected.isEmpty, "\(report.render())")
        #expect(report.sent == scenarios.reduce(0) { $0 + $1.deliveries.count })
    }

    @Test("present expectations name the property's locks from the test configuration")
    func expectationsUseConfiguredLocks() throws {
        let configuration = try ScenarioFiles.configuration()
        let allDevices = Set(configuration.properties.flatMap(\.deviceIDs))
        for expectation in try ScenarioDirectory.load(ScenarioFiles.directory).flatMap(\.expectations)
        where expectation.group == .present {
            let devices = try #require(expectation.deviceIDs)
            #expect(Set(devices).isSubset(of: allDevices))
            #expect(expectation.startsAt != nil && expectation.endsAt != nil && expectation.samePinOnAllLocks)
            #expect(expectation.startsAt! > Date(), "check-in dates must lie in the future")
        }
    }

    @Test("the fake Seam seed holds every device the test configuration uses")
    func seedCoversDevices() throws {
        let configuration = try ScenarioFiles.configuration()
        let data = try Data(contentsOf: URL(fileURLWithPath: ScenarioFiles.directory + "/fake-seam-seed.json"))
        let seed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let devices = Set((seed["devices"] as? [[String: Any]] ?? []).compactMap { $0["device_id"] as? String })
        #expect(Set(configuration.properties.flatMap(\.deviceIDs)).isSubset(of: devices))
    }
}
