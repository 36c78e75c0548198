import Bookings
import Configuration
import Foundation
import Logging
import Notifications
import Observability
import Reconciler
import Store
import WebhookAuth

/// The notifications part (``StartStep/notifications``): the outbox written through the reconciler's store and
/// its dispatcher, plus the task that copies its figures into `/metrics`. Without `notifications:` in the
/// configuration it holds nothing and the reconciler gets the journal's store as it is.
struct NotificationPart: LongRunning {
    /// The running service, or `nil` when no endpoint is configured.
    let service: NotificationService?
    private let refresher: PeriodicTask?

    /// The endpoints of `configuration` with their secrets resolved (run in ``StartStep/secrets``).
    /// - Throws: ``GatewayStartError`` naming the endpoint whose secret is missing or not a `whsec_` secret.
    static func endpoints(_ configuration: LatchkeyConfiguration, environment: [String: String])
        throws(GatewayStartError) -> [NotificationEndpoint]
    {
        var endpoints: [NotificationEndpoint] = []
        for (index, settings) in configuration.notifications.enumerated() {
            let stage = "notifications[\(index)].secret"
            do {
                guard let url = URL(string: settings.url),
                    let secret = try settings.secret.resolve(environment: environment)
                else {
                    throw GatewayStartError(
                        step: .secrets, stage: stage,
                        message: "\(settings.secret) is unset or empty; set it to the endpoint's whsec_ secret")
                }
                endpoints.append(
                    try NotificationEndpoint(
                        url: url, secret: Secret(secret),
                        events: Set(settings.events.compactMap(NotificationType.init(rawValue:))),
                        includePIN: settings.includePIN,
                        policy: DeliveryPolicy(
                            timeoutSeconds: settings.timeoutSeconds,
                            maxBackoffSeconds: Double(settings.maxBackoffSeconds), retryHours: settings.retryHours)))
            } catch let error as GatewayStartError {
                throw error
            } catch {
                throw GatewayStartError(step: .secrets, stage: stage, message: "\(error)")
            }
        }
        return endpoints
    }

    /// Starts the service when there are endpoints.
    /// - Parameters:
    ///   - endpoints: The resolved endpoints; none starts nothing.
    ///   - configuration: The properties (name and zone in each event).
    ///   - store: The reconciler's state in the journal or PostgreSQL.
    ///   - clock: Dates events and schedules retries (a test clock only in checks, see `serve --unsafe-test-clock-file`).
    ///   - metrics: Receives the per-endpoint figures every 2 s.
    ///   - logger: The root logger.
    /// - Throws: ``GatewayStartError`` at ``StartStep/notifications`` when the outbox cannot be read.
    static func start(
        endpoints: [NotificationEndpoint], configuration: LatchkeyConfiguration, store: StoreStateStore,
        clock: any ReconcilerClock, metrics: Metrics, logger: Logger
    ) async throws(GatewayStartError) -> NotificationPart {
        guard !endpoints.isEmpty else { return NotificationPart(service: nil, refresher: nil) }
        let service: NotificationService
        do {
            service = try await NotificationService.start(
                endpoints: endpoints, properties: configuration.properties, store: store,
                clock: clock, logger: logger)
        } catch {
            throw GatewayStartError(step: .notifications, stage: "notification outbox", message: "\(error)")
        }
        let gauges = NotificationMetrics(registry: metrics.registry)
        let dispatcher = service.dispatcher
        let refresher = PeriodicTask {
            while !Task.isCancelled {
                gauges.update(await dispatcher.stats())
                try? await Task.sleep(for: .seconds(2))
            }
        }
        return NotificationPart(service: service, refresher: refresher)
    }

    /// Stops the refresher, then the dispatcher (an attempt in flight ends within its endpoint's timeout).
    func stop() async {
        await refresher?.stop()
        await service?.stop()
    }
}

/// The notification figures in `/metrics`, per endpoint id.
struct NotificationMetrics: Sendable {
    /// `latchkey_notifications{endpoint,state}`: events waiting (`pending`) or being retried (`retrying`).
    let waiting: Gauge
    /// `latchkey_notification_endpoint_disabled{endpoint}`: 1 while a 410 keeps the endpoint disabled.
    let disabled: Gauge
    /// `latchkey_notifications_delivered_total{endpoint}`.
    let delivered: Counter
    /// `latchkey_notifications_expired_total{endpoint}`: given up after the retry period.
    let expired: Counter
    /// `latchkey_notification_endpoint_disables_total{endpoint}`: 410 answers that disabled it.
    let disables: Counter

    /// Declares the families in `registry`.
    init(registry: MetricsRegistry) {
        waiting = registry.makeGauge(
            name: "latchkey_notifications",
            help: "Notification deliveries not yet done, by endpoint and state "
                + "(pending: not yet attempted; retrying: failed and waiting for the next attempt).",
            labelNames: ["endpoint", "state"])
        disabled = registry.makeGauge(
            name: "latchkey_notification_endpoint_disabled",
            help: "1 while a notification endpoint is disabled (it answered 410 Gone), else 0.",
            labelNames: ["endpoint"])
        delivered = registry.makeCounter(
            name: "latchkey_notifications_delivered_total", help: "Notifications delivered (2xx), by endpoint.",
            labelNames: ["endpoint"])
        expired = registry.makeCounter(
            name: "latchkey_notifications_expired_total",
            help: "Notifications given up after the endpoint's retry period, by endpoint.", labelNames: ["endpoint"])
        disables = registry.makeCounter(
            name: "latchkey_notification_endpoint_disables_total",
            help: "Times a notification endpoint was disabled by a 410 Gone answer.", labelNames: ["endpoint"])
    }

    /// Sets every series from the dispatcher's figures (counters raised to its totals since the start).
    func update(_ stats: [NotificationDispatcher.EndpointStats]) {
        for endpoint in stats {
            let labels = [endpoint.id]
            waiting.set(Double(endpoint.pending), labels: [endpoint.id, "pending"])
            waiting.set(Double(endpoint.retrying), labels: [endpoint.id, "retrying"])
            disabled.set(endpoint.disabled ? 1 : 0, labels: labels)
            for (counter, total) in [
                (delivered, endpoint.delivered), (expired, endpoint.expired), (disables, endpoint.disabledTimes),
            ] {
                let counted = counter.value(labels: labels)
                if Double(total) > counted { counter.increment(by: Double(total) - counted, labels: labels) }
            }
        }
    }
}
