import HTTPServer
import Observability
import Store
import Synchronization

/// `GET /healthz` (the process answers), `GET /readyz` (it should get traffic), `GET /metrics` (Prometheus).
struct OperationalRoutes: Sendable {
    let store: any DurableStore
    let metrics: Metrics
    let isDraining: @Sendable () -> Bool
    /// On a store shared by instances: whether this one holds the work lease (`/readyz` says `work_lease`).
    let holdsWorkLease: (@Sendable () -> Bool)?
    private let probe = WriteProbe()

    init(
        store: any DurableStore, metrics: Metrics, isDraining: @escaping @Sendable () -> Bool,
        holdsWorkLease: (@Sendable () -> Bool)? = nil
    ) {
        self.store = store
        self.metrics = metrics
        self.isDraining = isDraining
        self.holdsWorkLease = holdsWorkLease
    }

    /// The `/healthz` answer, encoded once: a liveness probe must cost the listener as little as possible
    /// (encoding it per request with `JSONEncoder` was ~15 % of the server's CPU under load).
    static let healthy = HTTPResponse.json(status: 200, ["status": "ok"])

    func register(on router: inout Router) {
        router.add("GET", "/healthz") { _ in Self.healthy }
        router.add("GET", "/readyz") { [store, isDraining, probe, holdsWorkLease] _ in
            var problems: [String] = []
            if isDraining() { problems.append("shutting down") }
            if !store.isWritable {
                problems.append("the store cannot be written (see the log); deliveries get 503")
                // Only a successful write marks the store writable again; a balancer that waits for /readyz sends
                // none, so each poll tries one empty commit and a later poll sees the outcome.
                probe.start(store)
            }
            guard problems.isEmpty else {
                return .error(
                    status: 503, type: "not_ready", message: problems.joined(separator: "; "),
                    headers: ["Retry-After": "5"])
            }
            guard let holdsWorkLease else { return .json(status: 200, ["status": "ready"]) }
            return .json(status: 200, ["status": "ready", "work_lease": holdsWorkLease() ? "held" : "waiting"])
        }
        router.add("GET", "/metrics") { [metrics] request in
            let exposition = metrics.exposition(acceptEncoding: request.headers["Accept-Encoding"])
            var headers = HTTPHeaders()
            for field in exposition.headerFields { headers.add(name: field.name, value: field.value) }
            return HTTPResponse(status: 200, headers: headers, body: exposition.body)
        }
    }
}

/// At most one empty commit in flight, to find out whether a store that failed can write again.
final class WriteProbe: Sendable {
    private let inFlight = Atomic<Bool>(false)

    /// Commits an empty transaction unless one is already on its way.
    func start(_ store: any DurableStore) {
        guard inFlight.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        store.commit(Transaction()) { [self] _ in inFlight.store(false, ordering: .releasing) }
    }
}

/// Counts every answer by route family and status for `latchkey_http_requests_total`.
struct MeteredHandler<Routes: HTTPHandler>: HTTPHandler {
    let router: Routes
    let metrics: Metrics

    func handle(_ request: HTTPRequest, responder: Responder) {
        let route = Self.routeLabel(request.path)
        router.handle(
            request,
            responder: Responder { [metrics] response in
                metrics.recordHTTPRequest(route: route, status: response.status)
                responder(response)
            })
    }

    /// A bounded label: the route family, never the raw path (which a client chooses).
    static func routeLabel(_ path: String) -> String {
        if path.hasPrefix("/webhooks/") { return "/webhooks/{source}" }
        if path.hasPrefix("/v1/reservations/") { return "/v1/reservations" }
        if path.hasPrefix("/v1/outbox/") { return "/v1/outbox/{id}/retry" }
        if path == "/console" || path.hasPrefix("/console/") { return "/console" }
        switch path {
        case "/healthz", "/readyz", "/metrics", "/seam/webhooks", "/v1/outbox", "/v1/dead-letters": return path
        default: return "other"
        }
    }
}
