import Foundation
import HTTPServer
import Logging
import Synchronization

/// A fake Seam Connect server: owns the fake's state and answers Seam's access-code routes with Seam's wire
/// shapes, plus the `/_fake/*` control routes. Serve it with any listener through ``handler``.
///
/// API routes (Bearer API key required): `/access_codes/{create, create_multiple, update, update_multiple,
/// delete, get, list}`, `/devices/{list, get}`, `/action_attempts/get`, `/events/list`, each with the verbs
/// seam-api.md §1.2 lists, parameters from the JSON body or the query string. Control routes (no auth):
/// `GET /_fake/state`, `POST /_fake/reset`, `POST /_fake/clock`, `GET|POST /_fake/faults`,
/// `POST /_fake/devices/set_online`.
package final class FakeSeamService: Sendable {
    /// The state and the fault machinery, under one lock.
    struct Core: Sendable {
        /// Devices, codes, attempts, events, limits and counters.
        var state: FakeSeamState
        /// The fake's time.
        var clock: ClockState
        /// The faults in force.
        var faults: FaultConfiguration
        /// The RNG fractional faults draw from.
        var faultRandom: SeededRandom
    }

    /// The configuration it started with (reset returns here).
    package let configuration: FakeSeamConfiguration
    private let core: Mutex<Core>
    private let logger: Logger
    private let webhookSender: WebhookSender?

    /// Creates a fake.
    /// - Parameters:
    ///   - configuration: Keys, seed, faults, clock, timing and webhook.
    ///   - webhookSigner: Makes the `svix-*` headers; default signs with WebhookAuth's Standard Webhooks signer
    ///     and the configuration's secret.
    ///   - webhookTransport: Sends one webhook request; default URLSession (tests inject their own).
    ///   - logger: Where the fake logs (debug and notice only).
    package init(
        configuration: FakeSeamConfiguration = FakeSeamConfiguration(),
        webhookSigner: WebhookSender.Signer? = nil,
        webhookTransport: WebhookSender.Transport? = nil,
        logger: Logger = Logger(label: "latchkey.fake-seam")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.core = Mutex(Self.makeCore(configuration, clock: ClockState(source: configuration.clock)))
        if let target = configuration.webhook {
            let signer = webhookSigner ?? SvixSigning.signer(secret: target.secret)
            self.webhookSender = WebhookSender(
                target: target, sign: signer, logger: logger, transport: webhookTransport)
        } else {
            self.webhookSender = nil
        }
    }

    private static func makeCore(_ configuration: FakeSeamConfiguration, clock: ClockState) -> Core {
        var state = FakeSeamState(
            seed: configuration.seed, timing: configuration.timing, randomSeed: configuration.faults.seed)
        state.enforceRateLimits = configuration.faults.enforceDeviceRateLimits
        return Core(
            state: state, clock: clock, faults: configuration.faults,
            faultRandom: SeededRandom(seed: configuration.faults.seed))
    }

    /// The handler to give a listener: every route above, with `seam-request-id` on every answer.
    package var handler: any HTTPHandler { FakeSeamHandler(router: makeRouter(), logger: logger) }

    // MARK: - Control from Swift

    /// The fake's current time.
    package var now: Date { core.withLock { $0.clock.now() } }

    /// Moves the fake's clock forward and carries every code along (events are sent).
    package func advanceClock(by seconds: TimeInterval) {
        withSettledCore { core in core.clock.advance(by: seconds) }
    }

    /// Runs `body` on the core after settling it to the current time, before and after (so a clock change
    /// in `body` is carried out too), and hands any new events to the webhook sender.
    @discardableResult
    private func withSettledCore<T>(_ body: (inout Core) -> T) -> T {
        let (value, events) = core.withLock { core -> (T, [SeamEvent]) in
            core.state.settle(now: core.clock.now())
            let value = body(&core)
            core.state.settle(now: core.clock.now())
            return (value, core.state.takeUndeliveredEvents())
        }
        webhookSender?.enqueue(events)
        return value
    }

    /// Carries every code to the current time (for a ``FakeClock/system`` clock, call it now and then).
    package func settle() { advanceClock(by: 0) }

    /// Settles every `interval` until the returned task is cancelled, so a ``FakeClock/system`` fake sets and
    /// removes codes (and sends their webhooks) without waiting for a request. Default interval 1 s.
    package func startClockTicker(every interval: Duration = .seconds(1)) -> Task<Void, Never> {
        Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                self.settle()
            }
        }
    }

    /// Replaces the fault configuration.
    /// - Throws: ``SeamAPIError`` `invalid_input` for out-of-range values.
    package func setFaults(_ faults: FaultConfiguration) throws(SeamAPIError) {
        try faults.validate()
        core.withLock { core in
            core.faults = faults
            core.faultRandom = SeededRandom(seed: faults.seed)
            core.state.enforceRateLimits = faults.enforceDeviceRateLimits
        }
    }

    /// Back to the seed and the configured faults; the clock keeps its time.
    package func reset() {
        core.withLock { core in core = Self.makeCore(configuration, clock: core.clock) }
    }

    /// Puts a lock on- or offline.
    /// - Throws: ``SeamAPIError`` `device_not_found`.
    package func setDeviceOnline(_ online: Bool, deviceID: String) throws(SeamAPIError) {
        try withSettledCore { core in
            Result { () throws(SeamAPIError) in
                try core.state.setOnline(online, deviceID: deviceID.lowercased(), now: core.clock.now())
            }
        }.get()
    }

    /// Simulates someone removing or changing a code at the keypad: updates the code and emits
    /// `access_code.deleted_external_to_seam` or `access_code.modified_external_to_seam` (sent to the webhook).
    /// - Returns: the event.
    /// - Throws: ``SeamAPIError`` `access_code_not_found`, `invalid_input`, `duplicate_access_code`.
    @discardableResult
    package func changeAtLock(_ change: ChangeAtLock, accessCodeID: String) throws(SeamAPIError) -> SeamEvent {
        try withSettledCore { core in
            Result { () throws(SeamAPIError) in
                try core.state.changeAtLock(id: accessCodeID.lowercased(), change: change, now: core.clock.now())
            }
        }.get()
    }

    /// Every access code now (settled to the current time), oldest first.
    package var accessCodes: [AccessCodeRecord] { withSettledCore { $0.state.codes } }

    /// Every event so far, in order.
    package var events: [SeamEvent] { core.withLock { $0.state.events } }

    /// Calls counted per route, device and minute of the fake's clock.
    package var callCounts: [CallCount] {
        core.withLock { $0.state.calls.map { CallCount(key: $0.key, count: $0.value) } }
            .sorted { ($0.key.minute, $0.key.route, $0.key.deviceID) < ($1.key.minute, $1.key.route, $1.key.deviceID) }
    }

    /// Calls of `route` counted so far, for one device or (with `nil`) in all.
    package func callCount(route: String, deviceID: String? = nil) -> Int {
        callCounts.filter { $0.key.route == route && (deviceID == nil || $0.key.deviceID == deviceID) }.reduce(0) {
            $0 + $1.count
        }
    }

    /// What became of each webhook event, when a webhook is configured.
    package var webhookDeliveries: [WebhookSender.Delivery] { webhookSender?.deliveries ?? [] }

    /// Stops the webhook sender.
    package func shutdown() { webhookSender?.stop() }

    // MARK: - Serving one API call

    /// Runs one API call: auth, parameters, counting, faults, the operation, events, latency.
    func serveAPI(
        _ request: HTTPRequest, route: String, respond: Responder,
        operation:
            @escaping @Sendable (inout FakeSeamState, inout RequestParameters, Date) throws(SeamAPIError) -> JSONValue
    ) {
        let requestID = request.requestID
        guard authorized(request) else { return respond(SeamAPIError.unauthorized.response(requestID: requestID)) }
        var parameters: RequestParameters
        do { parameters = try RequestParameters(request) } catch {
            return respond(error.response(requestID: requestID))
        }

        let (outcome, events) = core.withLock { core -> (Outcome, [SeamEvent]) in
            let now = core.clock.now()
            core.state.settle(now: now)
            core.state.count(route: route, deviceIDs: core.state.devicesNamed(by: parameters), now: now)
            let latency = core.faults.latencyMilliseconds
            let fault = Self.drawFault(&core, route: route)
            switch fault {
            case .serverError(let status)?:
                let type = status == 503 ? "service_unavailable" : "internal_server_error"
                let error = SeamAPIError(
                    status: status, type: type, message: "Injected server error (\(status)); retry later.")
                return (.answer(error.response(requestID: requestID), afterMilliseconds: latency), [])
            case .rateLimit?:
                let seconds = core.faults.retryAfterSeconds
                let error = SeamAPIError.rateLimited(
                    "Injected rate limit; retry after \(seconds) s.", retryAfterSeconds: seconds)
                return (.answer(error.response(requestID: requestID), afterMilliseconds: latency), [])
            case .timeout? where core.faults.timeoutMode == .never:
                return (.silent("injected timeout: nothing changed, no answer"), [])
            default: break
            }
            var response: HTTPResponse
            do throws(SeamAPIError) {
                var body = try operation(&core.state, &parameters, now).objectValue ?? [:]
                body["ok"] = true
                response = .seamJSON(status: 200, .object(body))
            } catch {
                response = error.response(requestID: requestID)
            }
            let events = core.state.takeUndeliveredEvents()
            switch fault {
            case .crashAfterCommit?: return (.silent("injected crash after commit: change made, no answer"), events)
            case .timeout?: return (.answer(response, afterMilliseconds: core.faults.timeoutDelayMilliseconds), events)
            default: return (.answer(response, afterMilliseconds: latency), events)
            }
        }
        webhookSender?.enqueue(events)
        switch outcome {
        case .silent(let reason):
            logger.debug("Not answering", metadata: ["fake_seam.route": "\(route)", "fake_seam.reason": "\(reason)"])
        case .answer(let response, let milliseconds):
            Self.respond(response, after: milliseconds, to: respond)
        }
    }

    private enum Outcome {
        case answer(HTTPResponse, afterMilliseconds: Int)
        case silent(String)
    }

    private enum DrawnFault {
        case serverError(Int)
        case rateLimit
        case timeout
        case crashAfterCommit

    }

    private static func drawFault(_ core: inout Core, route: String) -> DrawnFault? {
        if let index = core.faults.scripted.firstIndex(where: { $0.route == nil || $0.route == route }) {
            let fault = core.faults.scripted.remove(at: index)
            switch fault.kind {
            case .serverError: return .serverError(fault.status ?? core.faults.serverErrorStatus)
            case .rateLimit: return .rateLimit
            case .timeout: return .timeout
            case .crashAfterCommit: return .crashAfterCommit
            case .pass: return nil
            }
        }
        guard core.faults.routes.isEmpty || core.faults.routes.contains(route) else { return nil }
        // One draw per kind, always in this order, so a seed gives the same sequence whatever the rates are.
        let serverError = core.faultRandom.chance(core.faults.serverErrorRate)
        let rateLimit = core.faultRandom.chance(core.faults.rateLimitRate)
        let timeout = core.faultRandom.chance(core.faults.timeoutRate)
        let crash = core.faultRandom.chance(core.faults.crashAfterCommitRate)
        if serverError { return .serverError(core.faults.serverErrorStatus) }
        if rateLimit { return .rateLimit }
        if timeout { return .timeout }
        if crash { return .crashAfterCommit }
        return nil
    }

    private static func respond(_ response: HTTPResponse, after milliseconds: Int, to respond: Responder) {
        guard milliseconds > 0 else { return respond(response) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) { respond(response) }
    }

    private func authorized(_ request: HTTPRequest) -> Bool {
        guard let header = request.headers["Authorization"] else { return false }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, String(parts[0]).caseInsensitiveEquals("Bearer") else { return false }
        return configuration.apiKeys.contains(String(parts[1]).trimmingCharacters(in: .whitespaces))
    }

    // MARK: - Control routes

    /// Runs one control call against the core (no auth, no faults).
    func serveControl(
        _ request: HTTPRequest, respond: Responder,
        _ work: (FakeSeamService, JSONValue) throws(SeamAPIError) -> JSONValue
    ) {
        let body: JSONValue
        if request.body.isEmpty {
            body = [:]
        } else if let parsed = try? JSONValue.parse(request.body), parsed.objectValue != nil {
            body = parsed
        } else {
            return respond(
                SeamAPIError(status: 400, type: "invalid_input", message: "The body must be a JSON object.").response(
                    requestID: request.requestID))
        }
        do {
            var object = try work(self, body).objectValue ?? [:]
            object["ok"] = true
            respond(.seamJSON(status: 200, .object(object)))
        } catch {
            respond(error.response(requestID: request.requestID))
        }
    }

    /// The whole state as JSON (PINs included: it is a fake).
    var stateJSON: JSONValue {
        let calls = callCounts.map(\.json)
        let deliveries = webhookDeliveries.map(\.json)
        return withSettledCore { core -> JSONValue in
            let state = core.state
            return [
                "now": .string(SeamTime.format(core.clock.now())),
                "workspace_id": .string(state.workspaceID),
                "devices": .array(state.devices.map { state.deviceJSON($0) }),
                "access_codes": .array(state.codes.map { $0.json(workspaceID: state.workspaceID) }),
                "action_attempts": .array(state.orderedAttempts.map(\.json)),
                "events": .array(state.events.map(\.json)),
                "calls": .array(calls),
                "faults": core.faults.json,
                "webhook_deliveries": .array(deliveries),
            ]
        }
    }

    /// The current fault configuration.
    package var faults: FaultConfiguration { core.withLock { $0.faults } }
}

