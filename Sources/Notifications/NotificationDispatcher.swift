import Bookings
import Foundation
import Logging
import Reconciler
import Seam
import WebhookAuth

/// Sends the notification outbox's events to the endpoints: in sequence order per reservation and endpoint (a
/// reservation's next event waits until the one before is delivered or given up), signed per Standard Webhooks,
/// retried with full-jitter backoff (``DeliveryPolicy``) for the endpoint's retry period, `Retry-After` honoured.
/// 2xx is delivered; 410 disables the endpoint (durably, until re-enabled through the admin API); anything else,
/// and a timeout or a connection failure, is retried. Each event keeps its `webhook-id` across attempts and
/// restarts, so a receiver de-duplicates by it.
///
/// One task; ``start()`` and ``stop()`` are the part's start and stop. Delivered and given-up events stay listed
/// (admin API) for ``retentionSeconds``, then leave the journal.
package actor NotificationDispatcher {
    /// How long a settled event stays in the outbox and the admin API: 7 days, in seconds.
    package static let retentionSeconds: TimeInterval = 7 * 86_400

    /// One endpoint's figures (admin API, `/metrics`).
    package struct EndpointStats: Sendable, Hashable {
        /// The endpoint's id.
        package var id: String
        /// Its URL without query or credentials.
        package var url: String
        /// Events not yet attempted.
        package var pending: Int
        /// Events attempted and failed, being retried.
        package var retrying: Int
        /// Events delivered since the start.
        package var delivered: Int
        /// Events given up since the start (retry period over).
        package var expired: Int
        /// Whether a 410 disabled it.
        package var disabled: Bool
        /// 410 answers that disabled it, since the start.
        package var disabledTimes: Int
    }

    /// A disabled endpoint's durable state (`notification/endpoint/<id>`).
    struct EndpointState: Codable, Hashable {
        var disabled: Bool
        var disabledAt: Date
        var reason: String
    }

    private struct Target: Hashable {
        var sequence: UInt64
        var endpoint: String
    }

    private enum Outcome {
        case delivered(status: Int)
        case gone
        case failed(reason: String, retryAfter: Double?)
    }

    private let endpoints: [NotificationEndpoint]
    private let transports: [String: any SeamTransport]
    private let store: any StateStore
    private let clock: any ReconcilerClock
    private let wallClock: @Sendable () -> Date
    private let jitter: @Sendable (Double) -> Double
    private let logger: Logger

    private var rows: [UInt64: StoredNotification] = [:]
    private var nextAttempt: [Target: Date] = [:]
    private var disabled: [String: EndpointState] = [:]
    private var delivered: [String: Int] = [:]
    private var expired: [String: Int] = [:]
    private var disables: [String: Int] = [:]
    private var lastPrune: Date?
    private var loop: Task<Void, Never>?
    private var waiter: CheckedContinuation<Void, Never>?
    private var wakeRequested = false
    private var stopped = false

    /// Creates a dispatcher; ``load()`` then ``start()`` before use.
    /// - Parameters:
    ///   - endpoints: The configured endpoints.
    ///   - store: The journal-backed store (the rows' and endpoint states' own key spaces).
    ///   - clock: Schedules retries and dates the retry period. Default ``SystemClock``.
    ///   - wallClock: The `webhook-timestamp` of each attempt (receivers check it against their own clock).
    ///     Default `Date()`.
    ///   - jitter: Picks a backoff in `0…ceiling` seconds. Default uniform random.
    ///   - makeTransport: The HTTP transport of an endpoint. Default `URLSession`, with the endpoint's timeout.
    ///   - logger: Deliveries (debug), give-ups and 410s (warning); never a body or a PIN.
    package init(
        endpoints: [NotificationEndpoint], store: any StateStore, clock: any ReconcilerClock = SystemClock(),
        wallClock: @escaping @Sendable () -> Date = { Date() },
        jitter: @escaping @Sendable (Double) -> Double = { Double.random(in: 0...max(0, $0)) },
        makeTransport: @Sendable (NotificationEndpoint) -> any SeamTransport = {
            URLSessionSeamTransport(
                requestTimeout: .seconds($0.policy.timeoutSeconds), resourceTimeout: .seconds($0.policy.timeoutSeconds))
        },
        logger: Logger = Logger(label: "latchkey.notifications")
    ) {
        self.endpoints = endpoints
        self.store = store
        self.clock = clock
        self.wallClock = wallClock
        self.jitter = jitter
        self.logger = logger
        transports = Dictionary(uniqueKeysWithValues: endpoints.map { ($0.id, makeTransport($0)) })
    }

    /// Reads the outbox and the disabled endpoints from the store.
    /// - Returns: The highest sequence in the outbox (0 when empty).
    /// - Throws: The store's errors, or ``NotificationError/corrupt(key:reason:)``.
    package func load() async throws -> UInt64 {
        let configured = Set(endpoints.map(\.id))
        for (key, bytes) in try await store.entries(prefix: StoreKeys.notifications) {
            var row = try NotificationCodec.decode(StoredNotification.self, from: bytes, key: key)
            // An endpoint removed from the configuration gets nothing more.
            row.deliveries = row.deliveries.filter { configured.contains($0.key) }
            rows[row.sequence] = row
        }
        for (key, bytes) in try await store.entries(prefix: StoreKeys.notificationEndpoints) {
            let id = String(key.dropFirst(StoreKeys.notificationEndpoints.count))
            disabled[id] = try NotificationCodec.decode(EndpointState.self, from: bytes, key: key)
        }
        return rows.keys.max() ?? 0
    }

    /// Starts the sending task.
    package func start() {
        guard loop == nil else { return }
        loop = Task { await self.run() }
    }

    /// Stops the task; returns once it has ended (an attempt in flight ends within its endpoint's timeout).
    /// Undelivered events stay in the outbox for the next start.
    package func stop() async {
        stopped = true
        wake()
        await loop?.value
        loop = nil
    }

    /// Takes events just made durable and wakes the task.
    /// - Parameter notifications: Outbox rows, in sequence order.
    package func enqueue(_ notifications: [StoredNotification]) {
        for notification in notifications { rows[notification.sequence] = notification }
        wake()
    }

    // MARK: - Views and operator actions

    /// The events of one reservation, oldest first (settled ones for 7 days).
    package func notifications(for key: ReservationKey) -> [StoredNotification] {
        rows.values.filter { $0.reservation == key }.sorted { $0.sequence < $1.sequence }
    }

    /// The events some endpoint has not taken: given up, or pending after a failed attempt; oldest first.
    package func troubled() -> [StoredNotification] {
        rows.values.filter { row in
            row.deliveries.values.contains { $0.state == .expired || ($0.state == .pending && $0.attempts > 0) }
        }.sorted { $0.sequence < $1.sequence }
    }

    /// Every endpoint's figures, in configuration order.
    package func stats() -> [EndpointStats] {
        endpoints.map { endpoint in
            var pending = 0
            var retrying = 0
            for row in rows.values {
                guard let delivery = row.deliveries[endpoint.id], delivery.state == .pending else { continue }
                if delivery.attempts == 0 { pending += 1 } else { retrying += 1 }
            }
            return EndpointStats(
                id: endpoint.id, url: endpoint.redactedURL, pending: pending, retrying: retrying,
                delivered: delivered[endpoint.id, default: 0], expired: expired[endpoint.id, default: 0],
                disabled: disabled[endpoint.id] != nil, disabledTimes: disables[endpoint.id, default: 0])
        }
    }

    /// Turns a disabled endpoint back on: its held events are sent again, in order.
    /// - Throws: ``NotificationError/unknownEndpoint(id:)``, or the store's errors.
    package func enable(endpointID id: String) async throws {
        guard endpoints.contains(where: { $0.id == id }) else { throw NotificationError.unknownEndpoint(id: id) }
        guard disabled[id] != nil else { return }
        try await store.commit([.delete(key: StoreKeys.notificationEndpoint(id))])
        disabled[id] = nil
        logger.debug("notification endpoint enabled again", metadata: ["endpoint": "\(id)"])
        wake()
    }

    // MARK: - The task

    private func run() async {
        while !stopped {
            let now = clock.now()
            await pruneIfDue(now: now)
            let (due, earliest) = dueTargets(now: now)
            if due.isEmpty {
                await waitForWork(until: earliest)
                continue
            }
            await withTaskGroup(of: (Target, Outcome).self) { group in
                for target in due.prefix(16) {
                    guard let row = rows[target.sequence],
                        let endpoint = endpoints.first(where: { $0.id == target.endpoint }),
                        let transport = transports[endpoint.id]
                    else { continue }
                    let timestamp = Int(wallClock().timeIntervalSince1970)
                    group.addTask { (target, await Self.send(row, to: endpoint, timestamp: timestamp, via: transport)) }
                }
                for await (target, outcome) in group {
                    await record(outcome, for: target)
                }
            }
        }
    }

    /// The deliveries due now (each reservation's first pending event per enabled endpoint), and the earliest
    /// time a later one is due.
    private func dueTargets(now: Date) -> (due: [Target], earliest: Date?) {
        var due: [Target] = []
        var earliest: Date?
        var heads: Set<String> = []
        for sequence in rows.keys.sorted() {
            guard let row = rows[sequence], !row.isSettled else { continue }
            for endpoint in endpoints where row.deliveries[endpoint.id]?.state == .pending {
                // Only the reservation's first pending event goes to this endpoint: order per reservation.
                guard heads.insert("\(endpoint.id) \(row.reservation)").inserted, disabled[endpoint.id] == nil else {
                    continue
                }
                let target = Target(sequence: sequence, endpoint: endpoint.id)
                let at = nextAttempt[target] ?? .distantPast
                if at <= now {
                    due.append(target)
                } else {
                    earliest = min(earliest ?? at, at)
                }
            }
        }
        return (due, earliest)
    }

    /// One attempt: the body for this endpoint, signed, posted.
    private static func send(
        _ row: StoredNotification, to endpoint: NotificationEndpoint, timestamp: Int, via transport: any SeamTransport
    ) async -> Outcome {
        let body = NotificationBody(row, includePIN: endpoint.includePIN).encoded()
        let headers: [(name: String, value: String)]
        do {
            headers = try NotificationSigner.headers(
                id: row.id, timestamp: timestamp, body: body, secret: endpoint.secret)
        } catch {
            return .failed(reason: error.description, retryAfter: nil)
        }
        do {
            let response = try await transport.send(
                SeamHTTPRequest(method: "POST", url: endpoint.url, headers: headers, body: Data(body)))
            switch response.status {
            case 200...299: return .delivered(status: response.status)
            case 410: return .gone
            default:
                let retryAfter = response.header("Retry-After").flatMap { RetryAfter.parse($0, now: Date()) }
                return .failed(
                    reason: "HTTP \(response.status)", retryAfter: retryAfter.map { max(0, $0.timeInterval) })
            }
        } catch {
            switch error {
            case .timedOut: return .failed(reason: "timed out", retryAfter: nil)
            case .cancelled: return .failed(reason: "cancelled", retryAfter: nil)
            case .connectionFailed(let reason): return .failed(reason: "connection failed: \(reason)", retryAfter: nil)
            }
        }
    }

    private func record(_ outcome: Outcome, for target: Target) async {
        guard var row = rows[target.sequence], var delivery = row.deliveries[target.endpoint],
            let endpoint = endpoints.first(where: { $0.id == target.endpoint })
        else { return }
        let now = clock.now()
        delivery.attempts += 1
        let metadata: Logger.Metadata = [
            "endpoint": "\(endpoint.id)", "webhook_id": "\(row.id)", "type": "\(row.type.rawValue)",
            "reservation": "\(row.reservation)", "attempt": "\(delivery.attempts)",
        ]
        switch outcome {
        case .delivered(let status):
            delivery.state = .delivered
            delivery.lastError = nil
            delivery.finishedAt = now
            delivered[endpoint.id, default: 0] += 1
            nextAttempt[target] = nil
            logger.debug("notification delivered", metadata: metadata.merging(["status": "\(status)"]) { $1 })
        case .gone:
            delivery.lastError = "HTTP 410"
            await disable(endpoint, now: now)
        case .failed(let reason, let retryAfter):
            delivery.lastError = reason
            if now.timeIntervalSince(row.occurredAt) >= Double(endpoint.policy.retryHours) * 3_600 {
                delivery.state = .expired
                delivery.finishedAt = now
                expired[endpoint.id, default: 0] += 1
                nextAttempt[target] = nil
                logger.warning(
                    "notification given up: retried for the endpoint's whole retry period",
                    metadata: metadata.merging(["error": "\(reason)", "hours": "\(endpoint.policy.retryHours)"]) { $1 })
            } else {
                let delay = endpoint.policy.backoff(
                    afterFailures: delivery.attempts, retryAfter: retryAfter, jitter: jitter)
                nextAttempt[target] = now.addingTimeInterval(delay)
                logger.debug(
                    "notification attempt failed; retrying",
                    metadata: metadata.merging(["error": "\(reason)", "retry_in_seconds": "\(Int(delay))"]) { $1 })
            }
        }
        row.deliveries[target.endpoint] = delivery
        rows[target.sequence] = row
        guard delivery.state != .pending else { return }
        do {
            // Settled: stored, so the next start does not send it again. Should this write fail, the next start
            // sends it once more (same webhook-id): at least once, never lost.
            try await store.commit(
                [.put(key: StoreKeys.notification(sequence: row.sequence), value: NotificationCodec.encode(row))])
        } catch {
            logger.warning(
                "notification outcome could not be stored; it may be sent again after a restart",
                metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// A 410: the endpoint is disabled (durably) with a log line; its events wait until it is enabled again.
    private func disable(_ endpoint: NotificationEndpoint, now: Date) async {
        let state = EndpointState(disabled: true, disabledAt: now, reason: "HTTP 410 Gone")
        disabled[endpoint.id] = state
        disables[endpoint.id, default: 0] += 1
        logger.warning(
            "notification endpoint disabled: it answered 410 Gone; enable it with POST /v1/notification-endpoints/\(endpoint.id)/enable",
            metadata: ["endpoint": "\(endpoint.id)", "url": "\(endpoint.redactedURL)"])
        do {
            try await store.commit(
                [.put(key: StoreKeys.notificationEndpoint(endpoint.id), value: NotificationCodec.encode(state))])
        } catch {
            logger.warning(
                "disabled notification endpoint could not be stored; a restart tries it again",
                metadata: ["endpoint": "\(endpoint.id)", "error": "\(error)"])
        }
    }

    /// Drops events settled more than ``retentionSeconds`` ago, at most once an hour.
    private func pruneIfDue(now: Date) async {
        if let lastPrune, now.timeIntervalSince(lastPrune) < 3_600 { return }
        lastPrune = now
        let old = rows.values.filter { row in
            row.isSettled
                && (row.deliveries.values.compactMap(\.finishedAt).max() ?? row.occurredAt)
                    < now.addingTimeInterval(-Self.retentionSeconds)
        }.map(\.sequence)
        guard !old.isEmpty else { return }
        do {
            try await store.commit(old.map { .delete(key: StoreKeys.notification(sequence: $0)) })
            for sequence in old { rows[sequence] = nil }
        } catch {
            logger.warning("old notifications could not be removed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Waiting

    private func wake() {
        wakeRequested = true
        waiter?.resume()
        waiter = nil
    }

    /// Returns at `deadline` (or never, for `nil`), when events arrive, an endpoint is enabled, or on stop.
    private func waitForWork(until deadline: Date?) async {
        if wakeRequested || stopped {
            wakeRequested = false
            return
        }
        let clock = self.clock
        let sleeper = deadline.map { deadline in
            Task {
                try? await clock.sleep(until: deadline)
                if !Task.isCancelled { self.wake() }
            }
        }
        await withCheckedContinuation { waiter = $0 }
        sleeper?.cancel()
        wakeRequested = false
    }
}
