import Bookings
import Configuration
import FakeSeam
import Foundation

/// Makes a large synthetic scenario in Latchkey's native body format with a known end state: for load replays
/// of a few thousand deliveries (`latchkey replay --generate N --reservations M`).
///
/// Each reservation starts with a creation, then gets date changes, cancellations and re-confirmations, each
/// with a later `updated_at`. The expected end state is that of each reservation's newest event, so the
/// scenario also holds under `--shuffle` for a server that orders events by `updated_at`.
package struct LoadGenerator: Sendable {
    /// How many deliveries. No default.
    package var deliveries: Int
    /// Across how many reservations (at most `deliveries`). No default.
    package var reservations: Int
    /// The configured source to post to; its adapter must be `native`. Default `native`.
    package var source: String
    /// The seed: the same seed gives the same scenario. Default 1.
    package var seed: UInt64
    /// The first check-in date; stays spread over the following 300 days. Default 2030-01-06.
    package var firstCheckIn: LocalDate

    /// Creates a generator.
    package init(
        deliveries: Int, reservations: Int, source: String = "native", seed: UInt64 = 1,
        firstCheckIn: LocalDate = LocalDate(year: 2030, month: 1, day: 6)
    ) {
        self.deliveries = deliveries
        self.reservations = reservations
        self.source = source
        self.seed = seed
        self.firstCheckIn = firstCheckIn
    }

    private struct Stay {
        var property: Property
        var checkIn: Int  // days after firstCheckIn
        var nights: Int
        var confirmed = true
    }

    /// Generates the scenario.
    ///
    /// - Parameter configuration: The Latchkey configuration: the source, and the properties with a listing
    ///   of that source (their zones, default times, buffers and locks give the expected windows).
    /// - Returns: One scenario with `deliveries` deliveries and one expectation per reservation.
    /// - Throws: ``ReplayError`` when the counts are out of range, the source is missing or not `native`, or no
    ///   property lists a listing of it.
    package func generate(configuration: LatchkeyConfiguration) throws(ReplayError) -> Scenario {
        guard deliveries >= 1, (1...deliveries).contains(reservations) else {
            throw ReplayError(
                "--generate needs at least one delivery and --reservations between 1 and the number of deliveries")
        }
        guard let settings = configuration.source(named: source) else {
            throw ReplayError(
                "no source named \"\(source)\" in the Latchkey configuration; generated bookings need a native source")
        }
        guard settings.adapter == "native" else {
            throw ReplayError(
                "source \(source) uses the \(settings.adapter) adapter; generated bookings are in the native format, so pick a source with adapter native"
            )
        }
        let properties = configuration.properties.filter { !($0.listings[source] ?? []).isEmpty }
        guard !properties.isEmpty else {
            throw ReplayError(
                "no property lists a listing of source \(source); map one under `properties[].listings.\(source)`")
        }
        var random = SeededRandom(seed: seed)
        var stays: [Stay] = []
        var sent: [Delivery] = []
        for index in 0..<deliveries {
            let r = index % reservations
            let kind: String
            if r == stays.count {
                stays.append(
                    Stay(
                        property: properties[r % properties.count], checkIn: Int(random.next() % 300),
                        nights: 2 + Int(random.next() % 6)))
                kind = "booking.created"
            } else {
                Self.change(&stays[r], random: &random)
                kind = "booking.updated"
            }
            sent.append(
                Delivery(
                    label: "r\(r) v\(index)",
                    body: .json(body(kind: kind, reservation: r, stay: stays[r], version: index))))
        }
        let expectations = stays.enumerated().map { r, stay in expectation(reservation: r, stay: stay) }
        return Scenario(
            name: "generated: \(deliveries) native deliveries across \(reservations) reservations (seed \(seed))",
            source: source,
            description: "Synthetic load from LoadGenerator; the newest event of each reservation decides.",
            deliveries: sent, expectations: expectations
        )
    }

    /// One change: a cancellation (15 %), a re-confirmation of a cancelled stay (50 %), else new dates.
    private static func change(_ stay: inout Stay, random: inout SeededRandom) {
        let roll = random.nextUnit()
        if stay.confirmed, roll < 0.15 {
            stay.confirmed = false
        } else if !stay.confirmed, roll < 0.5 {
            stay.confirmed = true
        } else {
            stay.checkIn = max(0, stay.checkIn + Int(random.next() % 3) - 1)
            stay.nights = max(1, stay.nights + Int(random.next() % 3) - 1)
        }
    }

    private func reservationID(_ r: Int) -> String { "gen\(seed)-\(r)" }

    private func body(kind: String, reservation r: Int, stay: Stay, version: Int) -> JSONBody {
        let listing = stay.property.listings[source]?.first ?? ""
        let checkIn = localText(day: stay.checkIn, time: stay.property.defaultCheckIn)
        let checkOut = localText(day: stay.checkIn + stay.nights, time: stay.property.defaultCheckOut)
        let updated = Date(timeIntervalSince1970: 1_875_000_000 + Double(version))
        return .object([
            ("event", .string(kind)),
            (
                "booking",
                .object([
                    ("id", .string(reservationID(r))),
                    ("listing_id", .string(listing)),
                    ("status", .string(stay.confirmed ? "confirmed" : "cancelled")),
                    ("check_in", .string(checkIn)),
                    ("check_out", .string(checkOut)),
                    ("time_zone", .string(stay.property.timeZone)),
                    ("guest", .object([("name", .string("Guest \(r)"))])),
                    ("updated_at", .string(RFC3339.format(updated))),
                ])
            ),
        ])
    }

    private func expectation(reservation r: Int, stay: Stay) -> ReservationExpectation {
        guard stay.confirmed else {
            return ReservationExpectation(source: source, reservationID: reservationID(r), group: .absent)
        }
        let property = stay.property
        let start = instant(day: stay.checkIn, time: property.defaultCheckIn, zone: property.timeZone)
            .addingTimeInterval(-Double(property.bufferBeforeCheckInMinutes) * 60)
        let end = instant(day: stay.checkIn + stay.nights, time: property.defaultCheckOut, zone: property.timeZone)
            .addingTimeInterval(Double(property.bufferAfterCheckOutMinutes) * 60)
        return ReservationExpectation(
            source: source, reservationID: reservationID(r), group: .present, deviceIDs: property.deviceIDs,
            startsAt: start, endsAt: end, samePinOnAllLocks: true
        )
    }

    private func date(day: Int) -> DateComponents {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let base = calendar.date(
            from: DateComponents(year: firstCheckIn.year, month: firstCheckIn.month, day: firstCheckIn.day))!
        return calendar.dateComponents(
            [.year, .month, .day], from: calendar.date(byAdding: .day, value: day, to: base)!)
    }

    private func localText(day: Int, time: LocalTime) -> String {
        let d = date(day: day)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", d.year!, d.month!, d.day!, time.hour, time.minute, time.second)
    }

    /// The wall-clock time `time` on `day` in `zone`, as an instant (DST included).
    private func instant(day: Int, time: LocalTime, zone: String) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!
        var components = date(day: day)
        components.hour = time.hour
        components.minute = time.minute
        components.second = time.second
        return calendar.date(from: components)!
    }
}
