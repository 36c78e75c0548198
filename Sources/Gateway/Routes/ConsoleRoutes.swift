import Bookings
import Console
import Foundation
import HTTPServer
import Intake
import Logging
import Reconciler
import Seam
import Synchronization

/// What the console reads and does, behind one protocol so that the routes can be tested without a running
/// gateway.
protocol ConsoleSource: Sendable {
    /// Every reservation the reconciler knows.
    func reservations() async -> [Reconciler.ReservationSnapshot]
    /// One reservation, or nil.
    func reservation(_ key: ReservationKey) async -> Reconciler.ReservationSnapshot?
    /// The dead letters.
    func deadLetters() async -> [DeadLetter]
    /// The outbox's intents.
    func outbox() async -> [OutboxIntent]
    /// Re-queues a dead letter (what `POST /v1/outbox/{id}/retry` does).
    func retry(deadLetterID: String) async throws
    /// What Seam says now about the properties' locks and their codes (cached for a few seconds).
    func liveSeam() async -> LiveSeam
}

/// Seam's answers about the configured locks: their names and whether they are online, and each lock's codes.
struct LiveSeam: Sendable {
    struct Code: Sendable {
        var status: String
        var errors: [String]
    }
    /// Lock names and online states by device id.
    var devices: [String: (name: String?, online: Bool?)] = [:]
    /// Codes by access-code id.
    var codes: [String: Code] = [:]
    /// The locks whose codes were listed.
    var listedLocks: Set<String> = []
    /// Why Seam could not be asked, or nil.
    var problem: String?
}

/// The operator console at `/console`: HTML pages behind a session (see `Sources/Console` for the pages, sessions
/// and CSRF tokens).
///
/// Sign-in with the console password (`console.password`, else the admin token) opens a session held in memory (a
/// restart signs everyone out) and sets the cookie `lk_console` (HttpOnly, SameSite=Strict, Path=/console, Secure
/// when the proxy says `X-Forwarded-Proto: https`, Max-Age the session's lifetime). Every console route answers a
/// 303 to `/console/sign-in` without a live session; only the sign-in page and the static assets do not need one.
/// Every form POST carries the session's CSRF token (403 without it). Failed sign-ins are slowed per client
/// (``SignInThrottle``) and logged without the password.
final class ConsoleRoutes: Sendable {
    /// The cookie's name.
    static let cookieName = "lk_console"

    /// Every console route that needs a session: method and an example path (for the redirect tests).
    static let protectedRoutes: [(method: String, path: String)] = [
        ("GET", "/console"), ("GET", "/console/arrivals"), ("GET", "/console/arrivals/fragment"),
        ("GET", "/console/reservations/native/r1"), ("POST", "/console/reservations/native/r1/reveal"),
        ("GET", "/console/problems"), ("POST", "/console/dead-letters/dl1/retry"), ("GET", "/console/properties"),
        ("GET", "/console/deliveries"), ("POST", "/console/sign-out"),
    ]

    let password: String?
    let source: any ConsoleSource
    let catalogue: PropertyCatalogue
    let sourceNames: [String]
    let deliveries: RecentDeliveries
    let activity: SeamActivity
    let addOns: (any ConsoleAddOns)?
    let logger: Logger
    let now: @Sendable () -> Date
    private let sessions: Mutex<ConsoleSessionTable>
    private let throttle = Mutex(SignInThrottle())
    private let sessionSeconds: Int

    /// Creates the console.
    /// - Parameters:
    ///   - password: The console password, or nil (the console is off).
    ///   - sessionHours: How long a session lasts.
    ///   - source: The data.
    ///   - catalogue: The properties.
    ///   - sourceNames: The configured sources (the Deliveries filter).
    ///   - deliveries: The recent deliveries.
    ///   - activity: The recent Seam calls.
    ///   - addOns: Pre-arrival checks and notifications, when built in.
    ///   - logger: Sign-ins, sign-outs, reveals and retries are logged (never a password or PIN).
    ///   - now: The clock.
    init(
        password: String?, sessionHours: Int, source: any ConsoleSource, catalogue: PropertyCatalogue,
        sourceNames: [String], deliveries: RecentDeliveries, activity: SeamActivity,
        addOns: (any ConsoleAddOns)? = nil, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.password = password.flatMap { $0.isEmpty ? nil : $0 }
        self.source = source
        self.catalogue = catalogue
        self.sourceNames = sourceNames
        self.deliveries = deliveries
        self.activity = activity
        self.addOns = addOns
        self.logger = logger
        self.now = now
        self.sessionSeconds = sessionHours * 3_600
        self.sessions = Mutex(ConsoleSessionTable(lifetime: .seconds(sessionHours * 3_600)))
    }

