/// Hostaway unified webhooks (pms-webhooks.md §1.2, §6.3): `{"event": "reservation.created|reservation.updated",
/// "data": {…reservation…}}`.
///
/// Dates are the listing-local `arrivalDate`/`departureDate` with the integer hours `checkInTime`/
/// `checkOutTime` (null → the property's default), always in the property's zone (the reservation carries
/// none). When `isDatesUnspecified` is set the dates are placeholders (yesterday), so the event has none.
/// Test pings (`"data": "test"`) and other events are ignored. Cancellation is a status.
package struct HostawayAdapter: PMSAdapter {
    /// `hostaway`.
    package let name = "hostaway"

    /// Event names that carry a reservation.
    package static let reservationEvents: Set<String> = ["reservation.created", "reservation.updated"]

    /// Hostaway status → access.
    ///
    /// | Hostaway | Latchkey | why |
    /// |---|---|---|
    /// | `new`, `modified` | confirmed | a booked stay (modified is still booked) |
    /// | `ownerStay` | confirmed | the owner arrives and needs the door too |
    /// | `pending`, `awaitingPayment`, `awaitingGuestVerification`, `unconfirmed`, `inquiry`, `inquiryPreapproved`, `unknown` | pending | not yet booked |
    /// | `cancelled`, `declined`, `expired`, `inquiryDenied`, `inquiryTimedout`, `inquiryNotPossible` | cancelled | will not happen |
    static let statuses = StatusTable(
        pms: "Hostaway",
        [
            "new": .confirmed, "modified": .confirmed, "ownerStay": .confirmed,
            "pending": .pending, "awaitingPayment": .pending, "awaitingGuestVerification": .pending,
            "unconfirmed": .pending, "inquiry": .pending, "inquiryPreapproved": .pending, "unknown": .pending,
            "cancelled": .cancelled, "declined": .cancelled, "expired": .cancelled,
            "inquiryDenied": .cancelled, "inquiryTimedout": .cancelled, "inquiryNotPossible": .cancelled,
        ])

    /// Creates the adapter.
    package init() {}

    /// Decodes one Hostaway webhook body.
    package func decode(_ body: [UInt8], source: String) throws(AdapterError) -> AdapterOutcome {
        let root = try JSONObject.parse(body)
        if case .string(let text) = root["data"], text == "test" {
            return .ignored(reason: "Hostaway test ping")
        }
        let event = try root.string("event")
        guard Self.reservationEvents.contains(event) else {
            return .ignored(reason: "Hostaway event \"\(event)\" is not a reservation change")
        }
        let data = try root.object("data")
        var checkIn: StayTime?
        var checkOut: StayTime?
        if try !data.flag("isDatesUnspecified") {
            checkIn = try stay(data, dateKey: "arrivalDate", hourKey: "checkInTime")
            checkOut = try stay(data, dateKey: "departureDate", hourKey: "checkOutTime")
        }
        return .events([
            BookingEvent(
                source: source,
                reservationID: try data.id("id"),
                listingID: try data.id("listingMapId"),
                status: try Self.statuses.status(in: data, key: "status"),
                checkIn: checkIn,
                checkOut: checkOut,
                guestName: firstPresent(
                    try data.optionalString("guestName"),
                    joinedName(try data.optionalString("guestFirstName"), try data.optionalString("guestLastName"))),
                guestPhone: try data.optionalString("phone"),
                updatedAt: try data.optionalInstant("updatedOn", localMeansUTC: true)
            )
        ])
    }

    private func stay(_ data: JSONObject, dateKey: String, hourKey: String) throws(AdapterError) -> StayTime {
        guard let date = try data.optionalDate(dateKey) else { throw data.missing(dateKey) }
        let hour = try data.optionalInt(hourKey)
        if let hour, !(0...23).contains(hour) {
            throw AdapterError(field: data.pathOf(hourKey), problem: "must be an hour 0…23, not \(hour)")
        }
        return .local(date: date, time: hour.map { LocalTime(hour: $0) }, timeZone: nil)
    }
}
