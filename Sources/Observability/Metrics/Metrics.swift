/// Latchkey's metrics, declared in one place so that names, labels, units and buckets are not scattered.
///
/// Label values must come from small closed sets, never from request data: `route` is the route pattern
/// (`/webhooks/{source}`), never the path; `source` is a configured source name (or `unknown`).
package struct Metrics: Sendable {
    /// The registry every metric below lives in; render it for `GET /metrics`.
    package let registry: MetricsRegistry

    /// `latchkey_http_requests_total{route,status}`: HTTP requests answered.
    package let httpRequests: Counter
    /// `latchkey_webhook_signature_failures_total{source,reason}`: deliveries refused by authentication.
    package let signatureFailures: Counter
    /// `latchkey_webhook_deliveries_total{source,result}`: deliveries by result (`accepted`, `duplicate`, `rejected`).
    package let deliveries: Counter
    /// `latchkey_journal_fsync_duration_seconds`: time of one `fdatasync` of the journal.
    package let journalFsyncDuration: Histogram
    /// `latchkey_journal_group_commit_batch_size`: records made durable by one group commit.
    package let groupCommitBatchSize: Histogram
    /// `latchkey_outbox_depth`: intents waiting in the outbox.
    package let outboxDepth: Gauge
    /// `latchkey_outbox_oldest_intent_age_seconds`: age of the oldest waiting intent (0 when empty).
    package let outboxOldestIntentAge: Gauge
    /// `latchkey_dead_letters`: intents given up on, waiting for an operator.
    package let deadLetters: Gauge
    /// `latchkey_seam_requests_total{route,outcome}`: calls to Seam by outcome.
    package let seamRequests: Counter
    /// `latchkey_seam_request_duration_seconds{route,outcome}`: latency of calls to Seam.
    package let seamRequestDuration: Histogram
    /// `latchkey_access_code_groups{state}`: linked access-code groups by state.
    package let accessCodeGroups: Gauge
    /// `latchkey_reconciler_stuck_reservations_total`: reservations found with work to do but none queued, in
    /// flight or dead-lettered, each put back to work (0 unless something is wrong).
    package let stuckReservations: Counter
    /// The pre-arrival checks' and the drift reconciliation's counters.
    package let assurance: AssuranceMetrics

    /// Upper bounds for `fdatasync` latency, seconds: 0.5 ms … 2.5 s.
    package static let fsyncBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
    ]
    /// Upper bounds for group-commit batch sizes, records: 1 … 512.
    package static let batchSizeBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    /// Upper bounds for Seam call latency, seconds: 25 ms … 30 s.
    package static let seamLatencyBuckets: [Double] = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// Declares every metric in `registry`.
    /// - Parameter registry: Where to declare them; default a new registry. A registry takes one `Metrics`.
    package init(registry: MetricsRegistry = MetricsRegistry()) {
        self.registry = registry
        httpRequests = registry.makeCounter(
            name: "latchkey_http_requests_total", help: "HTTP requests answered, by route pattern and status code.",
            labelNames: ["route", "status"])
        signatureFailures = registry.makeCounter(
            name: "latchkey_webhook_signature_failures_total",
            help: "Webhook deliveries refused by authentication, by source and reason.",
            labelNames: ["source", "reason"])
        deliveries = registry.makeCounter(
            name: "latchkey_webhook_deliveries_total",
            help: "Webhook deliveries by source and result (accepted, duplicate, rejected).",
            labelNames: ["source", "result"])
        journalFsyncDuration = registry.makeHistogram(
            name: "latchkey_journal_fsync_duration_seconds", help: "Duration of one journal fdatasync, in seconds.",
            buckets: Self.fsyncBuckets)
        groupCommitBatchSize = registry.makeHistogram(
            name: "latchkey_journal_group_commit_batch_size", help: "Records made durable by one group commit.",
            buckets: Self.batchSizeBuckets)
        outboxDepth = registry.makeGauge(name: "latchkey_outbox_depth", help: "Intents waiting in the outbox.")
        outboxOldestIntentAge = registry.makeGauge(
            name: "latchkey_outbox_oldest_intent_age_seconds",
            help: "Age of the oldest intent waiting in the outbox, in seconds (0 when empty).")
        deadLetters = registry.makeGauge(
            name: "latchkey_dead_letters", help: "Intents given up on, waiting for an operator.")
        seamRequests = registry.makeCounter(
            name: "latchkey_seam_requests_total", help: "Calls to the Seam API, by route and outcome.",
            labelNames: ["route", "outcome"])
        seamRequestDuration = registry.makeHistogram(
            name: "latchkey_seam_request_duration_seconds", help: "Latency of calls to the Seam API, in seconds.",
            labelNames: ["route", "outcome"], buckets: Self.seamLatencyBuckets)
        accessCodeGroups = registry.makeGauge(
            name: "latchkey_access_code_groups", help: "Linked access-code groups by state.", labelNames: ["state"])
        stuckReservations = registry.makeCounter(
            name: "latchkey_reconciler_stuck_reservations_total",
            help: "Reservations found with work to do but none queued, in flight or dead-lettered; each was put back "
                + "to work.")
        assurance = AssuranceMetrics(registry: registry)
    }

    /// The answer to a scrape of `GET /metrics`: every metric, gzip-compressed when `acceptEncoding` allows it.
    /// - Parameter acceptEncoding: The scraper's `Accept-Encoding` header value, if any.
    /// - Returns: Body and header fields for the response.
    package func exposition(acceptEncoding: String?) -> MetricsExposition {
        registry.exposition(acceptEncoding: acceptEncoding)
    }

    // MARK: - Recording, one call per event

    /// Counts one answered HTTP request.
    /// - Parameters:
    ///   - route: The route pattern (`/webhooks/{source}`), or `unmatched`; never the raw path.
    ///   - status: The status code sent.
    package func recordHTTPRequest(route: String, status: Int) {
        httpRequests.increment(labels: [route, String(status)])
    }

    /// Counts one delivery refused by authentication (also counted as `rejected` by ``recordDelivery(source:result:)``).
    /// - Parameters:
    ///   - source: The configured source name.
    ///   - reason: A short stable reason: `missing_header`, `bad_signature`, `stale_timestamp`, …
    package func recordSignatureFailure(source: String, reason: String) {
        signatureFailures.increment(labels: [source, reason])
    }

    /// Counts one delivery by its result.
    package func recordDelivery(source: String, result: DeliveryResult) {
        deliveries.increment(labels: [source, result.rawValue])
    }

    /// Records one journal `fdatasync`.
    /// - Parameter seconds: How long it took.
    package func observeJournalFsync(seconds: Double) {
        journalFsyncDuration.observe(seconds)
    }

    /// Records one group commit.
    /// - Parameter records: How many records it made durable.
    package func observeGroupCommit(records: Int) {
        groupCommitBatchSize.observe(Double(records))
    }

    /// Sets the outbox gauges.
    /// - Parameters:
    ///   - depth: Intents waiting.
    ///   - oldestIntentAge: Seconds since the oldest waiting intent was written; 0 when `depth` is 0.
    package func setOutbox(depth: Int, oldestIntentAge: Double) {
        outboxDepth.set(Double(depth))
        outboxOldestIntentAge.set(depth == 0 ? 0 : oldestIntentAge)
    }

    /// Sets the dead-letter gauge.
    package func setDeadLetters(_ count: Int) {
        deadLetters.set(Double(count))
    }

    /// Records one call to Seam: its count and its latency.
    /// - Parameters:
    ///   - route: The Seam route (`/access_codes/create_multiple`).
    ///   - outcome: What came of it.
    ///   - seconds: How long it took, until the answer or the failure.
    package func recordSeamCall(route: String, outcome: SeamCallOutcome, seconds: Double) {
        let labels = [route, outcome.rawValue]
        seamRequests.increment(labels: labels)
        seamRequestDuration.observe(seconds, labels: labels)
    }

    /// Sets the group gauge for every state at once; states missing from `counts` are set to 0.
    /// - Parameter counts: Groups per state.
    package func setAccessCodeGroups(_ counts: [AccessCodeGroupState: Int]) {
        for state in AccessCodeGroupState.allCases {
            accessCodeGroups.set(Double(counts[state] ?? 0), labels: [state.rawValue])
        }
    }
}

