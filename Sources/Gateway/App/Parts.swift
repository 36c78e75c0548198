import Configuration
import FakeSeam
import Foundation
import HTTPServer
import Intake
import Logging
import Observability
import PostgresStore
import Reconciler
import Seam
import Store

// The gateway's long-running parts, each with its start and its stop. `LatchkeyGateway.init` starts them through
// a `Lifecycle`, in the order of `StartStep`; the lifecycle stops them in the reverse order.

/// The store is a part: for flat files the data directory's lock, the journal writer thread `lk-journal`, and
/// `lk-compactor` while a compaction runs; for PostgreSQL the pool's connections and their threads `lk-pg-N`.
struct StorePart: LongRunning {
    /// The open store.
    let store: any DurableStore

    /// Opens the store the configuration names, with the gateway's metrics and log lines attached.
    /// - Parameters:
    ///   - configuration: The data directory and idempotency retention.
    ///   - metrics: Receives fsync times and group-commit sizes.
    ///   - logger: The root logger.
    /// - Returns: The open store.
    ///   - environment: The process environment, for the PostgreSQL connection string's secret.
    /// - Throws: ``GatewayStartError`` at ``StartStep/store``, naming the data directory or PostgreSQL.
    static func open(
        for configuration: LatchkeyConfiguration, metrics: Metrics, environment: [String: String], logger: Logger
    ) throws(GatewayStartError) -> StorePart {
        switch configuration.store.backend {
        case .flatFiles:
            return StorePart(store: try openFlatFiles(for: configuration, metrics: metrics, logger: logger))
        case .postgresql:
            return StorePart(store: try openPostgreSQL(for: configuration, environment: environment, logger: logger))
        }
    }

    /// The PostgreSQL settings of `configuration` (`store.postgresql`), the connection string resolved.
    static func postgresConfiguration(_ configuration: LatchkeyConfiguration, environment: [String: String])
        throws(GatewayStartError) -> PostgresStoreConfiguration
    {
        do {
            return try PostgresStoreConfiguration(configuration, environment: environment)
        } catch {
            throw GatewayStartError(step: .store, stage: "store.postgresql.url", message: error.description)
        }
    }

    /// Connects to PostgreSQL (`store.postgresql`) and checks its schema.
    private static func openPostgreSQL(
        for configuration: LatchkeyConfiguration, environment: [String: String], logger: Logger
    ) throws(GatewayStartError) -> PostgresStore {
        let storeConfiguration = try postgresConfiguration(configuration, environment: environment)
        do {
            return try PostgresStore.open(configuration: storeConfiguration, logger: logger)
        } catch {
            throw GatewayStartError(step: .store, stage: "PostgreSQL", message: error.description)
        }
    }

    /// Opens the journal in `configuration`'s data directory.
    private static func openFlatFiles(for configuration: LatchkeyConfiguration, metrics: Metrics, logger: Logger)
        throws(GatewayStartError) -> Store
    {
        let retention = Duration.seconds(configuration.idempotencyRetentionDays * 86_400)
        var storeConfiguration = StoreConfiguration(idempotencyRetention: retention)
        storeConfiguration.onBatchSynced = { records, fsyncSeconds in
            metrics.observeJournalFsync(seconds: fsyncSeconds)
            metrics.observeGroupCommit(records: records)
        }
        // A group commit's completions share one `write` for their "delivery accepted" lines, not one each.
        storeConfiguration.aroundCompletions = { LogLines.gathered($0) }
        do {
            return try Store.open(at: configuration.dataDirectory, configuration: storeConfiguration, logger: logger)
        } catch {
            throw GatewayStartError(
                step: .store, stage: "data directory \(configuration.dataDirectory)", message: error.description)
        }
    }

    /// Closes the store (``DurableStore/close()``: queued commits finish, then the journal's files close and its
    /// lock is released, or PostgreSQL's connections close), waiting on a thread of its own.
    func stop() async {
        await waitOnOwnThread { store.close() }
    }
}

