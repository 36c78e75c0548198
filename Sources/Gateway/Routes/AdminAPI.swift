import Bookings
import Foundation
import HTTPServer
import Logging
import Reconciler
import WebhookAuth

/// The admin API for on-call engineers, behind a bearer token (off when no token is configured).
///
/// `GET /v1/reservations/{source}/{id}` (desired and applied state, the group's `common_code_key`, per-lock
/// status; the PIN only with `?include_pin=true`), `GET /v1/outbox`, `GET /v1/dead-letters`,
/// `POST /v1/outbox/{id}/retry` (re-queues a dead letter). Dates are RFC 3339 strings in UTC.
struct AdminAPI: Sendable {
    let token: Secret?
    let reconciler: Reconciler
    let logger: Logger

    init(token: String?, reconciler: Reconciler, logger: Logger) {
        self.token = token.map { Secret($0) }
        self.reconciler = reconciler
        self.logger = logger
    }

    func register(on router: inout Router) {
        router.add(
            "GET", "/v1/reservations/{source}/{id}",
            async: guarded { request in
                let key = ReservationKey(
                    source: request.pathParameters["source"] ?? "", reservationID: request.pathParameters["id"] ?? "")
                let includePIN: Bool
                switch request.queryItems.last(where: { $0.name == "include_pin" })?.value {
                case nil, "false": includePIN = false
                case "true": includePIN = true
                case let other?:
                    return .error(status: 400, type: "bad_request", message: "include_pin=\(other): use true or false.")
                }
                guard let snapshot = await reconciler.reservation(key) else {
                    return .error(
                        status: 404, type: "not_found",
                        message: "No reservation \(key) is known; check the source name and the PMS's reservation id.")
                }
                if includePIN {
                    logger.notice(
                        "admin: PIN disclosed",
                        metadata: ["reservation": "\(key)", "client": "\(request.clientAddress)"])
                }
                return .json(
                    status: 200, ReservationView(snapshot, includePIN: includePIN),
                    headers: ["Cache-Control": "no-store"])
            })
        router.add(
            "GET", "/v1/outbox",
            async: guarded(
                Self.limited { limit in
                    let intents = await reconciler.outbox().sorted { $0.createdAt < $1.createdAt }
                    return .json(
                        status: 200,
                        OutboxView(intents: intents.prefix(limit).map(IntentView.init), total: intents.count),
                        headers: ["Cache-Control": "no-store"])
                }))
        router.add(
            "GET", "/v1/dead-letters",
            async: guarded(
                Self.limited { limit in
                    let letters = await reconciler.deadLetterList().sorted { $0.failedAt > $1.failedAt }
                    return .json(
                        status: 200,
                        DeadLettersView(
                            deadLetters: letters.prefix(limit).map(DeadLetterView.init), total: letters.count),
                        headers: ["Cache-Control": "no-store"])
                }))
        router.add(
            "POST", "/v1/outbox/{id}/retry",
            async: guarded { request in
                let id = request.pathParameters["id"] ?? ""
                guard await reconciler.deadLetterList().contains(where: { $0.id == id }) else {
                    if await reconciler.outbox().contains(where: { $0.id == id }) {
                        return .error(
                            status: 409, type: "not_a_dead_letter",
                            message: "\(id) is still in the outbox and is being retried already.")
                    }
                    return .error(
                        status: 404, type: "unknown_intent",
                        message: "No dead letter \(id); list them at GET /v1/dead-letters.")
                }
                do {
                    try await reconciler.retry(deadLetterID: id)
                    logger.notice("admin: dead letter re-queued", metadata: ["dead_letter": "\(id)"])
                    return .json(status: 202, ["status": "requeued", "id": id])
                } catch {
                    return .error(
                        status: 503, type: "store_unavailable", message: "Could not re-queue: \(error)",
                        headers: ["Retry-After": "5"])
                }
            })
    }

    /// Wraps a listing's handler with `?limit=`: an integer from 1 to 1000, default 100; anything else is answered
    /// 400 before `work` runs.
    /// - Parameter work: Makes the listing, given the limit.
    /// - Returns: The handler.
    static func limited(_ work: @escaping @Sendable (Int) async -> HTTPResponse)
        -> @Sendable (HTTPRequest) async -> HTTPResponse
    {
        { request in
            guard let text = request.queryItems.last(where: { $0.name == "limit" })?.value else {
                return await work(100)
            }
            guard let value = Int(text), (1...1000).contains(value) else {
                return .error(
                    status: 400, type: "bad_request", message: "limit=\(text): use an integer from 1 to 1000.")
            }
            return await work(value)
        }
    }

