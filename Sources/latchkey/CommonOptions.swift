import ArgumentParser
import Configuration
import Foundation
import Gateway
import Logging
import Observability

/// `--config`, shared by the commands that read the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The YAML configuration file (see deploy/latchkey.example.yaml).", valueName: "file"))
    var config: String?

    /// Loads the file, or the sandbox configuration when none is given.
    func load(sandboxDataDirectory: String = "./latchkey-data") throws -> (LatchkeyConfiguration, isSandbox: Bool) {
        guard let config else { return (SandboxConfiguration.make(dataDirectory: sandboxDataDirectory), true) }
        do {
            return (try ConfigurationLoader.load(path: config), false)
        } catch {
            // Every problem, one a line with the file's name, as `check-config` prints them.
            throw ValidationError(error.problems.map { "\(config): \($0)" }.joined(separator: "\n"))
        }
    }
}

/// Bootstraps logging once for the process from the configuration (env LOG_LEVEL/LOG_FORMAT override).
func bootstrapLogging(level: String, format: String) -> Logger {
    let base = (try? LogConfiguration(levelText: level, formatText: format)) ?? LogConfiguration()
    let configuration = (try? base.overridden(by: ProcessInfo.processInfo.environment)) ?? base
    LoggingBootstrap.bootstrap(configuration)
    return Logger(label: "latchkey")
}

/// Prints to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