    func register(on router: inout Router) {
        router.add("GET", "/console/assets/{name}") { request in Self.asset(request.pathParameters["name"] ?? "") }
        router.add("GET", "/console/sign-in") { [self] request in
            if password != nil, session(request) != nil { return Self.redirect("/console/arrivals") }
            return html(
                password == nil ? 404 : 200,
                ConsolePages.signIn(message: nil, enabled: password != nil, sessionHours: sessionSeconds / 3_600))
        }
        router.add("POST", "/console/sign-in") { [self] request in signIn(request) }
        router.add("POST", "/console/sign-out") { [self] request in
            withSession(request, form: true) { session, _ in
                sessions.withLock { $0.close(id: session.id) }
                logger.notice("console: signed out", metadata: ["client": "\(request.clientAddress)"])
                var response = Self.redirect("/console/sign-in")
                response.headers.add(
                    name: "Set-Cookie",
                    value: "\(Self.cookieName)=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict")
                return response
            }
        }
        router.add("GET", "/console") { [self] request in
            withSession(request) { _, _ in Self.redirect("/console/arrivals") }
        }
        router.add(
            "GET", "/console/arrivals", async: guarded { [self] session, request in await arrivals(request, session) })
        router.add(
            "GET", "/console/arrivals/fragment",
            async: guarded { [self] _, request in
                let (rows, range, note) = await arrivalRows(request)
                return html(
                    200,
                    ConsolePages.arrivalsList(
                        rows, range: range, now: now(), seamNote: note, showsPreArrival: addOns != nil))
            })
        router.add(
            "GET", "/console/reservations/{source}/{id}",
            async: guarded { [self] session, request in await reservation(request, session, reveal: false) })
        router.add(
            "POST", "/console/reservations/{source}/{id}/reveal",
            async: guarded(form: true) { [self] session, request in await reservation(request, session, reveal: true) })
        router.add("GET", "/console/problems", async: guarded { [self] session, _ in await problems(session) })
        router.add(
            "POST", "/console/dead-letters/{id}/retry",
            async: guarded(form: true) { [self] session, request in await retry(request, session) })
        router.add("GET", "/console/properties", async: guarded { [self] session, _ in await properties(session) })
        router.add(
            "GET", "/console/deliveries",
            async: guarded { [self] session, request in await deliveryList(request, session) })
        // Last (the first match wins): any other console page is a sign-in redirect without a session, and a page
        // for people, not the API's JSON 404, with one.
        for pattern in ["/console/{a}", "/console/{a}/{b}", "/console/{a}/{b}/{c}", "/console/{a}/{b}/{c}/{d}"] {
            router.add("GET", pattern) { [self] request in
                withSession(request) { session, _ in
                    html(
                        404,
                        ConsolePages.message(
                            title: "No such page",
                            text: "The console has no page at \(request.path).", csrf: session.csrfToken))
                }
            }
        }
    }

    // MARK: - Sessions

    private func session(_ request: HTTPRequest) -> ConsoleSession? {
        let id = ConsoleForm.cookie(Self.cookieName, in: request.headers["Cookie"])
        let now = now()
        return sessions.withLock { $0.session(id: id, now: now) }
    }

    /// Runs `work` with the request's session, or answers 303 to sign-in; with `form`, a POST without the session's
    /// CSRF token is answered 403.
    private func withSession(
        _ request: HTTPRequest, form: Bool = false, _ work: (ConsoleSession, [String: String]) -> HTTPResponse
    ) -> HTTPResponse {
        switch check(request, form: form) {
        case .success(let (session, fields)): return work(session, fields)
        case .failure(let refusal): return refusal.response
        }
    }

    private struct Refusal: Error {
        var response: HTTPResponse
    }