/// Where access codes go: Seam itself when there is an API key, else the built-in fake Seam, which this part runs
/// (its listener thread, `lk-http-<port>`).
struct SeamConnection: LongRunning {
    /// The client the reconciler calls Seam with.
    let client: SeamClient
    /// Where the client points, for logs and the start banner.
    let target: LatchkeyGateway.SeamTarget
    /// The built-in fake, when there is no API key.
    let fake: FakeSeamServer?

    /// Connects to Seam, or starts the built-in fake when `apiKey` is nil.
    /// - Parameters:
    ///   - settings: `seam:` of the configuration.
    ///   - apiKey: The resolved API key, or nil for the built-in fake.
    ///   - environment: The process environment (`SEAM_ENDPOINT`).
    ///   - fakeConfiguration: How to run the built-in fake.
    ///   - sandboxWebhooks: Sends the built-in fake's webhooks to Latchkey's own route, or nil.
    ///   - logger: The root logger.
    /// - Returns: The connection, with the fake serving if there is one.
    /// - Throws: ``GatewayStartError`` at ``StartStep/seam`` for an unusable endpoint, credentials or fake's port.
    static func start(
        settings: SeamSettings, apiKey: String?, environment: [String: String],
        fakeConfiguration: FakeSeamConfiguration, sandboxWebhooks: SandboxWebhooks?, logger: Logger
    ) throws(GatewayStartError) -> SeamConnection {
        do {
            guard let apiKey else {
                // Everything that can fail comes before the fake starts, so a failure leaves nothing to stop.
                let credentials = try SeamCredentials(
                    apiKey: fakeConfiguration.apiKeys.sorted().first ?? "seam_test_key")
                var fakeConfiguration = fakeConfiguration
                if let sandboxWebhooks, fakeConfiguration.webhook == nil {
                    fakeConfiguration.webhook = sandboxWebhooks.target
                }
                let fake = try FakeSeamServer(
                    port: 0, configuration: fakeConfiguration,
                    webhookTransport: fakeConfiguration.webhook == nil ? nil : sandboxWebhooks?.transport,
                    logger: logger)
                fake.start()
                let client = SeamClient(
                    configuration: SeamConfiguration(endpoint: fake.url), credentials: credentials, logger: logger)
                return SeamConnection(client: client, target: .builtInFake(fake.url), fake: fake)
            }
            let endpoint: URL
            if let configured = settings.endpoint, let url = URL(string: configured) {
                endpoint = url
            } else {
                endpoint = try SeamConfiguration.endpoint(environment: environment)
            }
            let credentials =
                try settings.workspaceID.map { id throws(SeamCredentialsError) in
                    try SeamCredentials(personalAccessToken: apiKey, workspaceID: id)
                } ?? SeamCredentials(apiKey: apiKey)
            let client = SeamClient(
                configuration: SeamConfiguration(
                    endpoint: endpoint, requestTimeout: .seconds(settings.requestTimeoutSeconds)),
                credentials: credentials, logger: logger)
            return SeamConnection(client: client, target: .seam(endpoint), fake: nil)
        } catch {
            throw GatewayStartError(step: .seam, stage: "seam", message: "\(error)")
        }
    }

    /// Stops the built-in fake, if it runs (in-flight calls are answered or cut after 1 s).
    func stop() async {
        guard let fake else { return }
        await waitOnOwnThread { fake.stop() }
    }
}

/// The reconciler is a part: its ``Reconciler/stop()`` cancels calls in flight and awaits its worker tasks and its
/// invariant sweeper.
extension Reconciler: LongRunning {}

/// The booking feed is a part: its task that hands acknowledged bookings to the reconciler.
extension BookingFeed: LongRunning {
    /// Finishes the feed (``BookingFeed/finish()``): the chunk in hand is applied, the backlog left for the next
    /// start, and its task has ended when this returns.
    package func stop() async {
        await finish()
    }
}

