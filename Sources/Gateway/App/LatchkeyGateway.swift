import Bookings
import Configuration
import FakeSeam
import Foundation
import HTTPServer
import Intake
import Logging
import Notifications
import Observability
import PostgresStore
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

    /// The reconciler, for tests and the demo. On a store shared by instances it exists only once this instance
    /// holds the work lease (``waitUntilWorking()``); asked for before, it stops the process.
    package var reconciler: Reconciler { working().reconciler }
    /// The notification outbox and dispatcher, when `notifications:` lists endpoints (tests, the demo); nil as well
    /// while an instance sharing its store does not hold the work lease.
    package var notifications: NotificationService? { state.current?.notifications }

    private let lifecycle: Lifecycle
    private let listener: Listener
    private let logger: Logger
    /// The work and its start, shared with the work lease's callback.
    private let state: WorkState

    /// What runs only where the work is done, and the start of it.
    private final class WorkState: Sendable {
        /// Set before `init` returns with flat files, once the work lease is taken on a shared store.
        let work = Mutex<Work?>(nil)
        /// The start of the work after the lease was taken, awaited by a stop; `stopping` once the stop began,
        /// after which a lease taken late starts nothing.
        let takeover = Mutex(Takeover.none)

        enum Takeover {
            case none
            case starting(Task<Void, Never>)
            case stopping
        }

        var current: Work? { work.withLock { $0 } }

        /// Runs `start` in a task of its own unless a start or the stop began already.
        func beginTakeover(_ start: @escaping @Sendable () async -> Void) {
            takeover.withLock { state in
                guard case .none = state else { return }
                state = .starting(Task { await start() })
            }
        }
    }

    /// What runs only on the instance doing the work (every instance with flat files; the holder of the work lease
    /// on PostgreSQL): the reconciler, the notifications, the booking feed, the periodic jobs.
    struct Work: Sendable {
        let reconciler: Reconciler
        let notifications: NotificationService?
        let feed: BookingFeed
        let history: HistoryRetention
    }

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

    /// Everything the work's start and the routes need, made before either.
    private struct Context: Sendable {
        let configuration: LatchkeyConfiguration
        let secrets: Secrets
        let store: any DurableStore
        /// The same store when it is PostgreSQL shared by instances (the work waits for the lease).
        let shared: PostgresStore?
        let seam: SeamConnection
        let metrics: Metrics
        let clock: any ReconcilerClock
        let lifecycle: Lifecycle
        let logger: Logger
        /// Recent code-changing Seam calls, for the console (in memory only).
        let seamActivity = SeamActivity()
        /// The last deliveries and the signature failures of the last 24 h, for the console (in memory only).
        let recentDeliveries = RecentDeliveries()
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
        let state = WorkState()
        self.state = state

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
        let context = Context(
            configuration: configuration, secrets: secrets, store: store, shared: store as? PostgresStore, seam: seam,
            metrics: metrics, clock: testClock ?? SystemClock(), lifecycle: lifecycle, logger: logger)

        // `/readyz` asks the listener whether it drains, and the listener holds the routes: a weak reference, so
        // that the two (and the reconciler and Seam client behind the routes) do not keep each other alive.
        let serverBox = Mutex(WeakServer())
        let isDraining: @Sendable () -> Bool = { serverBox.withLock { $0.server?.isDraining ?? true } }
        let handler: any HTTPHandler
        if let shared = context.shared {
            // Every instance takes deliveries at once; the work waits for the lease.
            // The holder's own bookings reach its reconciler through the booking feed: only the others announce.
            let ledger = try await Self.sharedLedger(context) { state.current == nil }
            let intake = Self.intake(context, ledger: ledger) { bookings in state.current?.feed.submit(bookings) }
            let routing = WorkRouting(waiting: Self.router(context, intake: intake, work: nil, isDraining: isDraining))
            handler = MeteredHandler(router: routing, metrics: metrics)
            let held = metrics.registry.makeGauge(
                name: "latchkey_work_lease_held",
                help: "1 while this instance holds the work lease (runs the reconciler), else 0 (PostgreSQL only).")
            shared.onWorkLeaseLost { error in endProcessForWorkLease(error.description, logger: logger) }
            _ = try await lifecycle.start(.workLease) { () throws(GatewayStartError) in
                let storeConfiguration = try StorePart.postgresConfiguration(configuration, environment: environment)
                return WorkLeasePart(
                    lease: WorkLease(
                        store: shared, configuration: storeConfiguration, holder: Self.holderName(),
                        onTaken: { taken in
                            held.set(1)
                            state.beginTakeover {
                                if !taken.previousLetGo { try? await Task.sleep(for: WorkLease.takeoverGrace) }
                                do throws(GatewayStartError) {
                                    let started = try await Self.startWork(context, ledger: ledger).work
                                    state.work.withLock { $0 = started }
                                    routing.lead(
                                        with: Self.router(
                                            context, intake: intake, work: started, isDraining: isDraining))
                                } catch {
                                    endProcessForWorkLease(
                                        "the work could not start: \(error.description)", logger: logger)
                                }
                            }
                        }, logger: logger))
            }
        } else {
            let started = try await Self.startWork(context, ledger: nil)
            state.work.withLock { $0 = started.work }
            let intake = Self.intake(context, ledger: started.ledger) { bookings in started.work.feed.submit(bookings) }
            handler = MeteredHandler(
                router: Self.router(context, intake: intake, work: started.work, isDraining: isDraining),
                metrics: metrics)
        }
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

    /// This host's name and process id, written with the work lease's term (which instance holds it).
    private static func holderName() -> String {
        "\(ProcessInfo.processInfo.hostName)/\(getpid())"
    }

    /// The ledger of an instance sharing its store: every stored booking read (the receipt order of each
    /// reservation), deliveries numbered with a slot of this instance's, announced while `announces` says so
    /// (``BookingLedger/Sequencing/shared(slot:announces:)``).
    private static func sharedLedger(_ context: Context, announces: @escaping @Sendable () -> Bool)
        async throws(GatewayStartError) -> BookingLedger
    {
        try await context.lifecycle.run(.storedBookings) { () throws(GatewayStartError) in
            do throws(StoreError) {
                let slot = try context.shared?.instanceSlot() ?? 0
                let ledger = try BookingLedger(
                    store: context.store, sequencing: .shared(slot: slot, announces: announces))
                // The work reads them again when it starts (they may have changed by then).
                _ = ledger.takeStoredBookings()
                return ledger
            } catch {
                throw GatewayStartError(step: .storedBookings, stage: "store", message: error.description)
            }
        }
    }

    /// The intake of deliveries, handing what it committed to `onAccepted`.
    private static func intake(
        _ context: Context, ledger: BookingLedger, onAccepted: @escaping @Sendable ([StoredBooking]) -> Void
    ) -> WebhookIntake {
        WebhookIntake(
            sources: context.secrets.sources, store: context.store, ledger: ledger, metrics: context.metrics,
            logger: context.logger, recentDeliveries: context.recentDeliveries, onAccepted: onAccepted)
    }

    /// The routes: with `work`, every route; without (an instance sharing its store, without the work lease),
    /// deliveries, health, metrics and Seam events kept for the holder.
    private static func router(
        _ context: Context, intake: WebhookIntake, work: Work?, isDraining: @escaping @Sendable () -> Bool
    ) -> Router {
        var router = Router()
        intake.register(on: &router)
        var holdsWorkLease: (@Sendable () -> Bool)?
        if let shared = context.shared { holdsWorkLease = { shared.holdsWorkLease } }
        OperationalRoutes(
            store: context.store, metrics: context.metrics, isDraining: isDraining, holdsWorkLease: holdsWorkLease
        )
        .register(on: &router)
        var target = SeamWebhookRoute.Target.inbox(SeamEventInbox(store: context.store))
        if let work { target = .reconciler(work.reconciler) }
        SeamWebhookRoute(
            verifier: context.secrets.seamWebhooks, target: target, metrics: context.metrics, logger: context.logger
        )
        .register(on: &router)
        guard let work else { return router }
        let reconciler = work.reconciler
        let configuration = context.configuration
        let secrets = context.secrets
        AdminAPI(token: secrets.adminToken, reconciler: reconciler, logger: context.logger).register(on: &router)
        ConsoleRoutes(
            password: secrets.consolePassword, sessionHours: configuration.console.sessionHours,
            source: GatewayConsoleSource(
                reconciler: reconciler, client: context.seam.client,
                deviceIDs: configuration.properties.flatMap(\.deviceIDs)),
            catalogue: PropertyCatalogue(configuration.properties), sourceNames: configuration.sources.map(\.name),
            deliveries: context.recentDeliveries, activity: context.seamActivity,
            addOns: ConsoleAddOnsBridge(reconciler: reconciler, dispatcher: work.notifications?.dispatcher),
            logger: context.logger
        ).register(on: &router)
        AdminAPI(token: secrets.adminToken, reconciler: reconciler, logger: context.logger).registerNotifications(
            work.notifications?.dispatcher, on: &router)
        return router
    }

    /// Starts the work, in the order of ``StartStep``: notifications → reconciler → stored bookings → booking feed
    /// → history sweep → gauge refresher → arrival checks → drift reconciliation (→ work queue, on a shared store).
    /// - Parameters:
    ///   - context: What the parts need.
    ///   - ledger: The shared store's ledger (its bookings are read again here); nil for flat files, whose ledger is
    ///     made here from the journal.
    /// - Returns: The work, and the ledger.
    private static func startWork(_ context: Context, ledger: BookingLedger?) async throws(GatewayStartError)
        -> (work: Work, ledger: BookingLedger)
    {
        let lifecycle = context.lifecycle
        let configuration = context.configuration
        let metrics = context.metrics
        let logger = context.logger
        let store = context.store
        let stateStore = StoreStateStore(store: store, requiresWorkLease: context.shared != nil)
        let notifications = try await lifecycle.start(.notifications) { () throws(GatewayStartError) in
            try await NotificationPart.start(
                endpoints: context.secrets.notificationEndpoints, configuration: configuration, store: stateStore,
                clock: context.clock, metrics: metrics, logger: logger)
        }
        let reconciler = try await lifecycle.start(.reconciler) { () throws(GatewayStartError) in
            let reconciler = Reconciler(
                catalogue: PropertyCatalogue(configuration.properties),
                service: SeamAccessCodeService(
                    client: context.seam.client, breaker: CircuitBreaker(logger: logger), metrics: metrics,
                    activity: context.seamActivity, confirmWorkLease: Self.leaseConfirmation(context.shared)),
                store: notifications.service?.stateStore ?? stateStore,
                clock: context.clock,
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
        let given = ledger
        let ledger = try await lifecycle.run(.storedBookings) { () throws(GatewayStartError) in
            let ledger: BookingLedger
            let bookings: [StoredBooking]
            do throws(StoreError) {
                if let given {
                    // A shared store: what every instance stored until now.
                    ledger = given
                    bookings = try await store.loadEntries(withPrefix: StoreKeys.bookings)
                        .compactMap { StoredBooking.decode($0.value) }.sorted { $0.sequence < $1.sequence }
                } else {
                    ledger = try BookingLedger(store: store)
                    bookings = ledger.takeStoredBookings()
                }
            } catch {
                throw GatewayStartError(step: .storedBookings, stage: "store", message: error.description)
            }
            return try await handOver(bookings, to: reconciler, ledger: ledger)
        }
        let feed = try await lifecycle.start(.bookingFeed) { () throws(GatewayStartError) in
            BookingFeed(reconciler: reconciler, logger: logger)
        }
        let history = HistoryRetention(
            days: configuration.historyRetentionDays, reconciler: reconciler, ledger: ledger, store: store,
            logger: logger)
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
        if let shared = context.shared {
            _ = try await lifecycle.start(.workQueue) { () throws(GatewayStartError) in
                WorkQueueDrainer.start(store: shared, stateStore: stateStore, reconciler: reconciler, logger: logger)
            }
        }
        return (
            Work(reconciler: reconciler, notifications: notifications.service, feed: feed, history: history), ledger
        )
    }

    /// What the Seam bridge asks before each code-changing call on a shared store; nil for flat files.
    private static func leaseConfirmation(_ shared: PostgresStore?) -> (@Sendable () async throws -> Void)? {
        guard let shared else { return nil }
        return { try await shared.confirmWorkLease() }
    }

    /// Hands `bookings` (oldest first) to the reconciler in chunks; returns `ledger`.
    private static func handOver(_ bookings: [StoredBooking], to reconciler: Reconciler, ledger: BookingLedger)
        async throws(GatewayStartError) -> BookingLedger
    {
        do {
            for chunk in BookingFeed.chunks(bookings) {
                try await reconciler.apply(chunk)
            }
        } catch {
            throw GatewayStartError(step: .storedBookings, stage: "reconciler", message: "\(error)")
        }
        return ledger
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
    /// reverse of the start order: the work (drift reconciliation, arrival checks, gauge refresher, history sweep,
    /// booking feed, reconciler, notifications), the listener, the work lease, the built-in fake Seam, the store.
    package func waitUntilStopped() async {
        await listener.waitUntilStopped()
        let starting = state.takeover.withLock { takeover -> Task<Void, Never>? in
            defer { takeover = .stopping }
            if case .starting(let task) = takeover { return task }
            return nil
        }
        await starting?.value
        await lifecycle.stop()
        logger.info("Latchkey stopped")
    }

    /// The work; it stops the process when there is none yet (a shared store's instance without the work lease).
    private func working() -> Work {
        guard let work = state.current else {
            preconditionFailure("this instance does not hold the work lease; await waitUntilWorking() first")
        }
        return work
    }

    /// Returns once this instance does the work: at once with flat files; on a shared store, once it holds the work
    /// lease and the work has started.
    package func waitUntilWorking() async {
        while state.current == nil {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Whether this instance does the work (always with flat files; the holder of the work lease on PostgreSQL).
    package var isWorking: Bool { state.current != nil }

    /// Returns once every acknowledged delivery has reached the reconciler and the reconciler has nothing queued
    /// or in flight (retries waiting for their backoff count as in flight).
    package func waitUntilIdle() async {
        let work = working()
        await work.feed.waitUntilDrained()
        await work.reconciler.waitUntilIdle()
    }

    /// Forgets now what the hourly sweep forgets: reservations whose access window ended more than
    /// ``LatchkeyConfiguration/historyRetentionDays`` ago, with their stored bookings (for tests and operators).
    /// - Returns: How many reservations were forgotten.
    @discardableResult
    package func forgetEndedReservations() async -> Int {
        await working().history.sweep()
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