    private func check(_ request: HTTPRequest, form: Bool) -> Result<(ConsoleSession, [String: String]), Refusal> {
        guard password != nil, let session = session(request) else {
            return .failure(Refusal(response: Self.redirect("/console/sign-in")))
        }
        let fields = form ? ConsoleForm.fields(request.body) : [:]
        if form && !session.accepts(csrf: fields["csrf"]) {
            logger.notice(
                "console: form refused: missing or wrong CSRF token",
                metadata: ["client": "\(request.clientAddress)", "path": "\(request.path)"])
            return .failure(
                Refusal(
                    response: html(
                        403,
                        ConsolePages.message(
                            title: "Form refused",
                            text:
                                "This form did not carry this session's security token, so nothing was done. Reload the page and try again.",
                            csrf: session.csrfToken))))
        }
        return .success((session, fields))
    }

    private func guarded(
        form: Bool = false, _ work: @escaping @Sendable (ConsoleSession, HTTPRequest) async -> HTTPResponse
    ) -> @Sendable (HTTPRequest) async -> HTTPResponse {
        { [self] request in
            switch check(request, form: form) {
            case .success(let (session, _)): return await work(session, request)
            case .failure(let refusal): return refusal.response
            }
        }
    }

    private func signIn(_ request: HTTPRequest) -> HTTPResponse {
        guard let password else {
            return html(404, ConsolePages.signIn(message: nil, enabled: false))
        }
        let client = request.clientAddress
        let now = now()
        if case .wait(let seconds) = throttle.withLock({ $0.decide(client: client, now: now) }) {
            logger.notice("console: sign-in refused: too many failures", metadata: ["client": "\(client)"])
            var response = html(
                429,
                ConsolePages.signIn(
                    message: "Too many wrong passwords from here. Wait \(seconds) seconds, then try again.",
                    enabled: true, sessionHours: sessionSeconds / 3_600))
            response.headers.add(name: "Retry-After", value: "\(seconds)")
            return response
        }
        let given = ConsoleForm.fields(request.body)["password"] ?? ""
        guard ConsoleForm.constantTimeEqual(given, password) else {
            let wait = throttle.withLock { $0.recordFailure(client: client, now: now) }
            logger.notice(
                "console: sign-in failed: wrong password", metadata: ["client": "\(client)", "wait_seconds": "\(wait)"])
            return html(
                401,
                ConsolePages.signIn(
                    message: "That password is not right. You can try again in \(wait) second\(wait == 1 ? "" : "s").",
                    enabled: true, sessionHours: sessionSeconds / 3_600))
        }
        throttle.withLock { $0.recordSuccess(client: client) }
        var random = SystemRandomNumberGenerator()
        let session = sessions.withLock { $0.open(now: now, random: &random) }
        logger.notice("console: signed in", metadata: ["client": "\(client)"])
        var response = Self.redirect("/console/arrivals")
        let secure = request.headers["X-Forwarded-Proto"]?.lowercased() == "https" ? "; Secure" : ""
        response.headers.add(
            name: "Set-Cookie",
            value:
                "\(Self.cookieName)=\(session.id); Path=/console; Max-Age=\(sessionSeconds); HttpOnly; SameSite=Strict\(secure)"
        )
        return response
    }

    // MARK: - Pages

    private func problemCount() async -> Int {
        await problemReport().count
    }

    private func arrivals(_ request: HTTPRequest, _ session: ConsoleSession) async -> HTTPResponse {
        let (rows, range, note) = await arrivalRows(request)
        let problems = await problemCount()
        return html(
            200,
            ConsolePages.arrivals(
                rows, range: range, now: now(), seamNote: note, showsPreArrival: addOns != nil,
                csrf: session.csrfToken, problems: problems))
    }

    private func arrivalRows(_ request: HTTPRequest) async -> ([ArrivalRow], ArrivalRange, String?) {
        let range =
            request.queryItems.last(where: { $0.name == "range" }).flatMap { ArrivalRange(rawValue: $0.value) }
            ?? .today
        let live = await source.liveSeam()
        let now = now()
        var rows: [ArrivalRow] = []
        for snapshot in await source.reservations() {
            guard let row = await row(snapshot, live: live), let checkIn = row.checkIn,
                range.contains(checkIn, timeZone: TimeZone(identifier: row.timeZone) ?? .gmt, now: now)
            else { continue }
            rows.append(row)
        }
        rows.sort { ($0.checkIn ?? .distantPast, $0.reservationID) < ($1.checkIn ?? .distantPast, $1.reservationID) }
        return (rows, range, live.problem)
    }

