import Bookings
import Configuration
import FakeSeam
import Foundation
import HTTPServer
import Intake
import Logging
import Notifications
import Observability
import Reconciler
import Seam
import Store
import Synchronization
import WebhookAuth

/// A running Latchkey: the listener, the journal, the reconciler and its Seam connection, wired together.
///
/// Its long-running parts start in the order of ``StartStep``: secrets (starts nothing) → store (refuses to start
/// on a damaged or unwritable data directory) → Seam (the real one with an API key, else the built-in fake, said
/// loudly) → reconciler → stored bookings (re-read and handed to the reconciler) → booking feed → history sweep →
/// gauge refresher → arrival checks → drift reconciliation → listener. They stop in the reverse order, through one ``Lifecycle``: at shutdown once the
/// listener has drained, and on every failed start, where the parts started before the failing step are stopped
/// and the part that failed to start is not.
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
    /// The notification outbox and dispatcher, when `notifications:` lists endpoints (tests, the demo).
    package let notifications: NotificationService?

    private let lifecycle: Lifecycle
    private let listener: Listener
    private let logger: Logger
    private let history: HistoryRetention
    private let feed: BookingFeed

    /// The listener, held weakly.
    private struct WeakServer {
        weak var server: HTTPServer?
    }

    /// The secrets of the configuration, resolved before anything starts.
    private struct Secrets {
        var sources: [SourceRuntime]
        var seamAPIKey: String?
        var seamWebhooks: WebhookVerifier?
        /// The built-in fake's webhooks to Latchkey's own route, with no API key and no `seam.webhook_secret`.
        var sandboxWebhooks: SandboxWebhooks?
        var adminToken: String?
        /// The console password: `console.password`, else the admin token; nil turns the console off.
        var consolePassword: String?
        /// The resolved `notifications:` endpoints (none: no events are derived).
        var notificationEndpoints: [NotificationEndpoint] = []
    }

    /// Starts Latchkey.
    /// - Parameters:
    ///   - configuration: The configuration.
    ///   - environment: The process environment, for secrets (injectable for tests).
    ///   - handlesSignals: Whether SIGTERM/SIGINT start a graceful shutdown (true for `serve`; tests pass false).
    ///   - fakeSeamConfiguration: How to run the built-in fake when there is no API key.
    ///   - probe: For tests: a start step to fail, and a record of the parts started and stopped; nil otherwise.
    ///   - testClock: For tests and checks only: the clock of the reconciler (arrival checks, drift, retries) and of
    ///     the notification dispatcher (retries, retry period); nil (the default) for the system clock.
    ///   - logger: The root logger.
    /// - Throws: ``GatewayStartError`` naming what could not start and what to do; every part started before the
    ///   failure has been stopped by then.
    package init(
        configuration: LatchkeyConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        handlesSignals: Bool = false,
        fakeSeamConfiguration: FakeSeamConfiguration = FakeSeamConfiguration(),
        probe: StartupProbe? = nil,
        testClock: (any ReconcilerClock)? = nil,
        logger: Logger
    ) async throws(GatewayStartError) {
        self.logger = logger
        let metrics = Metrics()
        self.metrics = metrics
        let lifecycle = Lifecycle(probe: probe, logger: logger)
        self.lifecycle = lifecycle

        let secrets = try await lifecycle.run(.secrets) { () throws(GatewayStartError) in
            try Self.resolveSecrets(configuration, environment: environment)
        }
        let store = try await lifecycle.start(.store) { () throws(GatewayStartError) in
            try StorePart.open(for: configuration, metrics: metrics, environment: environment, logger: logger)
        }.store
        let seam = try await lifecycle.start(.seam) { () throws(GatewayStartError) in
            try SeamConnection.start(
                settings: configuration.seam, apiKey: secrets.seamAPIKey, environment: environment,
                fakeConfiguration: fakeSeamConfiguration, sandboxWebhooks: secrets.sandboxWebhooks, logger: logger)
        }
        seamTarget = seam.target
        fakeSeam = seam.fake
        let notifications = try await lifecycle.start(.notifications) { () throws(GatewayStartError) in
            try await NotificationPart.start(
                endpoints: secrets.notificationEndpoints, configuration: configuration, store: store,
                clock: testClock ?? SystemClock(), metrics: metrics, logger: logger)
        }
        self.notifications = notifications.service

        // Recent code-changing Seam calls, for the console (in memory only).
        let seamActivity = SeamActivity()
        let reconciler = try await lifecycle.start(.reconciler) { () throws(GatewayStartError) in
            let reconciler = Reconciler(
                catalogue: PropertyCatalogue(configuration.properties),
                service: SeamAccessCodeService(
                    client: seam.client, breaker: CircuitBreaker(logger: logger), metrics: metrics,
                    activity: seamActivity),
                store: notifications.service?.stateStore ?? StoreStateStore(store: store),
                clock: testClock ?? SystemClock(),
                pacer: DeviceLimiterPacer(limiter: DeviceRateLimiter()),
                configuration: ReconcilerConfiguration(
                    maxConcurrentReservations: configuration.seam.maxParallelReservations,
                    maxAttempts: configuration.seam.maxAttempts,
                    // The ledger keeps each reservation's latest booking and hands them all over at every start.
                    storesRecordsBeforeActing: false,
                    arrival: Assurance.settings(configuration.assurance)),
                logger: logger)
            do {
                try await reconciler.start()
            } catch {
                throw GatewayStartError(step: .reconciler, stage: "reconciler", message: "\(error)")
            }
            return reconciler
        }
        self.reconciler = reconciler
        let ledger = try await lifecycle.run(.storedBookings) { () throws(GatewayStartError) in
            let ledger: BookingLedger
            do throws(StoreError) {
                ledger = try BookingLedger(store: store)
            } catch {
                throw GatewayStartError(step: .storedBookings, stage: "store", message: error.description)
            }
            do {
                for chunk in BookingFeed.chunks(ledger.takeStoredBookings()) {
                    try await reconciler.apply(chunk)
                }
            } catch {
                throw GatewayStartError(step: .storedBookings, stage: "reconciler", message: "\(error)")
            }
            return ledger
        }
        let feed = try await lifecycle.start(.bookingFeed) { () throws(GatewayStartError) in
            BookingFeed(reconciler: reconciler, logger: logger)
        }
        self.feed = feed

        let history = HistoryRetention(
            days: configuration.historyRetentionDays, reconciler: reconciler, ledger: ledger, store: store,
            logger: logger)
        self.history = history
        _ = try await lifecycle.start(.historySweep) { () throws(GatewayStartError) in
            PeriodicTask(every: HistoryRetention.sweepEvery, firstAfter: HistoryRetention.firstSweepAfter) {
                await history.sweep()
            }
        }
        _ = try await lifecycle.start(.gaugeRefresher) { () throws(GatewayStartError) in
            PeriodicTask { await GaugeRefresher.refreshPeriodically(reconciler: reconciler, metrics: metrics) }
        }
        let assurance = configuration.assurance
        _ = try await lifecycle.start(.arrivalChecks) { () throws(GatewayStartError) in
            PeriodicTask(every: .seconds(assurance.checkEverySeconds)) {
                guard !assurance.checkLeadHours.isEmpty else { return }
                await Assurance.checkArrivals(reconciler: reconciler, metrics: metrics, logger: logger)
            }
        }
        _ = try await lifecycle.start(.driftReconciliation) { () throws(GatewayStartError) in
            PeriodicTask(every: .seconds(max(assurance.driftIntervalSeconds, 1))) {
                guard assurance.driftIntervalSeconds > 0 else { return }
                await Assurance.reconcileDrift(reconciler: reconciler, metrics: metrics)
            }
        }

        // `/readyz` asks the listener whether it drains, and the listener holds the routes: a weak reference, so
        // that the two (and the reconciler and Seam client behind the routes) do not keep each other alive.
        let serverBox = Mutex(WeakServer())
        var router = Router()
        // The last deliveries and the signature failures of the last 24 h, for the console (in memory only).
        let recentDeliveries = RecentDeliveries()
        WebhookIntake(
            sources: secrets.sources, store: store, ledger: ledger, metrics: metrics, logger: logger,
            recentDeliveries: recentDeliveries
        ) { bookings in
            feed.submit(bookings)
        }.register(on: &router)
        OperationalRoutes(
            store: store, metrics: metrics, isDraining: { serverBox.withLock { $0.server?.isDraining ?? true } }
        )
        .register(on: &router)
        SeamWebhookRoute(verifier: secrets.seamWebhooks, reconciler: reconciler, metrics: metrics, logger: logger)
            .register(on: &router)
        AdminAPI(token: secrets.adminToken, reconciler: reconciler, logger: logger).register(on: &router)
        ConsoleRoutes(
            password: secrets.consolePassword, sessionHours: configuration.console.sessionHours,
            source: GatewayConsoleSource(
                reconciler: reconciler, client: seam.client,
                deviceIDs: configuration.properties.flatMap(\.deviceIDs)),
            catalogue: PropertyCatalogue(configuration.properties), sourceNames: configuration.sources.map(\.name),
            deliveries: recentDeliveries, activity: seamActivity,
            addOns: ConsoleAddOnsBridge(reconciler: reconciler, dispatcher: notifications.service?.dispatcher),
            logger: logger
        ).register(on: &router)
        AdminAPI(token: secrets.adminToken, reconciler: reconciler, logger: logger).registerNotifications(
            notifications.service?.dispatcher, on: &router)
        let handler = MeteredHandler(router: router, metrics: metrics)
        let listener = try await lifecycle.start(.listener) { () throws(GatewayStartError) in
            try Listener.start(configuration.server, handler: handler, handlesSignals: handlesSignals, logger: logger)
        }
        serverBox.withLock { $0.server = listener.server }
        self.listener = listener
        self.port = listener.server.port
        secrets.sandboxWebhooks?.listening(host: configuration.server.host, port: port)
        logger.info(
            "Latchkey is listening",
            metadata: [
                "listen": "\(configuration.server.host):\(port)", "seam": "\(seamTarget)",
                "data_dir": "\(configuration.dataDirectory)",
            ])
    }

    /// Resolves every secret of `configuration`: the sources' (into their verifiers), Seam's API key, the Seam
    /// webhook secret (into its verifier) and the admin token.
    private static func resolveSecrets(_ configuration: LatchkeyConfiguration, environment: [String: String])
        throws(GatewayStartError) -> Secrets
    {
        var sources: [SourceRuntime] = []
        do {
            for settings in configuration.sources {
                sources.append(try SourceRuntime(settings, environment: environment))
            }
        } catch {
            throw GatewayStartError(step: .secrets, stage: "configuration", message: error.description)
        }
        let apiKey: String?
        do {
            apiKey = try configuration.seam.apiKey?.resolve(environment: environment)
        } catch {
            throw GatewayStartError(step: .secrets, stage: "seam.api_key", message: error.description)
        }
        var secrets: Secrets
        do {
            var webhookSecret = try configuration.seam.webhookSecret?.resolve(environment: environment)
            let sandboxWebhooks = apiKey == nil && webhookSecret == nil ? try SandboxWebhooks() : nil
            webhookSecret = webhookSecret ?? sandboxWebhooks?.secret
            let adminToken = try configuration.adminToken?.resolve(environment: environment)
            secrets = Secrets(
                sources: sources, seamAPIKey: apiKey,
                seamWebhooks: try SeamWebhookRoute.verifier(secret: webhookSecret), sandboxWebhooks: sandboxWebhooks,
                adminToken: adminToken,
                consolePassword: try configuration.console.password?.resolve(environment: environment) ?? adminToken)
        } catch {
            throw GatewayStartError(step: .secrets, stage: "secrets", message: "\(error)")
        }
        secrets.notificationEndpoints = try NotificationPart.endpoints(configuration, environment: environment)
        return secrets
    }

    /// Begins a graceful shutdown (what SIGTERM does).
    package func beginShutdown() { listener.server.beginShutdown() }

    /// Waits until the listener has drained (after ``beginShutdown()`` or SIGTERM), then stops every part in the
    /// reverse of the start order: drift reconciliation, arrival checks, gauge refresher, history sweep, booking feed, reconciler, the built-in fake
    /// Seam, the store.
    package func waitUntilStopped() async {
        await listener.waitUntilStopped()
        await lifecycle.stop()
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

/// Why Latchkey could not start, with the step and stage that failed.
package struct GatewayStartError: Error, Sendable, CustomStringConvertible {
    /// The step of the start that failed.
    package var step: StartStep
    /// What was being started, for the message: `configuration`, `data directory …`, `seam`, `listener …`.
    package var stage: String
    /// What went wrong and what to do.
    package var message: String

    /// `cannot start: data directory /var/lib/latchkey: …`.
    package var description: String { "cannot start: \(stage): \(message)" }
}
