/// Guesty Open API reservation webhooks (pms-webhooks.md §1.1, §6.1).
///
/// Legacy: `{"event": "reservation.new|reservation.updated", "reservation": {…}}`. The v2 events
/// (`reservation.created.v2`, `reservation.updated.v2`) are accepted with the event name in `event` or
/// `eventType` and the reservation in `reservation`, `data.reservation` or `data` (their exact shape is
/// not documented). Lean v2 bodies without `listingId` or `status` are rejected naming the field. The
/// order key is `lastUpdatedAt`, else the v2 envelope's `publishedAt`.
///
/// Dates: the listing-local `checkInDateLocalized` with `plannedArrival` (`HH:mm`), else the embedded
/// listing's `defaultCheckInTime`, else the property's default, in the embedded `listing.timezone` or the
/// property's zone. Without a localized date, the `checkIn` instant is used.
/// Cancellation is a status (`canceled`, `declined`, `expired`, `closed`); Guesty has no cancel event.
package struct GuestyAdapter: PMSAdapter {
    /// `guesty`.
    package let name = "guesty"

    /// Event names that carry a reservation; every other Guesty event is ignored.
    package static let reservationEvents: Set<String> = [
        "reservation.new", "reservation.updated", "reservation.created.v2", "reservation.updated.v2",
    ]

    /// Guesty status → access.
    ///
    /// | Guesty | Latchkey | why |
    /// |---|---|---|
    /// | `confirmed`, `checked_in`, `checked_out` | confirmed | a booked stay |
    /// | `inquiry`, `reserved`, `awaiting_payment`, `pending` | pending | a hold or an unpaid request |
    /// | `canceled`, `cancelled`, `declined`, `expired`, `closed` | cancelled | Guesty's cancel statuses |
    static let statuses = StatusTable(
        pms: "Guesty",
        [
            "confirmed": .confirmed, "checked_in": .confirmed, "checked_out": .confirmed,
            "inquiry": .pending, "reserved": .pending, "awaiting_payment": .pending, "pending": .pending,
            "canceled": .cancelled, "cancelled": .cancelled, "declined": .cancelled, "expired": .cancelled,
            "closed": .cancelled,
        ])

    /// Creates the adapter.
    package init() {}

    /// Decodes one Guesty webhook body.
    package func decode(_ body: [UInt8], source: String) throws(AdapterError) -> AdapterOutcome {
        let root = try JSONObject.parse(body)
        guard let event = firstPresent(try root.optionalString("event"), try root.optionalString("eventType")) else {
            throw root.missing("event")
        }
        guard Self.reservationEvents.contains(event) else {
            return .ignored(reason: "Guesty event \"\(event)\" is not a reservation change")
        }
        let data = try root.optionalObject("data")
        guard
            let reservation = firstPresent(
                try root.optionalObject("reservation"), try data?.optionalObject("reservation"), data)
        else {
            throw root.missing("reservation")
        }
        let listing = try reservation.optionalObject("listing")
        guard let listingID = firstPresent(try reservation.optionalID("listingId"), try listing?.optionalID("_id"))
        else {
            throw reservation.missing("listingId")
        }
        let timeZone = try listing?.optionalTimeZone("timezone")
        let (checkIn, checkOut) = try checkedStay(
            checkIn: try stay(
                reservation, dateKey: "checkInDateLocalized", timeKey: "plannedArrival",
                listingTimeKey: "defaultCheckInTime", instantKey: "checkIn", listing: listing, timeZone: timeZone),
            checkOut: try stay(
                reservation, dateKey: "checkOutDateLocalized", timeKey: "plannedDeparture",
                listingTimeKey: "defaultCheckOutTime", instantKey: "checkOut", listing: listing, timeZone: timeZone),
            in: reservation, checkInKey: "checkInDateLocalized", checkOutKey: "checkOutDateLocalized")
        let guest = try reservation.optionalObject("guest")
        let guestName = firstPresent(
            try guest?.optionalString("fullName"),
            joinedName(try guest?.optionalString("firstName"), try guest?.optionalString("lastName")))
        guard let reservationID = firstPresent(try reservation.optionalID("_id"), try reservation.optionalID("id"))
        else {
            throw reservation.missing("_id")
        }
        return .events([
            BookingEvent(
                source: source,
                reservationID: reservationID,
                listingID: listingID,
                status: try Self.statuses.status(in: reservation, key: "status"),
                checkIn: checkIn,
                checkOut: checkOut,
                guestName: guestName,
                guestPhone: try guest?.optionalString("phone"),
                updatedAt: firstPresent(
                    try reservation.optionalInstant("lastUpdatedAt"), try root.optionalInstant("publishedAt"))
            )
        ])
    }

    private func stay(
        _ reservation: JSONObject, dateKey: String, timeKey: String, listingTimeKey: String, instantKey: String,
        listing: JSONObject?, timeZone: String?
    ) throws(AdapterError) -> StayTime? {
        if let date = try reservation.optionalDate(dateKey) {
            let time = firstPresent(try reservation.optionalTime(timeKey), try listing?.optionalTime(listingTimeKey))
            return .local(date: date, time: time, timeZone: timeZone)
        }
        return try reservation.optionalStayTime(instantKey, timeZone: timeZone)
    }
}