    /// The console's row of a reservation, or nil when it has no booking.
    private func row(_ snapshot: Reconciler.ReservationSnapshot, live: LiveSeam) async -> ArrivalRow? {
        guard let desired = snapshot.desired else { return nil }
        let property =
            catalogue.property(source: snapshot.key.source, listingID: desired.listingID)
            ?? snapshot.applied.flatMap { catalogue.property(id: $0.propertyID) }
        let zone = property?.timeZone ?? "UTC"
        let checkIn = desired.checkIn.flatMap {
            try? instant(of: $0, defaultTime: property?.defaultCheckIn ?? LocalTime(hour: 15), propertyZone: zone)
        }
        let checkOut = desired.checkOut.flatMap {
            try? instant(of: $0, defaultTime: property?.defaultCheckOut ?? LocalTime(hour: 11), propertyZone: zone)
        }
        let locks = (snapshot.applied?.codes ?? []).map { code -> LockLine in
            let device = live.devices[code.deviceID]
            let liveCode = code.accessCodeID.flatMap { live.codes[$0] }
            let (state, detail) = LockState.derive(
                recorded: code.status.rawValue, live: liveCode?.status, liveErrors: liveCode?.errors ?? [],
                listedByLock: code.accessCodeID != nil && live.listedLocks.contains(code.deviceID),
                online: device?.online)
            return LockLine(
                lockName: device?.name ?? code.deviceID, deviceID: code.deviceID, state: state, detail: detail,
                accessCodeID: code.accessCodeID)
        }
        let summary = GroupStatus.summarise(phase: snapshot.phase.rawValue, locks: locks)
        let preArrival = await addOns?.preArrivalCheck(
            source: snapshot.key.source, reservationID: snapshot.key.reservationID)
        return ArrivalRow(
            source: snapshot.key.source, reservationID: snapshot.key.reservationID,
            guestFirstName: desired.guestName.flatMap { $0.split(separator: " ").first.map(String.init) },
            propertyName: property?.name, timeZone: zone, checkIn: checkIn, checkOut: checkOut,
            status: summary.status, statusText: summary.text, locks: locks, preArrival: preArrival)
    }

    private func reservation(_ request: HTTPRequest, _ session: ConsoleSession, reveal: Bool) async -> HTTPResponse {
        let key = ReservationKey(
            source: request.pathParameters["source"] ?? "", reservationID: request.pathParameters["id"] ?? "")
        let problems = await problemCount()
        guard let snapshot = await source.reservation(key), let row = await row(snapshot, live: source.liveSeam())
        else {
            return html(
                404,
                ConsolePages.message(
                    title: "No such reservation",
                    text: "Latchkey knows no reservation \(key); check the link, or find it on the Arrivals page.",
                    csrf: session.csrfToken, problems: problems))
        }
        let pin = snapshot.applied?.pin
        if reveal, pin != nil {
            logger.notice(
                "console: PIN disclosed", metadata: ["reservation": "\(key)", "client": "\(request.clientAddress)"])
        }
        let letters = await source.deadLetters()
        let letter = letters.first { $0.reservation == key }.map(Self.line)
        let pending = await source.outbox().filter { $0.reservation == key }.map {
            PendingWorkLine(operation: $0.operation.label, failedAttempts: $0.failedAttempts, createdAt: $0.createdAt)
        }
        let received = deliveries.entries().filter {
            $0.source == key.source && $0.reservationIDs.contains(key.reservationID)
        }.map(Self.line)
        let calls = activity.entries(
            marker: CodeNaming.marker(for: key),
            accessCodeIDs: Set(snapshot.applied?.codes.compactMap(\.accessCodeID) ?? []),
            commonCodeKey: snapshot.applied?.commonCodeKey
        ).map { SeamActionLine(at: $0.at, call: $0.route, succeeded: $0.succeeded, message: $0.message) }
        let notifications = await addOns?.notifications(source: key.source, reservationID: key.reservationID)
        let detail = ReservationDetail(
            arrival: row, guestName: snapshot.desired?.guestName, bookingStatus: snapshot.desired?.status.rawValue,
            hasPIN: pin != nil, revealedPIN: reveal ? pin?.digits : nil, readBackReason: snapshot.readBackReason,
            deadLetter: letter, pending: pending, deliveries: received, seamActions: calls,
            notifications: notifications)
        return html(200, ConsolePages.reservation(detail, csrf: session.csrfToken, problems: problems))
    }

