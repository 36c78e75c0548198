import ArgumentParser
import Configuration
import Foundation
import Replay

/// `latchkey replay`: sends recorded (or generated) PMS deliveries to a running Latchkey, signed as each PMS
/// would sign them, and checks what Seam ends up holding against the scenarios' expectations.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay recorded PMS webhooks against a running Latchkey and check the codes Seam ends up with.",
        discussion: """
            Scenario files are YAML (see Tests/Scenarios/<pms>/*.yaml). Exit status: 0 when every status and every \
            reservation's final state is as expected, 1 when something differs, 64 for bad arguments.
            Example: latchkey replay Tests/Scenarios --config Tests/Scenarios/latchkey-test.yaml \
            --url http://127.0.0.1:8080 --fake-seam http://127.0.0.1:4010
            """
    )

    @Argument(help: "Scenario directories (with <pms>/*.yaml inside) or scenario files.")
    var scenarios: [String] = []

    @Option(help: "The Latchkey configuration the server runs with (sources, secrets, properties).")
    var config: String

    @Option(help: "Latchkey's base URL. Default: http:// and the configuration's server.bind.")
    var url: String?

    @Option(name: .customLong("fake-seam"), help: "Read the final state from this fake Seam (GET /_fake/state).")
    var fakeSeam: String?

    @Flag(
        name: .customLong("seam-api"),
        help: "Read the final state from Seam with the configuration's seam.api_key (/access_codes/list per device).")
    var seamAPI = false

    @Option(help: "Shuffle all deliveries with this seed (scenarios with `order: strict` keep their own order).")
    var shuffle: UInt64?

    @Option(
        name: .customLong("duplicate-rate"), help: "Fraction 0…1 of deliveries sent twice with the same delivery id.")
    var duplicateRate: Double = 0

    @Option(
        name: .customLong("repeat"), help: "Send the whole set this many times, with fresh delivery ids each round.")
    var repeatCount: Int = 1

    @Option(help: "Requests in flight at once; 1 keeps the order exactly.")
    var concurrency: Int = 1

    @Option(help: "Seconds to wait for Seam to reach the expected state after the last delivery.")
    var timeout: Double = 30

    @Option(name: .customLong("request-timeout"), help: "Seconds allowed for one request.")
    var requestTimeout: Double = 10

    @Option(help: "Generate this many synthetic native deliveries instead of (or besides) scenario files.")
    var generate: Int?

    @Option(help: "With --generate: across this many reservations. Default: a tenth of the deliveries.")
    var reservations: Int?

    @Option(name: .customLong("generate-source"), help: "With --generate: the native source to post to.")
    var generateSource = "native"

    @Option(help: "With --generate: the seed of the generated bookings.")
    var seed: UInt64 = 1

    @Option(
        name: .customLong("write-generated"),
        help: "With --generate: write the scenario to this YAML file and exit without sending.")
    var writeGenerated: String?

    @Flag(name: .customLong("no-progress"), help: "Print no progress while sending.")
    var noProgress = false

    func validate() throws {
        if scenarios.isEmpty, generate == nil {
            throw ValidationError("name scenario files or directories, or use --generate N")
        }
        if fakeSeam != nil, seamAPI { throw ValidationError("use either --fake-seam URL or --seam-api, not both") }
        if writeGenerated != nil, generate == nil { throw ValidationError("--write-generated needs --generate N") }
    }

    func run() async throws {
        let configuration: LatchkeyConfiguration
        do {
            configuration = try ConfigurationLoader.load(path: config)
        } catch {
            throw ValidationError(error.problems.map { "configuration \(config): \($0)" }.joined(separator: "\n"))
        }
        var loaded: [Scenario] = []
        for path in scenarios {
            do {
                loaded += try ScenarioDirectory.load(path)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        if let generate {
            let generator = LoadGenerator(
                deliveries: generate, reservations: reservations ?? max(1, generate / 10), source: generateSource,
                seed: seed)
            let scenario = try generator.generate(configuration: configuration)
            if let writeGenerated {
                try Data(try ScenarioWriter.yaml(scenario).utf8).write(to: URL(fileURLWithPath: writeGenerated))
                print(
                    "wrote \(scenario.deliveries.count) deliveries across \(scenario.expectations.count) reservations to \(writeGenerated)"
                )
                return
            }
            loaded.append(scenario)
        }
        let options = ReplayOptions(
            shuffleSeed: shuffle, duplicateRate: duplicateRate, repeatCount: repeatCount, concurrency: concurrency,
            requestTimeoutSeconds: requestTimeout, convergenceTimeoutSeconds: timeout
        )
        let replayer = try Replayer(
            configuration: configuration,
            transport: URLSessionTransport(baseURL: try latchkeyURL(configuration), timeoutSeconds: requestTimeout),
            state: try stateReader(configuration), options: options,
            progress: noProgress ? nil : StandardErrorProgress()
        )
        let report = try await replayer.run(loaded)
        print(report.render())
        if !report.passed { throw ExitCode.failure }
    }

    private func latchkeyURL(_ configuration: LatchkeyConfiguration) throws -> URL {
        let host =
            configuration.server.host.contains(":") ? "[\(configuration.server.host)]" : configuration.server.host
        let text = url ?? "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(configuration.server.port)"
        guard let parsed = URL(string: text), parsed.scheme != nil, parsed.host != nil else {
            throw ValidationError("--url \(text) is not a URL such as http://127.0.0.1:8080")
        }
        return parsed
    }

    private func stateReader(_ configuration: LatchkeyConfiguration) throws -> (any SeamStateReader)? {
        if let fakeSeam {
            guard let parsed = URL(string: fakeSeam), parsed.host != nil else {
                throw ValidationError("--fake-seam \(fakeSeam) is not a URL such as http://127.0.0.1:4010")
            }
            return FakeSeamStateReader(baseURL: parsed, timeoutSeconds: requestTimeout)
        }
        guard seamAPI else { return nil }
        return try SeamAPIStateReader(configuration: configuration)
    }
}
