import Foundation
import HTTPServer
import Logging

/// A ``FakeSeamService`` served over Latchkey's own HTTP listener, with a clock ticker for system-clock runs.
///
/// ```swift
/// let fake = try FakeSeamServer(port: 0, configuration: .testing(), logger: logger)
/// fake.start()
/// // point a Seam client at fake.url with API key "seam_test_key"
/// fake.stop()
/// ```
/// `latchkey fake-seam --port N --seed FILE` uses ``run(host:port:configuration:logger:onListening:)``.
package final class FakeSeamServer: Sendable {
    /// The fake being served (for state, clock and fault control from Swift).
    package let service: FakeSeamService
    /// The port listened on (the real one when 0 was asked for).
    package let port: Int
    /// The address listened on.
    package let host: String
    private let server: HTTPServer
    private let ticker: Task<Void, Never>?

    /// Binds and listens now, so ``port`` is known when this returns; serving starts with ``start()`` or
    /// ``serve()``.
    /// - Parameters:
    ///   - host: An IPv4 or IPv6 literal; default `127.0.0.1`.
    ///   - port: The TCP port; 0 picks a free one.
    ///   - configuration: The fake's keys, seed, faults, clock, timing and webhook.
    ///   - handlesSignals: Whether SIGTERM/SIGINT stop the server gracefully (one server per process);
    ///     default `false`.
    ///   - webhookTransport: Sends one webhook request; default URLSession to the configured webhook URL.
    ///   - logger: Where the fake and its listener log.
    /// - Throws: ``HTTPServerError`` when the address cannot be bound.
    package init(
        host: String = "127.0.0.1", port: Int, configuration: FakeSeamConfiguration, handlesSignals: Bool = false,
        webhookTransport: WebhookSender.Transport? = nil, logger: Logger
    ) throws(HTTPServerError) {
        let service = FakeSeamService(
            configuration: configuration, webhookTransport: webhookTransport, logger: logger)
        self.service = service
        self.host = host
        self.server = try HTTPServer(
            // A fake's in-flight calls matter little at shutdown (some are never answered on purpose): drain 1 s.
            configuration: HTTPServerConfiguration(
                host: host, port: port, drainTimeout: .seconds(1), handlesSignals: handlesSignals),
            handler: service.handler, logger: logger
        )
        self.port = server.port
        self.ticker = configuration.clock == .system ? service.startClockTicker() : nil
    }

    /// The base URL, e.g. `http://127.0.0.1:8123` (what `Seam(endpoint:)` takes).
    package var url: URL {
        let literal = host.contains(":") ? "[\(host)]" : host
        return URL(string: "http://\(literal):\(port)")!
    }

    /// Serves on a new thread.
    package func start() { server.start() }

    /// Serves on the calling thread until a graceful shutdown (``stop()`` from elsewhere, or a signal).
    /// - Throws: what the listener's loop throws (never expected).
    package func serve() throws {
        defer { cleanUp() }
        try server.run()
    }

    /// Stops serving (in-flight requests are answered or cut after 1 s) and waits.
    package func stop() {
        server.beginShutdown()
        server.waitUntilStopped()
        cleanUp()
    }

    private func cleanUp() {
        ticker?.cancel()
        service.shutdown()
    }

    /// Serves a fake until SIGTERM or SIGINT: what `latchkey fake-seam` runs.
    /// - Parameters:
    ///   - host: An IPv4 or IPv6 literal; default `127.0.0.1`.
    ///   - port: The TCP port; 0 picks a free one (handed to `onListening`).
    ///   - configuration: The fake's keys, seed, faults, clock, timing and webhook.
    ///   - logger: Where the fake logs; the listening address is logged at info.
    ///   - onListening: Called once listening, with the base URL (e.g. to print it).
    /// - Throws: ``HTTPServerError`` when the address cannot be bound.
    package static func run(
        host: String = "127.0.0.1", port: Int, configuration: FakeSeamConfiguration, logger: Logger,
        onListening: (URL) -> Void = { _ in }
    ) throws {
        let fake = try FakeSeamServer(
            host: host, port: port, configuration: configuration, handlesSignals: true, logger: logger)
        logger.info(
            "Fake Seam listening",
            metadata: [
                "fake_seam.url": "\(fake.url)", "fake_seam.devices": "\(configuration.seed.devices.count)",
                "fake_seam.webhook": "\(configuration.webhook?.url.absoluteString ?? "none")",
            ])
        onListening(fake.url)
        try fake.serve()
    }
}
