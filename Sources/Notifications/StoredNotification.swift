import Bookings
import Foundation
import Reconciler

/// One `access.*` event in the notification outbox (`notification/event/<sequence>`), written in the same journal
/// transaction as the reservation record it reports, and its delivery to each endpoint.
package struct StoredNotification: Sendable, Codable, Hashable {
    /// One lock of the group as the event reports it.
    package struct Lock: Sendable, Codable, Hashable {
        /// Seam's `device_id`.
        package var deviceID: String
        /// What Latchkey knows about the lock's code (``LockCodeStatus``'s raw value).
        package var status: String

        /// Creates a value.
        package init(deviceID: String, status: String) {
            self.deviceID = deviceID
            self.status = status
        }
    }

    /// Where one endpoint's delivery stands.
    package enum DeliveryState: String, Sendable, Codable, Hashable {
        /// Not yet answered 2xx: sent or retried when due (held while the endpoint is disabled).
        case pending
        /// Answered 2xx.
        case delivered
        /// Retried for the endpoint's whole retry period without a 2xx; given up.
        case expired
    }

    /// One endpoint's delivery of this event.
    package struct Delivery: Sendable, Codable, Hashable {
        /// Where it stands.
        package var state: DeliveryState
        /// Attempts made (counted since the last start for pending deliveries).
        package var attempts: Int
        /// The last failure: a status code or a transport error; never a body or a PIN.
        package var lastError: String?
        /// When it was delivered or given up, on the dispatcher's clock.
        package var finishedAt: Date?

        /// A delivery not tried yet.
        package static let pending = Delivery(state: .pending, attempts: 0, lastError: nil, finishedAt: nil)
    }

    /// The outbox order (the key's suffix); increasing in commit order per reservation.
    package var sequence: UInt64
    /// The `webhook-id`: the same for every attempt and after every restart, so receivers de-duplicate by it.
    package var id: String
    /// The event.
    package var type: NotificationType
    /// The reservation.
    package var reservation: ReservationKey
    /// When the change was committed, on the dispatcher's clock (the payload's `timestamp`; retries count from it).
    package var occurredAt: Date
    /// The property, its name and IANA time zone, when known.
    package var propertyID: String?
    /// The property's name.
    package var propertyName: String?
    /// The property's IANA time zone, for the window in local time.
    package var timeZone: String?
    /// The group's locks.
    package var locks: [Lock]
    /// The group's window (for `access.revoked`, the window it had).
    package var window: CodeWindow?
    /// The window before the move (`access.changed`).
    package var previousWindow: CodeWindow?
    /// The group's PIN; stored only when some endpoint has `include_pin`, sent only to those.
    package var pin: AccessPIN?
    /// A backup code pulled for a failed lock; like the PIN, only for endpoints with `include_pin`.
    package var backupCode: AccessPIN?
    /// Why (failed, revoked).
    package var reason: String?
    /// The locks a failure is about.
    package var failedDeviceIDs: [String]
    /// Each endpoint's delivery, by endpoint id; endpoints whose filter leaves the event out have none.
    package var deliveries: [String: Delivery]

    /// Whether no delivery is pending.
    package var isSettled: Bool { deliveries.values.allSatisfy { $0.state != .pending } }
}

/// The JSON body an endpoint receives (Standard Webhooks' `type`, `timestamp`, `data`).
struct NotificationBody: Encodable {
    struct Window: Encodable {
        var startsAt: String
        var endsAt: String
        var startsAtLocal: String?
        var endsAtLocal: String?
        var timeZone: String?

        enum CodingKeys: String, CodingKey {
            case startsAt = "starts_at"
            case endsAt = "ends_at"
            case startsAtLocal = "starts_at_local"
            case endsAtLocal = "ends_at_local"
            case timeZone = "time_zone"
        }

        init(_ window: CodeWindow, timeZone: String?) {
            startsAt = NotificationBody.utc(window.startsAt)
            endsAt = NotificationBody.utc(window.endsAt)
            self.timeZone = timeZone
            if let zone = timeZone.flatMap(TimeZone.init(identifier:)) {
                startsAtLocal = NotificationBody.local(window.startsAt, zone)
                endsAtLocal = NotificationBody.local(window.endsAt, zone)
            }
        }
    }
    struct Property: Encodable {
        var id: String
        var name: String?
        var timeZone: String?
        enum CodingKeys: String, CodingKey {
            case id, name
            case timeZone = "time_zone"
        }
    }
    struct Lock: Encodable {
        var deviceID: String
        var status: String
        enum CodingKeys: String, CodingKey {
            case deviceID = "device_id"
            case status
        }
    }
    struct Data: Encodable {
        var reservationID: String
        var source: String
        var property: Property?
        var locks: [Lock]
        var window: Window?
        var previousWindow: Window?
        var pin: String?
        var reason: String?
        var failedDeviceIDs: [String]?
        var backupCode: String?

        enum CodingKeys: String, CodingKey {
            case reservationID = "reservation_id"
            case source, property, locks, window, pin, reason
            case previousWindow = "previous_window"
            case failedDeviceIDs = "failed_device_ids"
            case backupCode = "backup_code"
        }
    }
    var type: String
    var timestamp: String
    var data: Data

    /// The body of `notification` for an endpoint; the PIN and backup code only when `includePIN`.
    init(_ notification: StoredNotification, includePIN: Bool) {
        type = notification.type.rawValue
        timestamp = Self.utc(notification.occurredAt)
        data = Data(
            reservationID: notification.reservation.reservationID, source: notification.reservation.source,
            property: notification.propertyID.map {
                Property(id: $0, name: notification.propertyName, timeZone: notification.timeZone)
            },
            locks: notification.locks.map { Lock(deviceID: $0.deviceID, status: $0.status) },
            window: notification.window.map { Window($0, timeZone: notification.timeZone) },
            previousWindow: notification.previousWindow.map { Window($0, timeZone: notification.timeZone) },
            pin: includePIN ? notification.pin?.digits : nil, reason: notification.reason,
            failedDeviceIDs: notification.failedDeviceIDs.isEmpty ? nil : notification.failedDeviceIDs,
            backupCode: includePIN ? notification.backupCode?.digits : nil)
    }

    /// The exact bytes sent (sorted keys, so every attempt sends, and signs, the same body).
    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain strings and arrays cannot fail.
        return (try? Array(encoder.encode(self))) ?? []
    }

    /// RFC 3339 in UTC: `2030-07-14T10:00:00Z`.
    static func utc(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }

    /// RFC 3339 with the zone's offset: `2030-07-14T12:00:00+02:00`.
    static func local(_ date: Date, _ zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssXXXXX"
        return formatter.string(from: date)
    }
}
