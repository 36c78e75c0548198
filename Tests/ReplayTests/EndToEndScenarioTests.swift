import Configuration
import FakeSeam
import Foundation
import Gateway
import LatchkeyTestSupport
import Logging
import Testing

@testable import Replay

/// Every committed scenario against a real Latchkey (HTTP listener, intake, journal, reconciler) and the fake
/// Seam it runs with, in one process: the harness's end-to-end run.
@Suite("All scenarios against Latchkey and the fake Seam", .serialized)
struct EndToEndScenarioTests {

    static func run(options: ReplayOptions) async throws -> (ReplayReport, [Scenario]) {
        let temporary = TemporaryDirectory(prefix: "lk-replay")
        defer { temporary.remove() }
        let directory = temporary.appending("data")
        var configuration = try ScenarioFiles.configuration()
        configuration.server.port = 0
        configuration.dataDirectory = directory
        let fake = try FakeSeamConfiguration.fromOptions(seedFile: ScenarioFiles.directory + "/fake-seam-seed.json")
        // No API key in the (empty) environment: Latchkey starts its built-in fake Seam with the seed above.
        let gateway = try await LatchkeyGateway(
            configuration: configuration, environment: [:], fakeSeamConfiguration: fake,
            logger: Logger(label: "replay-e2e"))
        do {
            let fakeURL = try #require(gateway.fakeSeam?.url)
            let report = try await runScenarioDirectory(
                ScenarioFiles.directory, configuration: configuration,
                latchkeyURL: URL(string: "http://127.0.0.1:\(gateway.port)")!,
                fakeSeamURL: fakeURL, options: options, environment: [:]
            )
            await gateway.stop()
            return (report, try ScenarioDirectory.load(ScenarioFiles.directory))
        } catch {
            await gateway.stop()
            throw error
        }
    }

    static func check(_ report: ReplayReport, scenarios: [Scenario]) {
        #expect(report.statusMismatches.isEmpty, "\(report.render())")
        #expect(report.transportErrors == 0)
        let failing = report.verdicts.filter { !$0.isAcceptable }
        #expect(failing.isEmpty, "\(report.render())")
    }

    @Test("in written order, every status and every final state is as the scenarios say")
    func inOrder() async throws {
        let (report, scenarios) = try await Self.run(
            options: ReplayOptions(convergenceTimeoutSeconds: 6, pollIntervalSeconds: 0.1))
        #expect(report.stateChecked && report.verdicts.count == scenarios.flatMap(\.expectations).count)
        Self.check(report, scenarios: scenarios)
    }

    @Test("shuffled, with duplicates and four requests in flight, the end state is the same")
    func shuffledWithDuplicates() async throws {
        let options = ReplayOptions(
            shuffleSeed: 11, duplicateRate: 0.25, concurrency: 4, convergenceTimeoutSeconds: 6, pollIntervalSeconds: 0.1
        )
        let (report, scenarios) = try await Self.run(options: options)
        #expect(report.injectedDuplicates > 0 && report.duplicates >= report.injectedDuplicates)
        Self.check(report, scenarios: scenarios)
    }
}
