import ArgumentParser
import Bookings
import Foundation
import Gateway

/// `latchkey check-config`.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a configuration file: every problem with its key and line; exit 1 if `serve` would refuse it."
    )

    @Option(name: .long, help: ArgumentHelp("The YAML configuration file.", valueName: "file"))
    var config: String

    func run() async throws {
        let configuration: LatchkeyConfiguration
        do {
            configuration = try ConfigurationLoader.load(path: config)
        } catch {
            print("\(config): error: \(error.description)")
            throw ExitCode(1)
        }
        let check = ConfigurationCheck(configuration)
        for finding in check.findings { print("\(config): \(finding)") }
        print("\(config): \(configuration.sources.count) sources, \(configuration.properties.count) properties, "
              + "\(configuration.properties.reduce(0) { $0 + $1.deviceIDs.count }) locks"
              + (check.isServable ? ": OK" : ": serve would refuse this configuration"))
        if !check.isServable { throw ExitCode(1) }
    }
}
