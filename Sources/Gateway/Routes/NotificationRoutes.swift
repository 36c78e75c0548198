import Bookings
import Foundation
import HTTPServer
import Logging
import Notifications
import Reconciler

/// The admin API's notification routes, behind the same bearer token:
/// `GET /v1/reservations/{source}/{id}/notifications` (the reservation's `access.*` events and each endpoint's
/// delivery, never the PIN), `GET /v1/notification-endpoints` (pending, retrying, delivered, expired, disabled per
/// endpoint) and `POST /v1/notification-endpoints/{id}/enable` (after a 410 disabled it).
extension AdminAPI {
    /// Registers the routes; without a dispatcher (no `notifications:`) they answer 404 saying how to configure it.
    /// - Parameters:
    ///   - dispatcher: The running dispatcher, or `nil`.
    ///   - router: Where to register.
    func registerNotifications(_ dispatcher: NotificationDispatcher?, on router: inout Router) {
        @Sendable func configured(
            _ work: @escaping @Sendable (NotificationDispatcher, HTTPRequest) async -> HTTPResponse
        )
            -> @Sendable (HTTPRequest) async -> HTTPResponse
        {
            guarded { request in
                guard let dispatcher else {
                    return .error(
                        status: 404, type: "notifications_not_configured",
                        message: "No notification endpoint is configured; add one under `notifications:`.")
                }
                return await work(dispatcher, request)
            }
        }
        router.add(
            "GET", "/v1/reservations/{source}/{id}/notifications",
            async: configured { dispatcher, request in
                let key = ReservationKey(
                    source: request.pathParameters["source"] ?? "", reservationID: request.pathParameters["id"] ?? "")
                let list = await dispatcher.notifications(for: key)
                return .json(
                    status: 200, NotificationsView(notifications: list.map(NotificationView.init)),
                    headers: ["Cache-Control": "no-store"])
            })
        router.add(
            "GET", "/v1/notification-endpoints",
            async: configured { dispatcher, _ in
                .json(
                    status: 200, EndpointsView(endpoints: await dispatcher.stats().map(EndpointView.init)),
                    headers: ["Cache-Control": "no-store"])
            })
        router.add(
            "POST", "/v1/notification-endpoints/{id}/enable",
            async: configured { [logger] dispatcher, request in
                let id = request.pathParameters["id"] ?? ""
                do {
                    try await dispatcher.enable(endpointID: id)
                    logger.notice("admin: notification endpoint enabled", metadata: ["endpoint": "\(id)"])
                    return .json(status: 200, ["status": "enabled", "id": id])
                } catch let error as NotificationError {
                    return .error(status: 404, type: "unknown_endpoint", message: error.description)
                } catch {
                    return .error(
                        status: 503, type: "store_unavailable", message: "Could not enable: \(error)",
                        headers: ["Retry-After": "5"])
                }
            })
    }
}

/// `GET /v1/reservations/{source}/{id}/notifications`.
struct NotificationsView: Encodable {
    var notifications: [NotificationView]
}

/// One event and its deliveries; never the PIN.
struct NotificationView: Encodable {
    struct Delivery: Encodable {
        var endpoint: String
        var state: String
        var attempts: Int
        var lastError: String?
        var finishedAt: String?
        enum CodingKeys: String, CodingKey {
            case endpoint, state, attempts
            case lastError = "last_error"
            case finishedAt = "finished_at"
        }
    }
    var webhookID: String
    var type: String
    var sequence: UInt64
    var occurredAt: String
    var reason: String?
    var deliveries: [Delivery]

    enum CodingKeys: String, CodingKey {
        case webhookID = "webhook_id"
        case occurredAt = "occurred_at"
        case type, sequence, reason, deliveries
    }

    init(_ row: StoredNotification) {
        webhookID = row.id
        type = row.type.rawValue
        sequence = row.sequence
        occurredAt = row.occurredAt.ISO8601Format()
        reason = row.reason
        deliveries = row.deliveries.keys.sorted().compactMap { id in
            row.deliveries[id].map {
                Delivery(
                    endpoint: id, state: $0.state.rawValue, attempts: $0.attempts, lastError: $0.lastError,
                    finishedAt: $0.finishedAt?.ISO8601Format())
            }
        }
    }
}

/// `GET /v1/notification-endpoints`.
struct EndpointsView: Encodable {
    var endpoints: [EndpointView]
}

/// One endpoint's figures.
struct EndpointView: Encodable {
    var id: String
    var url: String
    var pending: Int
    var retrying: Int
    var delivered: Int
    var expired: Int
    var disabled: Bool

    init(_ stats: NotificationDispatcher.EndpointStats) {
        id = stats.id
        url = stats.url
        pending = stats.pending
        retrying = stats.retrying
        delivered = stats.delivered
        expired = stats.expired
        disabled = stats.disabled
    }
}
