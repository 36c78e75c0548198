import Bookings
import Foundation
import HTTPServer
import Logging
import Observability
import Store
import WebhookAuth

/// `POST /webhooks/{source}`: authenticate, decode, make durable, then acknowledge — in that order, always.
///
/// Answers: 202 accepted (durable), 200 duplicate (the first answer's body again), 200 ignored (an event type
/// Latchkey does not act on, or bookings all older than the ones already received: recorded durably all the same,
/// so a repeat answers the same 200 ignored), 400 malformed (names the field), 401 (names the failed check), 404
/// unknown source, 415 not JSON, 422 a delivery id reused for another body, 503 store unavailable (with
/// `Retry-After`).
package final class WebhookIntake: Sendable {
    /// Called after a delivery's events are durable, with the events numbered in receipt order.
    package typealias AcceptedHandler = @Sendable ([StoredBooking]) -> Void

    private let sources: [String: SourceRuntime]
    private let store: any DurableStore
    private let ledger: BookingLedger
    private let metrics: Metrics
    private let logger: Logger
    private let onAccepted: AcceptedHandler
    private let now: @Sendable () -> Date
    private let recent: RecentDeliveries?

    /// Creates the intake.
    /// - Parameters:
    ///   - sources: The configured sources, by name.
    ///   - store: Where deliveries are made durable (the journal, or PostgreSQL).
    ///   - ledger: Numbers deliveries and decides each reservation's latest booking.
    ///   - metrics: Delivery and signature-failure counters.
    ///   - logger: One line per delivery.
    ///   - now: The clock for signature timestamps (injectable for tests).
    ///   - recentDeliveries: Where each delivery's outcome is noted for the operator console, or nil. Default nil.
    ///   - onAccepted: Receives the numbered bookings of each durable delivery (on the store's thread: the
    ///     journal's writer, or a PostgreSQL connection's).
    package init(
        sources: [SourceRuntime], store: any DurableStore, ledger: BookingLedger, metrics: Metrics, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }, recentDeliveries: RecentDeliveries? = nil,
        onAccepted: @escaping AcceptedHandler
    ) {
        self.recent = recentDeliveries
        self.sources = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, $0) })
        self.store = store
        self.ledger = ledger
        self.metrics = metrics
        self.logger = logger
        self.now = now
        self.onAccepted = onAccepted
    }

    /// Registers the intake's routes.
    package func register(on router: inout Router) {
        router.add("POST", "/webhooks/{source}") { [self] request, responder in handle(request, responder: responder) }
        router.add("POST", "/webhooks/{source}/{token}") { [self] request, responder in
            handle(request, responder: responder)
        }
    }

    /// Handles one delivery.
    package func handle(_ request: HTTPRequest, responder: Responder) {
        let sourceName = request.pathParameters["source"] ?? ""
        // The sender's address (X-Forwarded-For/X-Real-IP from a trusted proxy), to find who sends refused deliveries.
        var log = DeliveryLog(
            logger: logger, requestID: request.requestID, source: sourceName, client: request.clientAddress)
        log.recent = recent
        let pathToken = request.pathParameters["token"]

        guard let source = sources[sourceName], source.usesPathToken == (pathToken != nil) else {
            log.write(.info, "delivery refused: unknown source")
            metrics.recordDelivery(source: "unknown", result: .rejected)
            log.note("rejected", 404, "unknown source")
            responder(
                .error(
                    status: 404, type: "unknown_source",
                    message:
                        "No source named \"\(sourceName)\" is configured; the URL is /webhooks/{source} with a source from the configuration."
                ))
            return
        }
        if let contentType = request.headers["Content-Type"], !Self.namesJSON(contentType) {
            log.write(.info, "delivery refused: not JSON", ["content_type": "\(contentType)"])
            metrics.recordDelivery(source: source.name, result: .rejected)
            log.note("rejected", 415, "Content-Type is not JSON")
            responder(
                .error(
                    status: 415, type: "unsupported_media_type",
                    message: "Content-Type \(contentType) is not accepted; send application/json."))
            return
        }

        let verified: VerifiedDelivery
        do {
            verified = try source.verifier.verify(
                header: { request.headers[$0] }, body: request.body, pathToken: pathToken, now: now())
        } catch {
            log.write(.notice, "delivery refused: authentication failed", ["auth.reason": "\(error.reason.rawValue)"])
            metrics.recordSignatureFailure(source: source.name, reason: error.reason.rawValue)
            metrics.recordDelivery(source: source.name, result: .rejected)
            log.note("rejected", 401, "authentication failed: \(error.reason.rawValue)", signatureFailed: true)
            responder(.error(status: 401, type: "unauthorized", message: error.message))
            return
        }

        let outcome: AdapterOutcome
        do {
            outcome = try source.adapter.decode(request.body, source: source.name)
        } catch {
            log.write(.notice, "delivery refused: malformed body", ["field": "\(error.field)"])
            metrics.recordDelivery(source: source.name, result: .rejected)
            log.note("rejected", 400, "malformed body: \(error.field)")
            responder(.error(status: 400, type: "invalid_payload", message: "\(error.field): \(error.problem)"))
            return
        }
        let deliveryID = verified.deliveryID ?? outcome.deliveryID
        guard case .events(let events, _) = outcome, !events.isEmpty else {
            let reason: String
            if case .ignored(let why, _) = outcome { reason = why } else { reason = "no booking in the delivery" }
            log.write(.info, "delivery ignored", ["reason": "\(reason)"])
            metrics.recordDelivery(source: source.name, result: .ignored)
            log.note("ignored", 200, reason)
            responder(.json(status: 200, IgnoredBody(status: "ignored", reason: reason, deliveryID: deliveryID)))
            return
        }

        let fingerprint = Hex.encode(Array(Crypto.sha256(request.body).prefix(16)))
        let idempotencyKey: String
        if let deliveryID {
            idempotencyKey = StoreKeys.delivery(source: source.name, deliveryID: deliveryID)
        } else {
            idempotencyKey = StoreKeys.delivery(
                source: source.name, reservationID: events[0].reservationID, fingerprint: fingerprint)
        }
        log.reservations = events.map(\.reservationID)
        // A repeat of a delivery already durable is answered from the journal at once: no ledger update to undo,
        // no trip through the writer. (A repeat of one still waiting for its group commit is caught by the writer.)
        if let original = store.idempotencyResponse(forKey: idempotencyKey) {
            metrics.recordDelivery(source: source.name, result: .duplicate)
            Self.answerRepeat(
                of: original, fingerprint: fingerprint, deliveryID: deliveryID, log: log, responder: responder)
            return
        }
        let accepted = AcceptedBody(
            status: "accepted", deliveryID: deliveryID, reservationIDs: events.map(\.reservationID)
        )
        let acceptedBytes = accepted.encoded()
        let remembered = RememberedAnswer(
            fingerprint: fingerprint, body: String(decoding: acceptedBytes, as: UTF8.self))

        var transaction = Transaction()
        transaction.claim(idempotencyKey, response: remembered.encoded())
        let commitLog = log

        ledger.record(events, into: transaction) { numbered, transaction, changesABooking in
            var transaction = transaction
            // Every booking older than the one already received: nothing changes, as the contract says (200
            // ignored). The delivery id is claimed all the same, with this answer, so a repeat gets it again.
            let stale = changesABooking ? nil : Self.staleAnswer(events, deliveryID: deliveryID)
            if let stale {
                let body = String(decoding: HTTPResponse.json(status: 200, stale).body, as: UTF8.self)
                transaction.claim(
                    idempotencyKey, response: RememberedAnswer(fingerprint: fingerprint, body: body).encoded())
            }
            store.commit(transaction) { [ledger, store, metrics, onAccepted] result in
                switch result {
                case .success(.committed):
                    if let stale {
                        responder(.json(status: 200, stale))
                        metrics.recordDelivery(source: source.name, result: .ignored)
                        commitLog.write(.info, "delivery ignored", ["reason": "\(stale.reason)"])
                        commitLog.note("ignored", 200, stale.reason)
                        return
                    }
                    // This runs on the journal's writer thread, between one group commit and the next: keep it short.
                    // The hand-off to the booking feed comes before the 202 (it only counts and enqueues), so whoever
                    // gets the 202 and then waits for the gateway to be idle finds the booking already queued.
                    // The log line comes after the answer: an on-call engineer needs one line per accepted delivery
                    // (with its client address), but a slow log write must not hold the 202 back. (Writing it from
                    // a queue of its own instead was measured slower: scripts/bench/README.md.)
                    onAccepted(numbered)
                    responder(
                        HTTPResponse(status: 202, headers: ["Content-Type": "application/json"], body: acceptedBytes))
                    metrics.recordDelivery(source: source.name, result: .accepted)
                    commitLog.write(.info, "delivery accepted", ["events": "\(events.count)"])
                    commitLog.note("accepted", 202, nil)
                case .success(.duplicate(let original)):
                    ledger.revert(numbered, store: store)
                    metrics.recordDelivery(source: source.name, result: .duplicate)
                    Self.answerRepeat(
                        of: original, fingerprint: fingerprint, deliveryID: deliveryID, log: commitLog,
                        responder: responder)
                case .failure(let error):
                    ledger.revert(numbered, store: store)
                    commitLog.write(
                        .error, "delivery not stored; answered 503", ["store.error": "\(error.code.rawValue)"])
                    metrics.recordDelivery(source: source.name, result: .rejected)
                    commitLog.note("rejected", 503, "the journal could not store it")
                    responder(
                        .error(
                            status: 503, type: "store_unavailable",
                            message: "The delivery could not be made durable, so it was not accepted; send it again.",
                            headers: ["Retry-After": "5"]))
                }
            }
        }
    }
}

