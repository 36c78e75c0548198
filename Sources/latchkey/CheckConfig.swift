import ArgumentParser
import Bookings
import Configuration
import Foundation
import Logging
import Seam

/// `latchkey check-config`.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a configuration file: every problem with its key and line; exit 1 if `serve` would refuse it.",
        discussion: """
            Parses the file (unknown keys are errors), checks time zones, duplicate listings, empty device lists and \
            that every secret resolves. When a Seam API key is available (seam.api_key, SEAM_API_KEY), it also asks \
            Seam for the workspace's devices and reports device ids that Seam does not know; --offline skips that.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The YAML configuration file.", valueName: "file"))
    var config: String

    @Flag(name: .long, help: "Do not ask Seam whether the configured devices exist.")
    var offline = false

    func run() async throws {
        let configuration: LatchkeyConfiguration
        do {
            configuration = try ConfigurationLoader.load(path: config)
        } catch {
            // Every problem the file has, each with its key and line, and those of the secrets of the sources that
            // could be read, so that one run finds them all.
            for problem in error.problems { print("\(config): error: \(problem)") }
            let findings = error.partial.map { ConfigurationCheck($0).findings } ?? []
            for finding in findings { print("\(config): \(finding)") }
            let errors = error.problems.count + findings.filter { $0.severity == .error }.count
            print("\(config): \(errors) error(s); serve would refuse this configuration")
            throw ExitCode(1)
        }
        let check = ConfigurationCheck(configuration)
        var errors = check.findings.filter { $0.severity == .error }.count
        for finding in check.findings { print("\(config): \(finding)") }
        if !offline { errors += await checkDevices(configuration) }
        print(
            "\(config): \(configuration.sources.count) sources, \(configuration.properties.count) properties, "
                + "\(configuration.properties.reduce(0) { $0 + $1.deviceIDs.count }) locks"
                + (errors == 0 ? ": OK" : ": \(errors) error(s); serve would refuse or fail with this configuration"))
        if errors > 0 { throw ExitCode(1) }
    }

    /// Asks Seam for its devices and reports configured ids it does not know. Returns the number of errors.
    private func checkDevices(_ configuration: LatchkeyConfiguration) async -> Int {
        let environment = ProcessInfo.processInfo.environment
        guard let key = try? configuration.seam.apiKey?.resolve(environment: environment) else {
            print("\(config): note: no Seam API key, so device ids were not checked against Seam")
            return 0
        }
        do {
            let endpoint =
                try configuration.seam.endpoint.flatMap(URL.init(string:))
                ?? SeamConfiguration.endpoint(environment: environment)
            let client = SeamClient(
                configuration: SeamConfiguration(endpoint: endpoint), credentials: try SeamCredentials(apiKey: key),
                logger: Logger(label: "check-config") { _ in SwiftLogNoOpLogHandler() })
            let known = Set(try await client.listDevices().map(\.deviceID))
            var errors = 0
            for (index, property) in configuration.properties.enumerated() {
                for device in property.deviceIDs where !known.contains(device.lowercased()) && !known.contains(device) {
                    print(
                        "\(config): error: properties[\(index)].device_ids: Seam at \(endpoint.absoluteString) has no device \(device); check the id in Seam's console"
                    )
                    errors += 1
                }
            }
            return errors
        } catch {
            print("\(config): warning: could not ask Seam for its devices (\(error)); device ids not checked")
            return 0
        }
    }
}