    /// Wraps a handler with the bearer-token check.
    func guarded(_ work: @escaping @Sendable (HTTPRequest) async -> HTTPResponse)
        -> @Sendable (HTTPRequest) async -> HTTPResponse
    {
        { [token, logger] request in
            guard let token else {
                return .error(
                    status: 404, type: "admin_disabled",
                    message: "The admin API is off; set admin.token (env LATCHKEY_ADMIN_TOKEN) to turn it on.")
            }
            guard let header = request.headers["Authorization"], header.hasPrefix("Bearer "),
                Secret(String(header.dropFirst(7))) == token
            else {
                logger.notice("admin: refused", metadata: ["client": "\(request.clientAddress)"])
                return .error(
                    status: 401, type: "unauthorized",
                    message: "Send the admin token as Authorization: Bearer <token>.",
                    headers: ["WWW-Authenticate": "Bearer realm=\"latchkey\""])
            }
            return await work(request)
        }
    }
}

/// A reservation as the admin API shows it.
struct ReservationView: Encodable {
    struct Lock: Encodable {
        var deviceID: String
        var accessCodeID: String?
        var status: String
        /// Whether Seam holds the code (as Latchkey last knew): it has an id.
        var present: Bool
        /// Whether the code carries the group's `common_code_key` (moves with `update_multiple`).
        var linked: Bool
        var startsAt: String
        var endsAt: String
        var name: String
        enum CodingKeys: String, CodingKey {
            case deviceID = "device_id"
            case accessCodeID = "access_code_id"
            case status, present, linked
            case startsAt = "starts_at"
            case endsAt = "ends_at"
            case name
        }
    }
    var source: String
    var reservationID: String
    var phase: String
    var desiredStatus: String?
    var listingID: String?
    var propertyID: String?
    var commonCodeKey: String?
    var locks: [Lock]
    var pin: String?
    var deadLetterID: String?
    var readBackReason: String?
    /// The latest pre-arrival check, or `nil` before the first.
    var arrivalCheck: ArrivalCheckView?

    enum CodingKeys: String, CodingKey {
        case source, phase, locks, pin
        case readBackReason = "read_back_reason"
        case arrivalCheck = "arrival_check"
        case reservationID = "reservation_id"
        case desiredStatus = "desired_status"
        case listingID = "listing_id"
        case propertyID = "property_id"
        case commonCodeKey = "common_code_key"
        case deadLetterID = "dead_letter_id"
    }

    init(_ snapshot: Reconciler.ReservationSnapshot, includePIN: Bool) {
        source = snapshot.key.source
        reservationID = snapshot.key.reservationID
        phase = snapshot.phase.rawValue
        desiredStatus = snapshot.desired?.status.rawValue
        listingID = snapshot.desired?.listingID
        propertyID = snapshot.applied?.propertyID
        commonCodeKey = snapshot.applied?.commonCodeKey
        let applied = snapshot.applied
        locks =
            applied?.codes.map {
                Lock(
                    deviceID: $0.deviceID, accessCodeID: $0.accessCodeID, status: $0.status.rawValue,
                    present: $0.isLive, linked: applied?.isLinked($0) ?? false,
                    startsAt: $0.window.startsAt.ISO8601Format(), endsAt: $0.window.endsAt.ISO8601Format(),
                    name: $0.name)
            } ?? []
        readBackReason = snapshot.readBackReason
        arrivalCheck = snapshot.arrivalCheck.map { ArrivalCheckView($0, includePIN: includePIN) }
        pin = includePIN ? snapshot.applied?.pin?.digits : nil
        deadLetterID = snapshot.deadLetterID
    }
}

/// An outbox intent as the admin API shows it.
struct IntentView: Encodable {
    var id: String
    var reservation: String
    var operation: String
    var failedAttempts: Int
    var outcomeUnknown: Bool
    var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, reservation, operation
        case failedAttempts = "failed_attempts"
        case outcomeUnknown = "outcome_unknown"
        case createdAt = "created_at"
    }

    init(_ intent: OutboxIntent) {
        id = intent.id
        reservation = intent.reservation.description
        operation = intent.operation.label
        failedAttempts = intent.failedAttempts
        outcomeUnknown = intent.outcomeUnknown
        createdAt = intent.createdAt.ISO8601Format()
    }
}

/// A dead letter as the admin API shows it.
struct DeadLetterView: Encodable {
    var id: String
    var reservation: String
    var operation: String
    var message: String
    var attempts: Int
    var failedAt: String

    enum CodingKeys: String, CodingKey {
        case id, reservation, operation, message, attempts
        case failedAt = "failed_at"
    }

    init(_ letter: DeadLetter) {
        id = letter.id
        reservation = letter.reservation.description
        operation = letter.operation
        message = letter.message
        attempts = letter.attempts
        failedAt = letter.failedAt.ISO8601Format()
    }
}

/// `GET /v1/outbox`: the intents listed (oldest first, up to `limit`) and how many there are in all.
struct OutboxView: Encodable {
    var intents: [IntentView]
    var total: Int
}

/// `GET /v1/dead-letters`: the dead letters listed (most recent first, up to `limit`) and how many there are in all.
struct DeadLettersView: Encodable {
    var deadLetters: [DeadLetterView]
    var total: Int

    enum CodingKeys: String, CodingKey {
        case deadLetters = "dead_letters"
        case total
    }
}