extension WebhookIntake {
    /// Answers a delivery whose idempotency key the journal already holds: 200 with the first answer's body when
    /// the body is the same (by fingerprint), 422 when the sender reused the delivery id for other content.
    private static func answerRepeat(
        of original: [UInt8], fingerprint: String, deliveryID: String?, log: DeliveryLog, responder: Responder
    ) {
        guard let first = RememberedAnswer.decode(original), first.fingerprint == fingerprint else {
            log.write(.notice, "delivery refused: delivery id reused for a different body")
            log.note("rejected", 422, "delivery id reused for a different body")
            responder(
                .error(
                    status: 422, type: "idempotency_key_reused",
                    message:
                        "Delivery id \(deliveryID ?? "?") was already used for a different body; send new content with a new id."
                ))
            return
        }
        responder(
            HTTPResponse(
                status: 200, headers: ["Content-Type": "application/json", "Idempotent-Replayed": "true"],
                body: Array(first.body.utf8)))
        log.write(.info, "duplicate delivery answered from the journal")
        log.note("duplicate", 200, nil)
    }

    /// The 200 answer to a delivery whose bookings are all older than the ones already received for their
    /// reservations (by the PMS's `updated_at`: ``BookingVersion``).
    static func staleAnswer(_ events: [BookingEvent], deliveryID: String?) -> IgnoredBody {
        let ids = events.map(\.reservationID).joined(separator: ", ")
        let reason =
            events.count == 1
            ? "booking \(ids) is older than the one already received (by updated_at); nothing changes"
            : "bookings \(ids) are all older than the ones already received (by updated_at); nothing changes"
        return IgnoredBody(status: "ignored", reason: reason, deliveryID: deliveryID)
    }

