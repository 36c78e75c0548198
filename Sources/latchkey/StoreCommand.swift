import ArgumentParser
import Configuration
import Foundation
import Gateway
import Logging
import PostgresStore
import Store

/// `latchkey store verify|compact|stats|export|import`.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Inspect or compact the data directory (journal segments and snapshot).",
        subcommands: [Verify.self, Compact.self, Stats.self, Export.self, Import.self]
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

        /// The PostgreSQL store's configuration when `--config` names `store.backend: postgresql` and no
        /// `--data-dir` is given; nil for the data directory.
        func postgreSQL() throws -> PostgresStoreConfiguration? {
            guard dataDir == nil, options.config != nil else { return nil }
            let configuration = try options.load().0
            guard configuration.store.backend == .postgresql else { return nil }
            do {
                return try PostgresStoreConfiguration(configuration, environment: ProcessInfo.processInfo.environment)
            } catch {
                throw ValidationError("\(options.config ?? ""): \(error)")
            }
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

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the data directory's entries and unexpired idempotency keys to a portable file.",
            discussion: """
                Reads without the directory's lock (safe on a running instance, but later commits are not in the \
                file): to move to PostgreSQL, stop `serve`, export, `latchkey store import`, then start with \
                store.backend: postgresql. The file holds guest data: it is written with mode 0600.
                """)
        @OptionGroup var location: Location
        @Option(name: .long, help: ArgumentHelp("The file to write.", valueName: "file")) var output: String

        func run() async throws {
            let directory = try location.directory()
            do {
                let export = try StoreExport.read(dataDirectory: directory)
                try export.write(to: output)
                print(
                    "exported \(directory) to \(output): \(export.entries.count) entries, "
                        + "\(export.claims.count) idempotency keys")
            } catch {
                printError("latchkey store export: \(error.description)")
                throw ExitCode(1)
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a `store export` file into PostgreSQL (store.postgresql of --config), in one transaction.",
            discussion: """
                Run `latchkey db migrate` first. Each entry replaces the database's value of its key; importing \
                the same file twice changes nothing.
                """)
        @OptionGroup var target: DatabaseCommand.Target
        @Option(name: .long, help: ArgumentHelp("The file `store export` wrote.", valueName: "file")) var input: String

        func run() async throws {
            let configuration = try target.storeConfiguration()
            do {
                let export = try StoreExport.load(from: input)
                let count = try PostgresStore.importRecords(export, configuration: configuration)
                print("imported \(input): \(count.entries) entries, \(count.claims) idempotency keys")
            } catch {
                printError("latchkey store import: \(error.description)")
                throw ExitCode(1)
            }
        }
    }
}
