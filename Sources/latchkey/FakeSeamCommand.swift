import ArgumentParser
import FakeSeam
import Foundation
import Logging

/// `latchkey fake-seam`.
struct FakeSeamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-seam",
        abstract: "Run a fake Seam API (access codes, devices, linked codes, faults) for tests and rehearsals.",
        discussion: """
            Speaks Seam's wire format on POST (and the other verbs Seam allows) with Authorization: Bearer \
            seam_test_key by default; Seam's official SDKs work against it (SEAM_ENDPOINT=http://127.0.0.1:PORT). \
            Control routes: GET /_fake/state, POST /_fake/faults, /_fake/clock, /_fake/reset.

            Access-code ids, common code keys and PINs come from a generator seeded afresh at every start (the start \
            line prints the seed), so a restarted fake never hands out those of an earlier run; --rng-seed (or a \
            --faults file's seed) repeats a run exactly.
            """
    )

    @Option(help: "The TCP port on 127.0.0.1 (0 picks a free one and prints it).") var port: Int = 4010
    @Option(help: ArgumentHelp("A JSON seed file of devices (default: five sample locks).", valueName: "file"))
    var seed: String?
    @Option(
        help: ArgumentHelp(
            "A JSON fault configuration (fractions of 5xx, 429, timeouts, latency, crash-after-commit).",
            valueName: "file")) var faults: String?
    @Option(
        name: .customLong("api-key"),
        help: "An accepted API key, starting with seam_ as Seam's keys do (repeatable; default seam_test_key).")
    var apiKeys: [String] = []
    @Option(
        name: .customLong("rng-seed"),
        help: ArgumentHelp(
            "Seed the generated ids, keys and PINs (and fault draws) to repeat a run; default: a fresh seed per start.",
            valueName: "n"))
    var rngSeed: UInt64?
    @Option(name: .customLong("webhook-url"), help: "Send Svix-signed access-code events here.") var webhookURL: String?
    @Option(name: .customLong("webhook-secret"), help: "The whsec_ secret for --webhook-url.") var webhookSecret:
        String?

    func validate() throws {
        do {
            try FakeSeamConfiguration.checkAPIKeys(apiKeys)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        var configuration: FakeSeamConfiguration
        do {
            configuration = try FakeSeamConfiguration.fromOptions(
                seedFile: seed, faultsFile: faults, apiKeys: apiKeys, webhookURL: webhookURL,
                webhookSecret: webhookSecret)
        } catch {
            throw ValidationError(error.description)
        }
        let seed = configuration.chooseGeneratorSeed(rngSeed, faultsFile: faults)
        let logger = bootstrapLogging(level: "info", format: "auto")
        try FakeSeamServer.run(port: port, configuration: configuration, logger: logger) { url in
            print("fake Seam listening on \(url.absoluteString) (--rng-seed \(seed) repeats this run's ids and PINs)")
        }
    }
}