    /// Whether a Content-Type names JSON (`application/json`, `application/vnd.x+json; charset=utf-8`, …): it
    /// contains `json` in any case. Byte by byte, without Foundation's string search: this runs per delivery.
    static func namesJSON(_ contentType: String) -> Bool {
        // The last four bytes seen, lower-cased (ASCII letters; other bytes only need to differ from the letters
        // of "json", which `| 0x20` keeps them doing), compared as one number: no copy of the header.
        let json =
            UInt32(UInt8(ascii: "j")) << 24 | UInt32(UInt8(ascii: "s")) << 16
            | UInt32(UInt8(ascii: "o")) << 8 | UInt32(UInt8(ascii: "n"))
        var window: UInt32 = 0
        var seen = 0
        for byte in contentType.utf8 {
            window = window << 8 | UInt32(byte | 0x20)
            seen += 1
            if seen >= 4 && window == json { return true }
        }
        return false
    }
}

/// The log lines of one delivery: who sent it and which reservations it carried, as metadata built only when a
/// line is written (not per request up front: the listener thread runs every delivery).
private struct DeliveryLog: Sendable {
    let logger: Logger
    let requestID: String
    let source: String
    let client: String
    /// The reservations of the delivery, once decoded.
    var reservations: [String] = []
    /// Where the outcome is noted for the console, or nil.
    var recent: RecentDeliveries?