/// A task that repeats until cancelled: the gauge refresher, the history-retention sweep, the pre-arrival checks,
/// the drift reconciliation.
struct PeriodicTask: LongRunning {
    private let task: Task<Void, Never>

    /// Starts `body` in a task of its own.
    /// - Parameter body: Repeats until its task is cancelled, then returns.
    init(_ body: @escaping @Sendable () async -> Void) {
        task = Task(operation: body)
    }

    /// Runs `body` every `interval` (on the system's clock), the first time after `firstAfter`, until stopped.
    /// - Parameters:
    ///   - interval: The pause between the end of one run and the start of the next.
    ///   - firstAfter: The pause before the first run; default `interval`.
    ///   - body: One run; a run under way when the task is stopped sees its task cancelled.
    init(every interval: Duration, firstAfter: Duration? = nil, _ body: @escaping @Sendable () async -> Void) {
        self.init {
            var pause = firstAfter ?? interval
            while !Task.isCancelled {
                do { try await Task.sleep(for: pause) } catch { return }
                await body()
                pause = interval
            }
        }
    }

    /// Cancels the task and waits until it has ended.
    func stop() async {
        task.cancel()
        await task.value
    }
}

/// The listener: its sockets on the port and its event-loop threads (`lk-http-<port>`, one per loop).
struct Listener: LongRunning {
    /// The HTTP server.
    let server: HTTPServer

    /// Binds `settings`' address and starts serving with `handler`.
    /// - Parameters:
    ///   - settings: `server:` of the configuration.
    ///   - handler: What answers requests.
    ///   - handlesSignals: Whether SIGTERM/SIGINT begin a graceful shutdown.
    ///   - logger: The root logger.
    /// - Returns: The serving listener.
    /// - Throws: ``GatewayStartError`` at ``StartStep/listener`` when the address cannot be bound or a limit is
    ///   unusable.
    static func start(
        _ settings: ServerSettings, handler: any HTTPHandler, handlesSignals: Bool, logger: Logger
    ) throws(GatewayStartError) -> Listener {
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
                handler: handler, logger: logger)
        } catch {
            throw GatewayStartError(
                step: .listener, stage: "listener \(settings.host):\(settings.port)", message: error.description)
        }
        server.start()
        return Listener(server: server)
    }

    /// Waits until the listener has drained and its threads have ended, whoever began the shutdown (SIGTERM,
    /// ``stop()``).
    func waitUntilStopped() async {
        await waitOnOwnThread { server.waitUntilStopped() }
    }

    /// Begins a graceful shutdown (idempotent) and waits until it is done.
    func stop() async {
        server.beginShutdown()
        await waitUntilStopped()
    }
}

extension PostgresStoreConfiguration {
    /// The store's configuration from `store.postgresql` and `idempotency_retention_days`, the connection string
    /// resolved from its secret.
    /// - Parameters:
    ///   - configuration: The configuration (its backend `postgresql`).
    ///   - environment: The process environment.
    /// - Throws: ``ConfigurationError`` when the connection string is missing or its file unreadable.
    package init(_ configuration: LatchkeyConfiguration, environment: [String: String]) throws(ConfigurationError) {
        guard let settings = configuration.store.postgresql,
            let url = try settings.url.resolve(environment: environment)
        else {
            throw ConfigurationError(
                key: "store.postgresql.url", line: nil,
                message:
                    "no PostgreSQL connection string: set store.postgresql.url (e.g. {env: LATCHKEY_DATABASE_URL}) and "
                    + "give that variable a value")
        }
        self.init(
            url: url, poolSize: settings.poolSize, connectTimeoutSeconds: settings.connectTimeoutSeconds,
            statementTimeoutSeconds: settings.statementTimeoutSeconds,
            idempotencyRetention: .seconds(configuration.idempotencyRetentionDays * 86_400))
    }
}