    private func problemReport() async -> ProblemsReport {
        let letters = await source.deadLetters().sorted { $0.failedAt > $1.failedAt }
        let lettered = Set(letters.map(\.reservation))
        let live = await source.liveSeam()
        let now = now()
        var failed: [ArrivalRow] = []
        var uncertain: [(reservation: String, reason: String)] = []
        for snapshot in await source.reservations() {
            if let reason = snapshot.readBackReason, !lettered.contains(snapshot.key) {
                uncertain.append(("\(snapshot.key)", reason))
            }
            guard !lettered.contains(snapshot.key), snapshot.phase != .past,
                let row = await row(snapshot, live: live), row.status == .attention,
                (row.checkOut ?? .distantFuture) > now
            else { continue }
            failed.append(row)
        }
        failed.sort { ($0.checkIn ?? .distantPast) < ($1.checkIn ?? .distantPast) }
        let signatures = deliveries.signatureFailures(now: now).sorted { $0.key < $1.key }.map {
            (source: $0.key, count: $0.value)
        }
        return ProblemsReport(
            deadLetters: letters.map(Self.line), failedLocks: failed, uncertain: uncertain,
            failedNotifications: await addOns?.failedNotifications(), signatureFailures: signatures)
    }

    private func problems(_ session: ConsoleSession) async -> HTTPResponse {
        let report = await problemReport()
        return html(
            200, ConsolePages.problems(report, now: now(), csrf: session.csrfToken, showsPreArrival: addOns != nil))
    }