    /// Notes the delivery's outcome for the console (never its body).
    func note(_ verdict: String, _ status: Int, _ reason: String?, signatureFailed: Bool = false) {
        recent?.record(
            RecentDeliveries.Entry(
                at: Date(), source: source, verdict: verdict, status: status, reason: reason,
                reservationIDs: reservations),
            signatureFailed: signatureFailed)
    }

    /// Writes one line at `level` with the delivery's metadata and `extra`.
    func write(_ level: Logger.Level, _ message: Logger.Message, _ extra: Logger.Metadata = [:]) {
        guard logger.logLevel <= level else { return }
        // Sized once for every member it gets (a literal of three would grow, reallocating, for the rest).
        var metadata = Logger.Metadata(minimumCapacity: 4 + extra.count)
        metadata["request.id"] = .string(requestID)
        metadata["source"] = .string(source)
        metadata["client"] = .string(client)
        if !reservations.isEmpty {
            metadata["reservation"] = .string(
                reservations.count == 1 ? reservations[0] : reservations.joined(separator: ","))
        }
        for (key, value) in extra { metadata[key] = value }
        logger.log(level: level, message, metadata: metadata)
    }
}

/// The 202 body.
struct AcceptedBody: Codable, Sendable {
    var status: String
    var deliveryID: String?
    var reservationIDs: [String]

    enum CodingKeys: String, CodingKey {
        case status
        case deliveryID = "delivery_id"
        case reservationIDs = "reservation_ids"
    }

    /// The body's bytes, as ``HTTPResponse/json(status:_:headers:)`` would encode them (sorted keys, slashes
    /// not escaped), written directly: this runs for every accepted delivery.
    func encoded() -> [UInt8] {
        var writer = JSONWriter(escapesSlashes: false, capacity: 128)
        writer.beginObject()
        if let deliveryID {
            writer.key(CodingKeys.deliveryID.rawValue)
            writer.string(deliveryID)
        }
        writer.key(CodingKeys.reservationIDs.rawValue)
        writer.beginArray()
        for id in reservationIDs { writer.string(id) }
        writer.endArray()
        writer.key(CodingKeys.status.rawValue)
        writer.string(status)
        writer.endObject()
        return writer.bytes
    }
}

/// The body of a 200 for an event Latchkey does not act on.
struct IgnoredBody: Codable, Sendable {
    var status: String
    var reason: String
    var deliveryID: String?

    enum CodingKeys: String, CodingKey {
        case status, reason
        case deliveryID = "delivery_id"
    }
}

/// What the journal keeps for a delivery id: the body's fingerprint and the first answer.
struct RememberedAnswer: Codable, Sendable {
    var fingerprint: String
    var body: String

    /// The journal's bytes: `{"body":…,"fingerprint":…}`, written directly (this runs for every accepted delivery).
    func encoded() -> [UInt8] {
        var writer = JSONWriter(capacity: body.utf8.count + 96)
        writer.beginObject()
        writer.key("body")
        writer.string(body)
        writer.key("fingerprint")
        writer.string(fingerprint)
        writer.endObject()
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) -> RememberedAnswer? {
        try? JSONDecoder().decode(RememberedAnswer.self, from: Data(bytes))
    }
}
