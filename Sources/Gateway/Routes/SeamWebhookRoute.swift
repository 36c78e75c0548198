import Foundation
import HTTPServer
import Logging
import Observability
import Reconciler
import WebhookAuth

/// `POST /seam/webhooks`: Seam's own events (Svix-signed) saying whether each code reached its lock.
///
/// `set_on_device` marks the lock's code set. `failed_to_set_on_device`, `removed_from_device`, `deleted`,
/// `deleted_external_to_seam` and `modified_external_to_seam` make the reservation's record uncertain: its
/// codes are read back from Seam, and a lock that lost its code gets the group's PIN again, inside the group.
struct SeamWebhookRoute: Sendable {
    /// Checks Seam's signatures (see ``verifier(secret:)``); `nil` turns the route into a 404 that says how to
    /// configure it.
    let verifier: WebhookVerifier?
    /// Where an event goes.
    enum Target: Sendable {
        /// The reconciler of this instance (it does the work: flat files, or the holder of the work lease).
        case reconciler(Reconciler)
        /// Kept in the shared store for the instance holding the work lease.
        case inbox(SeamEventInbox)
    }

    /// Told which reservations' codes to read back, or where events are kept for the instance that is.
    let target: Target
    /// Counts the events by type.
    let metrics: Metrics
    /// Where refusals and events are logged.
    let logger: Logger

    /// The verifier of Seam's signatures for `secret`, made before anything starts so that a bad secret stops the
    /// start at once.
    /// - Parameter secret: The `whsec_` secret, or `nil` when none is configured.
    /// - Returns: The verifier, or `nil` without a secret.
    /// - Throws: `WebhookVerifier.ConfigurationError` when the secret is not a valid `whsec_` secret.
    static func verifier(secret: String?) throws(WebhookVerifier.ConfigurationError) -> WebhookVerifier? {
        guard let secret else { return nil }
        return try WebhookVerifier(scheme: .standardWebhooks(), secrets: [Secret(secret)])
    }

    func register(on router: inout Router) {
        router.add("POST", "/seam/webhooks", async: handle)
    }

    @Sendable func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard let verifier else {
            return .error(
                status: 404, type: "not_configured",
                message: "Seam webhooks are not configured; set seam.webhook_secret to the endpoint's whsec_ secret.")
        }
        do {
            _ = try verifier.verify(header: { request.headers[$0] }, body: request.body)
        } catch {
            metrics.recordSignatureFailure(source: "seam", reason: error.reason.rawValue)
            logger.notice("Seam webhook refused", metadata: ["auth.reason": "\(error.reason.rawValue)"])
            return .error(status: 401, type: "unauthorized", message: error.message)
        }
        guard let event = try? JSONDecoder().decode(SeamLockEvent.self, from: Data(request.body)) else {
            return .error(
                status: 400, type: "invalid_payload",
                message: "event_type: expected a Seam event object with event_type")
        }
        let kind = Reconciler.LockEventKind(eventType: event.eventType)
        guard let kind, let accessCodeID = event.accessCodeID else {
            return .json(status: 200, ["status": "ignored", "reason": "event type \(event.eventType) needs no action"])
        }
        let reconciler: Reconciler
        switch target {
        case .reconciler(let this): reconciler = this
        case .inbox(let inbox):
            do {
                try await inbox.keep(event, id: request.headers["webhook-id"])
                logger.info(
                    "Seam event kept for the instance holding the work lease",
                    metadata: ["seam.event": "\(event.eventType)", "access_code_id": "\(accessCodeID)"])
                return .json(status: 200, ["status": "recorded"])
            } catch {
                logger.error("Seam event not kept", metadata: ["error": "\(error)"])
                return .error(
                    status: 503, type: "store_unavailable",
                    message: "The event could not be recorded; Seam will send it again.",
                    headers: ["Retry-After": "5"])
            }
        }
        do {
            let known = try await reconciler.recordLockEvent(accessCodeID: accessCodeID, kind: kind)
            logger.info(
                "Seam event recorded",
                metadata: [
                    "seam.event": "\(event.eventType)", "access_code_id": "\(accessCodeID)", "known": "\(known)",
                ])
            guard known else {
                return .json(
                    status: 200,
                    ["status": "ignored", "reason": "access code \(accessCodeID) is not managed by Latchkey"])
            }
            return .json(status: 200, ["status": "recorded"])
        } catch {
            logger.error("Seam event not recorded", metadata: ["error": "\(error)"])
            return .error(
                status: 503, type: "store_unavailable",
                message: "The event could not be recorded; Seam will send it again.", headers: ["Retry-After": "5"])
        }
    }
}

/// What Latchkey reads of a Seam event (the body of `POST /seam/webhooks`, and what ``SeamEventInbox`` keeps of it
/// for the instance holding the work lease).
struct SeamLockEvent: Codable, Sendable {
    var eventType: String
    var accessCodeID: String?

    enum CodingKeys: String, CodingKey {
        case eventType = "event_type"
        case accessCodeID = "access_code_id"
    }
}