    private func retry(_ request: HTTPRequest, _ session: ConsoleSession) async -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        guard await source.deadLetters().contains(where: { $0.id == id }) else {
            return html(
                404,
                ConsolePages.message(
                    title: "Nothing to retry",
                    text: "There is no failed call \(id) any more: it may have been retried already.",
                    csrf: session.csrfToken))
        }
        do {
            try await source.retry(deadLetterID: id)
            logger.notice(
                "console: dead letter re-queued",
                metadata: ["dead_letter": "\(id)", "client": "\(request.clientAddress)"])
            return Self.redirect("/console/problems")
        } catch {
            return html(
                503,
                ConsolePages.message(
                    title: "Could not retry", text: "The retry could not be stored (\(error)); try again in a moment.",
                    csrf: session.csrfToken))
        }
    }

    private func properties(_ session: ConsoleSession) async -> HTTPResponse {
        let live = await source.liveSeam()
        var codesByLock: [String: [String]] = [:]
        for snapshot in await source.reservations() {
            guard let applied = snapshot.applied, snapshot.phase != .past else { continue }
            let guest = snapshot.desired?.guestName?.split(separator: " ").first.map(String.init) ?? "Guest"
            for code in applied.liveCodes {
                codesByLock[code.deviceID, default: []].append("\(guest) (\(snapshot.key))")
            }
        }
        for key in codesByLock.keys { codesByLock[key]?.sort() }
        let lines = catalogue.properties.map { property in
            PropertyLine(
                id: property.id, name: property.name, timeZone: property.timeZone,
                locks: property.deviceIDs.map { id in
                    PropertyLock(
                        deviceID: id, name: live.devices[id]?.name ?? id, online: live.devices[id]?.online,
                        codes: codesByLock[id] ?? [])
                })
        }
        let problems = await problemCount()
        return html(
            200, ConsolePages.properties(lines, seamNote: live.problem, csrf: session.csrfToken, problems: problems))
    }

    private func deliveryList(_ request: HTTPRequest, _ session: ConsoleSession) async -> HTTPResponse {
        let sourceFilter = request.queryItems.last(where: { $0.name == "source" })?.value.nilIfEmpty
        let verdictFilter = request.queryItems.last(where: { $0.name == "verdict" })?.value.nilIfEmpty
        let lines = deliveries.entries().filter {
            (sourceFilter == nil || $0.source == sourceFilter) && (verdictFilter == nil || $0.verdict == verdictFilter)
        }.map(Self.line)
        let problems = await problemCount()
        return html(
            200,
            ConsolePages.deliveries(
                lines, sources: sourceNames, source: sourceFilter, verdict: verdictFilter, kept: deliveries.capacity,
                csrf: session.csrfToken, problems: problems))
    }

    // MARK: - Responses

    private static func line(_ letter: DeadLetter) -> DeadLetterLine {
        DeadLetterLine(
            id: letter.id, source: letter.reservation.source, reservationID: letter.reservation.reservationID,
            operation: letter.operation, message: letter.message, attempts: letter.attempts, failedAt: letter.failedAt)
    }

    private static func line(_ entry: RecentDeliveries.Entry) -> DeliveryLine {
        DeliveryLine(
            at: entry.at, source: entry.source, verdict: entry.verdict, status: entry.status, reason: entry.reason,
            reservationIDs: entry.reservationIDs)
    }

    /// The headers every console page carries: no caching, no framing, scripts and styles from Latchkey only.
    static let pageHeaders: HTTPHeaders = [
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy":
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    ]

    private func html(_ status: Int, _ page: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: Self.pageHeaders, body: Array(page.utf8))
    }

    static func redirect(_ location: String) -> HTTPResponse {
        HTTPResponse(status: 303, headers: ["Location": location, "Cache-Control": "no-store"])
    }

    private static func asset(_ name: String) -> HTTPResponse {
        let content: (type: String, body: String)
        switch "/console/assets/" + name {
        case ConsoleAssets.stylesheetPath: content = ("text/css; charset=utf-8", ConsoleAssets.stylesheet)
        case ConsoleAssets.scriptPath: content = ("text/javascript; charset=utf-8", ConsoleAssets.script)
        default:
            return .error(status: 404, type: "not_found", message: "No console asset \(name).")
        }
        return HTTPResponse(
            status: 200,
            headers: [
                "Content-Type": content.type, "Cache-Control": "public, max-age=86400",
                "X-Content-Type-Options": "nosniff",
            ],
            body: Array(content.body.utf8))
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// The gateway's console data: the reconciler, and Seam asked at most every few seconds.
actor GatewayConsoleSource: ConsoleSource {
    private let reconciler: Reconciler
    private let client: SeamClient
    private let deviceIDs: [String]
    private let maxAge: Duration
    private var cached: (at: ContinuousClock.Instant, value: LiveSeam)?
    private var inFlight: Task<LiveSeam, Never>?

    /// Creates the source.
    /// - Parameters:
    ///   - reconciler: The reconciler.
    ///   - client: The Seam client (the built-in fake's without an API key).
    ///   - deviceIDs: The configured locks.
    ///   - maxAge: How long Seam's answers are reused. Default 5 seconds.
    init(reconciler: Reconciler, client: SeamClient, deviceIDs: [String], maxAge: Duration = .seconds(5)) {
        self.reconciler = reconciler
        self.client = client
        self.deviceIDs = deviceIDs
        self.maxAge = maxAge
    }

    func reservations() async -> [Reconciler.ReservationSnapshot] { await reconciler.reservations(ordered: false) }
    func reservation(_ key: ReservationKey) async -> Reconciler.ReservationSnapshot? {
        await reconciler.reservation(key)
    }
    func deadLetters() async -> [DeadLetter] { await reconciler.deadLetterList() }
    func outbox() async -> [OutboxIntent] { await reconciler.outbox() }
    func retry(deadLetterID: String) async throws { try await reconciler.retry(deadLetterID: deadLetterID) }

    func liveSeam() async -> LiveSeam {
        if let cached, ContinuousClock.now - cached.at < maxAge { return cached.value }
        if let inFlight { return await inFlight.value }
        let task = Task { [client, deviceIDs] in await Self.fetch(client: client, deviceIDs: deviceIDs) }
        inFlight = task
        let value = await task.value
        inFlight = nil
        cached = (ContinuousClock.now, value)
        return value
    }

    private static func fetch(client: SeamClient, deviceIDs: [String]) async -> LiveSeam {
        var live = LiveSeam()
        do {
            for device in try await client.listDevices() {
                live.devices[device.deviceID] = (device.displayName ?? device.properties.name, device.properties.online)
            }
            for id in Set(deviceIDs) {
                for code in try await client.list(deviceID: id) {
                    // `unset` is only "on the lock" with is_scheduled_on_device; else it waits to be programmed.
                    let status =
                        code.status.rawValue == "unset" && code.isScheduledOnDevice ? "scheduled" : code.status.rawValue
                    live.codes[code.accessCodeID] = LiveSeam.Code(status: status, errors: code.errors.map(\.code))
                }
                live.listedLocks.insert(id)
            }
        } catch {
            live.problem = "Seam could not be asked just now (\(error)); lock states are as Latchkey last knew them."
        }
        return live
    }
}
