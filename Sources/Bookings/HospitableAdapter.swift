import Foundation

/// Hospitable Public API v2 webhooks (pms-webhooks.md §1.3, §6.2):
/// `{"id": "<ULID>", "action": "reservation.created|reservation.changed", "created": "…Z", "version", "data": {…}}`.
///
/// The envelope `id` is returned as the delivery id. `data` may be one reservation or an array of them. The listing is `data.properties[0].id` (present only
/// when the integration has the `property:read` scope). `check_in`/`check_out` carry the offset valid
/// on that day and are used as instants; without them the date of `arrival_date`/`departure_date` is
/// used with the property's default times. The reservation has no updated-at, so the envelope `created`
/// orders events. Other actions (`property.*`, `message.created`, …) are ignored.
package struct HospitableAdapter: PMSAdapter {
    /// `hospitable`.
    package let name = "hospitable"

    /// Actions that carry a reservation.
    package static let reservationActions: Set<String> = ["reservation.created", "reservation.changed"]

    /// Hospitable `reservation_status.current.category` (or the deprecated `status`) → access.
    ///
    /// | Hospitable | Latchkey | why |
    /// |---|---|---|
    /// | `accepted` | confirmed | a booked stay |
    /// | `request`, `unknown` | pending | not (yet) booked |
    /// | `cancelled`, `not accepted` | cancelled | will not happen (declined, withdrawn, expired) |
    static let statuses = StatusTable(
        pms: "Hospitable",
        [
            "accepted": .confirmed,
            "request": .pending, "unknown": .pending,
            "cancelled": .cancelled, "not accepted": .cancelled,
        ])

    /// Creates the adapter.
    package init() {}

    /// Decodes one Hospitable webhook body.
    package func decode(_ body: [UInt8], source: String) throws(AdapterError) -> AdapterOutcome {
        let root = try JSONObject.parse(body)
        let deliveryID = try root.optionalString("id")
        let action = try root.string("action")
        guard Self.reservationActions.contains(action) else {
            return .ignored(
                reason: "Hospitable action \"\(action)\" is not a reservation change", deliveryID: deliveryID)
        }
        let updatedAt = try root.optionalInstant("created")
        var events: [BookingEvent] = []
        for data in try root.objects("data") {
            events.append(try event(from: data, source: source, updatedAt: updatedAt))
        }
        return .events(events, deliveryID: deliveryID)
    }

    private func event(from data: JSONObject, source: String, updatedAt: Date?) throws(AdapterError) -> BookingEvent {
        guard let property = try data.firstObject(inArray: "properties") else {
            throw AdapterError(
                field: data.pathOf("properties"),
                problem:
                    "is missing or empty; give the Hospitable integration the property:read scope so webhooks name the property"
            )
        }
        let status: BookingEvent.Status
        if let current = try data.optionalObject("reservation_status")?.optionalObject("current") {
            status = try Self.statuses.status(in: current, key: "category")
        } else {
            status = try Self.statuses.status(in: data, key: "status")
        }
        let (checkIn, checkOut) = try checkedStay(
            checkIn: try stay(data, instantKey: "check_in", dateKey: "arrival_date"),
            checkOut: try stay(data, instantKey: "check_out", dateKey: "departure_date"),
            in: data, checkInKey: "check_in", checkOutKey: "check_out")
        let guest = try data.optionalObject("guest")
        return BookingEvent(
            source: source,
            reservationID: try data.id("id"),
            listingID: try property.id("id"),
            status: status,
            checkIn: checkIn,
            checkOut: checkOut,
            guestName: joinedName(try guest?.optionalString("first_name"), try guest?.optionalString("last_name")),
            guestPhone: try guest?.firstString(inArray: "phone_numbers"),
            updatedAt: updatedAt
        )
    }

    private func stay(_ data: JSONObject, instantKey: String, dateKey: String) throws(AdapterError) -> StayTime? {
        if let stay = try data.optionalStayTime(instantKey) { return stay }
        return try data.optionalDate(dateKey).map { .local(date: $0, time: nil, timeZone: nil) }
    }
}
