/// Latchkey's own booking webhook format, for PMSs without a built-in adapter and for tests:
///
/// ```json
/// {"event": "booking.created|booking.updated|booking.cancelled",
///  "booking": {"id": "r1", "listing_id": "l1", "status": "confirmed|pending|cancelled",
///              "check_in": "2025-07-14T15:00:00", "check_out": "2025-07-19T11:00:00",
///              "time_zone": "Europe/Berlin", "guest": {"name": "…", "phone": "…", "email": "…"},
///              "updated_at": "2025-07-01T09:00:00Z"}}
/// ```
///
/// Times without an offset are local (in `time_zone`, else the property's zone); with `Z` or an offset
/// they are instants. A bare date uses the property's default time. `booking.cancelled` cancels whatever
/// the status says. Unknown fields are ignored; unknown events are ignored.
package struct NativeAdapter: PMSAdapter {
    /// `native`.
    package let name = "native"

    /// The event types that carry a booking.
    package static let bookingEvents: Set<String> = ["booking.created", "booking.updated", "booking.cancelled"]

    /// Status values of the native format, one to one.
    static let statuses = StatusTable(
        pms: "native", ["confirmed": .confirmed, "pending": .pending, "cancelled": .cancelled])

    /// Every member ``decode(_:source:)`` reads; the rest of a body is checked but not built.
    static let readMembers = JSONMemberFilter([
        "event": nil,
        "booking": JSONMemberFilter([
            "id": nil, "listing_id": nil, "status": nil, "check_in": nil, "check_out": nil, "time_zone": nil,
            "guest": JSONMemberFilter("name", "phone"), "updated_at": nil,
        ]),
    ])

    /// Creates the adapter.
    package init() {}

    /// Decodes one native webhook body.
    package func decode(_ body: [UInt8], source: String) throws(AdapterError) -> AdapterOutcome {
        try decode(body, source: source, keeping: Self.readMembers)
    }

    /// Decodes one native webhook body, building only `members` of it (nil: all; tests compare the two).
    func decode(_ body: [UInt8], source: String, keeping members: JSONMemberFilter?) throws(AdapterError)
        -> AdapterOutcome
    {
        let root = try JSONObject.parse(body, keeping: members)
        let event = try root.string("event")
        guard Self.bookingEvents.contains(event) else {
            return .ignored(reason: "native event \"\(event)\" is not a booking change")
        }
        let booking = try root.object("booking")
        let status: BookingEvent.Status =
            event == "booking.cancelled"
            ? .cancelled : try Self.statuses.status(in: booking, key: "status")
        let timeZone = try booking.optionalTimeZone("time_zone")
        let (checkIn, checkOut) = try checkedStay(
            checkIn: try booking.optionalStayTime("check_in", timeZone: timeZone),
            checkOut: try booking.optionalStayTime("check_out", timeZone: timeZone),
            in: booking, checkInKey: "check_in", checkOutKey: "check_out")
        let guest = try booking.optionalObject("guest")
        return .events([
            BookingEvent(
                source: source,
                reservationID: try booking.id("id"),
                listingID: try booking.id("listing_id"),
                status: status,
                checkIn: checkIn,
                checkOut: checkOut,
                guestName: try guest?.optionalString("name"),
                guestPhone: try guest?.optionalString("phone"),
                updatedAt: try booking.optionalInstant("updated_at")
            )
        ])
    }
}