/// What became of one webhook delivery.
package enum DeliveryResult: String, Sendable, CaseIterable {
    /// Recorded durably and answered 202.
    case accepted
    /// Seen before (same idempotency key); answered 200 with the first answer.
    case duplicate
    /// Refused: bad signature, malformed, too large, unknown type.
    case rejected
    /// Authentic and well-formed, but an event type Latchkey does not act on; answered 200.
    case ignored
}

/// What came of one call to Seam.
package enum SeamCallOutcome: String, Sendable, CaseIterable {
    /// A 2xx answer.
    case success
    /// 429: rate limited.
    case rateLimited = "rate_limited"
    /// Another 4xx: the request was refused and retrying will not help.
    case clientError = "client_error"
    /// A 5xx answer.
    case serverError = "server_error"
    /// No answer: connection refused or reset, DNS, TLS.
    case transportError = "transport_error"
    /// No answer in time.
    case timeout
    /// Not called: the circuit breaker is open because Seam looks down.
    case circuitOpen = "circuit_open"
}

/// The state of a reservation's linked access-code group, as counted by `latchkey_access_code_groups`.
package enum AccessCodeGroupState: String, Sendable, CaseIterable {
    /// Desired but not yet created (an intent is queued or retrying).
    case pending
    /// Created on every lock, window as desired.
    case active
    /// Dates unknown; nothing to create yet.
    case waiting
    /// Being removed after a cancellation or a move.
    case removing
    /// Given up on; in the dead letters.
    case failed
}
