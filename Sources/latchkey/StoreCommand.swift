import ArgumentParser
import Configuration
import Foundation
import Gateway
import Logging
import Store

/// `latchkey store verify|compact|stats`.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Inspect or compact the data directory (journal segments and snapshot).",
        subcommands: [Verify.self, Compact.self, Stats.self]
    )

    /// `--data-dir` or the configuration's `data_dir`.
    struct Location: ParsableArguments {
        @OptionGroup var options: ConfigOptions
        @Option(
            name: .long,
            help: ArgumentHelp(
                "The data directory (default: data_dir of --config, else ./latchkey-data).", valueName: "dir"))
        var dataDir: String?

        func directory() throws -> String {
            if let dataDir { return dataDir }
            return try options.load().0.dataDirectory
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check every record's CRC without changing anything (safe on a running instance); exit 1 if damaged.")
        @OptionGroup var location: Location

        func run() async throws {
            let report = Store.verify(at: try location.directory())
            print(report.description)
            if !report.isHealthy { throw ExitCode(1) }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print sizes and counts (read-only, safe on a running instance).")
        @OptionGroup var location: Location

        func run() async throws {
            let report = Store.verify(at: try location.directory())
            let journal = report.segments.reduce(0) { $0 + $1.size }
            print("data directory: \(report.directory)")
            print("entries: \(report.entryCount)")
            print("idempotency keys: \(report.idempotencyKeyCount)")
            print("journal: \(report.segments.count) segments, \(journal) bytes")
            print("snapshot: \(report.snapshot.map { "\($0.bytes) bytes" } ?? "none")")
            print("healthy: \(report.isHealthy ? "yes" : "no")")
            if !report.isHealthy { throw ExitCode(1) }
        }
    }

    struct Compact: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write a snapshot and drop old segments and expired keys. Needs the directory's lock: stop `serve` first."
        )
        @OptionGroup var location: Location

        func run() async throws {
            let directory = try location.directory()
            let logger = bootstrapLogging(level: "info", format: "auto")
            do {
                let store = try Store.open(at: directory, logger: logger)
                defer { store.close() }
                let before = store.stats()
                try store.compact()
                let after = store.stats()
                print(
                    "compacted \(directory): journal \(before.journalBytes) → \(after.journalBytes) bytes, "
                        + "\(after.entryCount) entries, \(after.idempotencyKeyCount) idempotency keys kept")
            } catch {
                printError("latchkey store compact: \(error.description)")
                throw ExitCode(1)
            }
        }
    }
}
