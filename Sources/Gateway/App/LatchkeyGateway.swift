import Bookings
import Configuration
import FakeSeam
import Foundation
import HTTPServer
import Intake
import Logging
import Observability
import Reconciler
import Seam
import Store
import Synchronization

/// A running Latchkey: the listener, the journal, the reconciler and its Seam connection, wired together.
///
/// Start order: secrets → store (refuses to start on a damaged or unwritable data directory) → Seam (the real
/// one with an API key, else the built-in fake, said loudly) → reconciler (re-reads every stored booking) →
/// listener. Shutdown runs the other way round after the listener has drained.
package final class LatchkeyGateway: Sendable {
    /// Where the access codes go.
    package enum SeamTarget: Sendable, CustomStringConvertible {
        /// Seam itself (or `SEAM_ENDPOINT`).
        case seam(URL)
        /// The fake Seam started in this process because no API key was given.
        case builtInFake(URL)

        /// For logs and the start banner.
        package var description: String {
            switch self {
            case .seam(let url): "Seam at \(url.absoluteString)"
            case .builtInFake(let url):
                "the built-in fake Seam at \(url.absoluteString) (no SEAM_API_KEY: sandbox, no real lock is touched)"
            }
        }
    }

    /// The port the listener is bound to.
    package let port: Int
    /// Where access codes are sent.
    package let seamTarget: SeamTarget
    /// The fake Seam, when this process runs one.
    package let fakeSeam: FakeSeamServer?
    /// The metrics registry (also served at `GET /metrics`).
    package let metrics: Metrics
    /// The reconciler, for tests and the demo.
    package let reconciler: Reconciler

    private let server: HTTPServer
    private let store: Store
    private let logger: Logger
    private let gauges: Task<Void, Never>
    private let historySweep: Task<Void, Never>
    private let history: HistoryRetention
    private let feed: BookingFeed

    /// Starts Latchkey.
    /// - Parameters:
    ///   - configuration: The configuration.
    ///   - environment: The process environment, for secrets (injectable for tests).
    ///   - handlesSignals: Whether SIGTERM/SIGINT start a graceful shutdown (true for `serve`; tests pass false).
    ///   - fakeSeamConfiguration: How to run the built-in fake when there is no API key.
    ///   - logger: The root logger.
    /// - Throws: ``GatewayStartError`` naming what could not start and what to do.
    package init(
        configuration: LatchkeyConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        handlesSignals: Bool = false,
        fakeSeamConfiguration: FakeSeamConfiguration = FakeSeamConfiguration(),
        logger: Logger
    ) async throws(GatewayStartError) {
        self.logger = logger
        let metrics = Metrics()
        self.metrics = metrics

        var sources: [SourceRuntime] = []
        do {
            for settings in configuration.sources {
                sources.append(try SourceRuntime(settings, environment: environment))
            }
        } catch {
            throw GatewayStartError(stage: "configuration", message: error.description)
        }

        let store: Store
        do {
            let retention = Duration.seconds(configuration.idempotencyRetentionDays * 86_400)
            var storeConfiguration = StoreConfiguration(idempotencyRetention: retention)
            storeConfiguration.onBatchSynced = { records, fsyncSeconds in
                metrics.observeJournalFsync(seconds: fsyncSeconds)
                metrics.observeGroupCommit(records: records)
            }
            // A group commit's completions share one `write` for their "delivery accepted" lines, not one each.
            storeConfiguration.aroundCompletions = { LogLines.gathered($0) }
            store = try Store.open(at: configuration.dataDirectory, configuration: storeConfiguration, logger: logger)
        } catch {
            throw GatewayStartError(stage: "data directory \(configuration.dataDirectory)", message: error.description)
        }
        self.store = store

        // Seam: the real one with a key, else the built-in fake.
        let apiKey: String?
        do {
            apiKey = try configuration.seam.apiKey?.resolve(environment: environment)
        } catch {
            store.close()
            throw GatewayStartError(stage: "seam.api_key", message: error.description)
        }
        let client: SeamClient
        var fake: FakeSeamServer?
        do {
            if let apiKey {
                let endpoint: URL
                if let configured = configuration.seam.endpoint, let url = URL(string: configured) {
                    endpoint = url
                } else {
                    endpoint = try SeamConfiguration.endpoint(environment: environment)
                }
                let credentials =
                    try configuration.seam.workspaceID.map { id throws(SeamCredentialsError) in
                        try SeamCredentials(personalAccessToken: apiKey, workspaceID: id)
                    } ?? SeamCredentials(apiKey: apiKey)
                client = SeamClient(
                    configuration: SeamConfiguration(
                        endpoint: endpoint, requestTimeout: .seconds(configuration.seam.requestTimeoutSeconds)),
                    credentials: credentials, logger: logger)
                seamTarget = .seam(endpoint)
            } else {
                let server = try FakeSeamServer(port: 0, configuration: fakeSeamConfiguration, logger: logger)
                server.start()
                fake = server
                client = SeamClient(
                    configuration: SeamConfiguration(endpoint: server.url),
                    credentials: try SeamCredentials(
                        apiKey: fakeSeamConfiguration.apiKeys.sorted().first ?? "seam_test_key"),
                    logger: logger)
                seamTarget = .builtInFake(server.url)
            }
        } catch {
            store.close()
            throw GatewayStartError(stage: "seam", message: "\(error)")
        }
        fakeSeam = fake

        let breaker = CircuitBreaker(logger: logger)
        let reconciler = Reconciler(
            catalogue: PropertyCatalogue(configuration.properties),
            service: SeamAccessCodeService(client: client, breaker: breaker, metrics: metrics),
            store: StoreStateStore(store: store),
            pacer: DeviceLimiterPacer(limiter: DeviceRateLimiter()),
            configuration: ReconcilerConfiguration(
                maxConcurrentReservations: configuration.seam.maxParallelReservations,
                maxAttempts: configuration.seam.maxAttempts,
                // The ledger keeps each reservation's latest booking and hands them all over at every start.
                storesRecordsBeforeActing: false),
            logger: logger)
        self.reconciler = reconciler
        let ledger = BookingLedger(store: store)
        do {
            try await reconciler.start()
            for chunk in BookingFeed.chunks(ledger.takeStoredBookings()) {
                try await reconciler.apply(chunk)
            }
        } catch {
            fake?.stop()
            store.close()
            throw GatewayStartError(stage: "reconciler", message: "\(error)")
        }

        let feed = BookingFeed(reconciler: reconciler, logger: logger)
        self.feed = feed
        let intake = WebhookIntake(sources: sources, store: store, ledger: ledger, metrics: metrics, logger: logger) {
            bookings in
            feed.submit(bookings)
        }

        let serverBox = Mutex<HTTPServer?>(nil)
        var router = Router()
        intake.register(on: &router)
        OperationalRoutes(store: store, metrics: metrics, isDraining: { serverBox.withLock { $0?.isDraining ?? true } })
            .register(on: &router)
        do {
            let secret = try configuration.seam.webhookSecret?.resolve(environment: environment)
            try SeamWebhookRoute(secret: secret, reconciler: reconciler, metrics: metrics, logger: logger).register(
                on: &router)
            let token = try configuration.adminToken?.resolve(environment: environment)
            AdminAPI(token: token, reconciler: reconciler, logger: logger).register(on: &router)
        } catch {
            fake?.stop()
            store.close()
            throw GatewayStartError(stage: "secrets", message: "\(error)")
        }

        let settings = configuration.server
        let server: HTTPServer
        do {
            server = try HTTPServer(
                configuration: HTTPServerConfiguration(
                    host: settings.host, port: settings.port,
                    maxHeadBytes: settings.maxHeadBytes, maxBodyBytes: settings.maxBodyBytes,
                    maxConnections: settings.maxConnections,
                    headTimeout: .seconds(settings.headTimeoutSeconds),
                    bodyIdleTimeout: .seconds(settings.bodyIdleTimeoutSeconds),
                    keepAliveTimeout: .seconds(settings.keepAliveTimeoutSeconds),
                    drainTimeout: .seconds(settings.drainTimeoutSeconds),
                    trustedProxies: settings.trustedProxies,
                    handlesSignals: handlesSignals, eventLoops: settings.eventLoops),
                handler: MeteredHandler(router: router, metrics: metrics),
                logger: logger)
        } catch {
            await reconciler.stop()
            fake?.stop()
            store.close()
            throw GatewayStartError(stage: "listener \(settings.host):\(settings.port)", message: error.description)
        }
        serverBox.withLock { $0 = server }
        self.server = server
        self.port = server.port
        let history = HistoryRetention(
            days: configuration.historyRetentionDays, reconciler: reconciler, ledger: ledger, store: store,
            logger: logger)
        self.history = history
        historySweep = Task { await history.sweepPeriodically() }
        gauges = Task { [reconciler, metrics] in
            while !Task.isCancelled {
                let took = await ContinuousClock().measure {
                    await GaugeRefresher.refresh(reconciler: reconciler, metrics: metrics)
                }
                try? await Task.sleep(for: GaugeRefresher.pause(after: took))
            }
        }
        server.start()
        logger.info(
            "Latchkey is listening",
            metadata: [
                "listen": "\(settings.host):\(port)", "seam": "\(seamTarget)",
                "data_dir": "\(configuration.dataDirectory)",
            ])
    }

    /// Begins a graceful shutdown (what SIGTERM does).
    package func beginShutdown() { server.beginShutdown() }

    /// Waits until the listener has drained, then stops the reconciler, the fake Seam and the store.
    package func waitUntilStopped() async {
        let server = self.server
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                server.waitUntilStopped()
                continuation.resume()
            }
        }
        gauges.cancel()
        historySweep.cancel()
        await feed.finish()
        await reconciler.stop()
        fakeSeam?.stop()
        store.close()
        logger.info("Latchkey stopped")
    }

    /// Returns once every acknowledged delivery has reached the reconciler and the reconciler has nothing queued
    /// or in flight (retries waiting for their backoff count as in flight).
    package func waitUntilIdle() async {
        await feed.waitUntilDrained()
        await reconciler.waitUntilIdle()
    }

    /// Forgets now what the hourly sweep forgets: reservations whose access window ended more than
    /// ``LatchkeyConfiguration/historyRetentionDays`` ago, with their stored bookings (for tests and operators).
    /// - Returns: How many reservations were forgotten.
    @discardableResult
    package func forgetEndedReservations() async -> Int {
        await history.sweep()
    }

    /// Shuts down and waits.
    package func stop() async {
        beginShutdown()
        await waitUntilStopped()
    }
}

/// Why Latchkey could not start, with the stage that failed.
package struct GatewayStartError: Error, Sendable, CustomStringConvertible {
    /// What was being started: `configuration`, `data directory …`, `seam`, `listener …`.
    package var stage: String
    /// What went wrong and what to do.
    package var message: String

    /// `cannot start: data directory /var/lib/latchkey: …`.
    package var description: String { "cannot start: \(stage): \(message)" }
}
