import ArgumentParser
import Configuration
import FakeSeam
import Foundation
import Gateway
import Logging

/// `latchkey serve`: the main job.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take PMS booking webhooks and keep Seam access codes in step with them.",
        discussion: """
            Listens for POST /webhooks/{source}, verifies each delivery, stores it durably and idempotently, \
            and converges Seam to one linked group of access codes per confirmed booking. SIGTERM or SIGINT \
            drains in-flight requests and exits 0.

            Without --config a sandbox runs: one sample property (listing lst_000048213 of source `native`) on \
            two locks of a built-in fake Seam, data in ./latchkey-data. Without SEAM_API_KEY (or seam.api_key) \
            the built-in fake Seam is used, and the start line says so: no real lock is touched.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Listen on host:port, overriding server.bind (default 127.0.0.1:8080).", valueName: "host:port"))
    var bind: String?

    @Option(name: .long, help: ArgumentHelp("The data directory, overriding data_dir.", valueName: "dir"))
    var dataDir: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "For integration checks only: the reconciler's and the notification dispatcher's clock is the wall "
                + "clock plus the seconds in this file (read at every look), so a check can move time forward by hours.",
            valueName: "file", visibility: .hidden))
    var unsafeTestClockFile: String?

    func run() async throws {
        var (configuration, isSandbox) = try options.load()
        if let bind {
            guard let colon = bind.lastIndex(of: ":"), let port = Int(bind[bind.index(after: colon)...]),
                (0...65535).contains(port)
            else {
                throw ValidationError("--bind \(bind): expected host:port, e.g. 127.0.0.1:8080")
            }
            configuration.server.host = String(bind[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            configuration.server.port = port
        }
        if let dataDir { configuration.dataDirectory = dataDir }
        let logger = bootstrapLogging(level: configuration.logLevel, format: configuration.logFormat)
        if isSandbox {
            logger.notice(
                "no --config: running the sandbox configuration (source `native`, listing \(SandboxConfiguration.sampleListing))"
            )
        }
        let gateway: LatchkeyGateway
        do {
            // The built-in fake Seam keeps its codes in memory only, while the data directory keeps the groups made in
            // earlier runs; a fixed seed would hand the same access-code ids and PINs to other reservations after a
            // restart. A fresh seed per start keeps them apart.
            var fake = FakeSeamConfiguration()
            fake.faults.seed = UInt64.random(in: 1...UInt64.max)
            gateway = try await LatchkeyGateway(
                configuration: configuration, handlesSignals: true, fakeSeamConfiguration: fake,
                testClock: unsafeTestClockFile.map { OffsetFileClock(path: $0) }, logger: logger)
        } catch {
            printError("latchkey: \(error.description)")
            throw ExitCode(2)
        }
        if case .builtInFake(let url) = gateway.seamTarget {
            logger.notice(
                """
                no Seam API key: using the built-in fake Seam at \(url.absoluteString); set SEAM_API_KEY to use Seam. \
                Its codes live in memory only: after a restart, groups made before are gone from it
                """)
        }
        await gateway.waitUntilStopped()
    }
}