/// The `HTTPHandler` of a ``FakeSeamService``: stamps `seam-request-id`, routes, and logs each answer at debug.
struct FakeSeamHandler: HTTPHandler {
    /// The API and control routes.
    let router: Router
    /// Where answers are logged (debug).
    let logger: Logger

    /// Stamps a request id, routes, and puts errors in Seam's envelope.
    func handle(_ request: HTTPRequest, responder: Responder) {
        var request = request
        let requestID = UUID().uuidString.lowercased()
        request.requestID = requestID
        let (method, path, logger) = (request.method, request.path, logger)
        router.handle(
            request,
            responder: Responder { response in
                var response = Self.inSeamEnvelope(response, requestID: requestID)
                response.headers.replaceOrAdd(name: "seam-request-id", value: requestID)
                logger.debug(
                    "Answered",
                    metadata: [
                        "fake_seam.method": "\(method)", "fake_seam.path": "\(path)",
                        "fake_seam.status": "\(response.status)",
                        "fake_seam.request_id": "\(requestID)",
                    ])
                responder(response)
            })
    }

    /// The router's own 404 and 405 answers, given Seam's `request_id` and `ok: false` like every other error.
    private static func inSeamEnvelope(_ response: HTTPResponse, requestID: String) -> HTTPResponse {
        guard response.status >= 400, var body = (try? JSONValue.parse(response.body))?.objectValue,
            var error = body["error"]?.objectValue, error["request_id"] == nil
        else { return response }
        error["request_id"] = .string(requestID)
        body["error"] = .object(error)
        body["ok"] = false
        var rewritten = response
        rewritten.body = JSONValue.object(body).encoded
        return rewritten
    }
}
