import ArgumentParser
import Configuration
import Foundation
import Gateway
import PostgresStore
import Store

/// `latchkey db migrate|status`: the PostgreSQL store's schema (`store.backend: postgresql`).
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Migrate or inspect the PostgreSQL store's schema (store.postgresql of --config).",
        subcommands: [Migrate.self, Status.self]
    )

    /// `--config`, whose `store.postgresql` names the database.
    struct Target: ParsableArguments {
        @OptionGroup var options: ConfigOptions

        /// The store's configuration, its connection string resolved.
        func storeConfiguration() throws -> PostgresStoreConfiguration {
            guard options.config != nil else {
                throw ValidationError("--config FILE is needed: its store.postgresql.url names the database")
            }
            let configuration = try options.load().0
            do {
                return try PostgresStoreConfiguration(configuration, environment: ProcessInfo.processInfo.environment)
            } catch {
                throw ValidationError("\(options.config ?? ""): \(error)")
            }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Apply the schema migrations this Latchkey has and the database lacks, in one transaction (safe to run again)."
        )
        @OptionGroup var target: Target

        func run() async throws {
            let configuration = try target.storeConfiguration()
            do {
                let applied = try PostgresStore.migrate(configuration: configuration)
                if applied.isEmpty {
                    print("the schema is current (version \(PostgresSchema.latestVersion)); nothing to do")
                }
                for migration in applied { print("applied migration \(migration.version): \(migration.description)") }
            } catch {
                printError("latchkey db migrate: \(error.description)")
                throw ExitCode(1)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the database's schema version and the one this Latchkey needs; exit 1 if they differ.")
        @OptionGroup var target: Target

        func run() async throws {
            let configuration = try target.storeConfiguration()
            do {
                let version = try PostgresStore.schemaVersion(configuration: configuration)
                print("schema version: \(version) (this Latchkey needs \(PostgresSchema.latestVersion))")
                if version < PostgresSchema.latestVersion { print("run `latchkey db migrate --config FILE`") }
                if version != PostgresSchema.latestVersion { throw ExitCode(1) }
            } catch let error as StoreError {
                printError("latchkey db status: \(error.description)")
                throw ExitCode(1)
            }
        }
    }
}
