import Foundation

/// The map of the journal's keys: every key space Latchkey writes, the module that owns it, and how its keys are
/// spelled. Nothing else spells a key; the owner of a space is the only writer of its keys.
///
/// | prefix | owner | value |
/// |---|---|---|
/// | `delivery/<source>/<delivery id>` | Intake (`WebhookIntake`) | an idempotency claim: the first answer and the body's fingerprint |
/// | `booking/<source>/<reservation id>` | Intake (`BookingLedger`) | the reservation's latest booking event and its receipt order |
/// | `reconciler/reservation/<source>/<reservation id>` | Reconciler | desired and applied state, the codes made |
/// | `reconciler/outbox/<source>/<reservation id>` | Reconciler | the Seam call in flight (at most one per reservation) |
/// | `reconciler/dead/<dead letter id>` | Reconciler | a Seam call given up on, until it is retried |
/// | `notification/event/<sequence, 20 digits>` | Notifications | one access.* event and its delivery to each endpoint |
/// | `notification/endpoint/<endpoint id>` | Notifications | an endpoint disabled by a 410 answer |
/// | `seam/inbox/<webhook id>` | Gateway (`SeamEventInbox`) | a Seam event received by an instance without the work lease, until the holder applied it (PostgreSQL only) |
///
/// `delivery/` and `booking/` keys hold the parts as received (existing journals have them so); the reconciler's
/// keys percent-encode every byte outside ``isPlain(_:)``, so `/` in an id cannot collide.
package enum StoreKeys {
    /// Prefix of the idempotency claims of deliveries.
    package static let deliveries = "delivery/"
    /// Prefix of each reservation's latest booking.
    package static let bookings = "booking/"
    /// Prefix of reservation records.
    package static let reservations = "reconciler/reservation/"
    /// Prefix of in-flight outbox intents (at most one per reservation).
    package static let outbox = "reconciler/outbox/"
    /// Prefix of dead letters.
    package static let deadLetters = "reconciler/dead/"
    /// Prefix of notification events (the notification outbox).
    package static let notifications = "notification/event/"
    /// Prefix of notification endpoints' durable state (disabled by a 410).
    package static let notificationEndpoints = "notification/endpoint/"

    /// Prefix of Seam events kept for the instance holding the work lease (PostgreSQL shared by instances).
    package static let seamInbox = "seam/inbox/"

    /// The key of a Seam event kept for the instance holding the work lease: its delivery id.
    package static func seamInboxEvent(_ id: String) -> String { seamInbox + id }

    /// The idempotency key of a delivery that carries its own id (a `webhook-id` header, a body's event id).
    package static func delivery(source: String, deliveryID: String) -> String {
        "\(deliveries)\(source)/\(deliveryID)"
    }

    /// The idempotency key of a delivery without an id: its first reservation and the body's fingerprint.
    package static func delivery(source: String, reservationID: String, fingerprint: String) -> String {
        "\(deliveries)\(source)/\(reservationID)/\(fingerprint)"
    }

    /// The key of a reservation's latest booking: `booking/<source>/<reservation id>`.
    package static func booking(source: String, reservationID: String) -> String {
        "\(bookings)\(source)/\(reservationID)"
    }

    /// The record key of a reservation.
    package static func reservation(source: String, reservationID: String) -> String {
        reservations + encode(source: source, reservationID: reservationID)
    }

    /// The outbox intent key of a reservation.
    package static func intent(source: String, reservationID: String) -> String {
        outbox + encode(source: source, reservationID: reservationID)
    }

    /// The key of a dead letter.
    package static func deadLetter(_ id: String) -> String { deadLetters + id }

    /// The key of a notification event: its sequence, zero-padded to 20 digits so keys sort in sequence order.
    package static func notification(sequence: UInt64) -> String {
        let digits = String(sequence)
        return notifications + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// The key of a notification endpoint's state (its id is hex, see `NotificationEndpoint.id`).
    package static func notificationEndpoint(_ id: String) -> String { notificationEndpoints + id }

    /// Whether `part` (a source or a reservation id) is written as it is in store keys and code-name markers: only
    /// `A–Z a–z 0–9 . _ -`. Anything else is percent-encoded (store keys) or hashed (markers).
    package static func isPlain(_ part: String) -> Bool {
        part.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    /// `source/reservationID`, each percent-encoded so `/` and other bytes cannot collide.
    private static func encode(source: String, reservationID: String) -> String {
        "\(escape(source))/\(escape(reservationID))"
    }

    private static func escape(_ part: String) -> String {
        // Most ids need no escape; checking their bytes is far cheaper than Foundation's percent-encoding (which
        // leaves these bytes alone too). This runs for every booking the reconciler stores.
        isPlain(part) ? part : part.addingPercentEncoding(withAllowedCharacters: unescaped) ?? part
    }

    /// What ``escape(_:)`` leaves as is: letters and digits, `-`, `_`, `.` (built once, not per key).
    private static let unescaped = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
}
