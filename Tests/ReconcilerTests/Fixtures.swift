import Bookings
import Foundation
import LatchkeyTestSupport
import Reconciler

/// Shared properties, events and a harness that wires a reconciler to the test doubles.
enum Fixture {
    /// 2026-06-01T00:00:00Z: "now" in most tests.
    static let now = instant("2026-06-01T00:00:00Z")

    /// Two locks in Berlin, Guesty listing L1.
    static let loft = Property(
        id: "loft", name: "Seaside Loft", listings: ["guesty": ["L1"]], deviceIDs: ["front", "back"],
        timeZone: "Europe/Berlin")
    /// One lock in Berlin, Guesty listing L2.
    static let cabin = Property(
        id: "cabin", name: "Cabin", listings: ["guesty": ["L2"]], deviceIDs: ["cabin-door"],
        timeZone: "Europe/Berlin")

    static let catalogue = PropertyCatalogue([loft, cabin])

    /// Parses an ISO 8601 instant (``utc(_:)``).
    static func instant(_ text: String) -> Date { utc(text) }

    /// A date-only stay time in the property's zone.
    static func day(_ month: Int, _ day: Int) -> StayTime {
        .local(date: LocalDate(year: 2026, month: month, day: day), time: nil, timeZone: nil)
    }

    /// A Guesty event for reservation `id`.
    static func event(
        _ status: BookingEvent.Status = .confirmed, id: String = "R1", listing: String = "L1",
        checkIn: StayTime? = day(6, 10), checkOut: StayTime? = day(6, 14), guest: String? = "Ada Lovelace",
        updatedAt: String? = nil
    ) -> BookingEvent {
        BookingEvent(
            source: "guesty", reservationID: id, listingID: listing, status: status, checkIn: checkIn,
            checkOut: checkOut, guestName: guest, updatedAt: updatedAt.map(instant))
    }

    static func key(_ id: String = "R1") -> ReservationKey {
        ReservationKey(source: "guesty", reservationID: id)
    }

    /// The window of a 10–14 June stay at the loft: 15:00 and 11:00 CEST.
    static let june10to14 = CodeWindow(
        startsAt: instant("2026-06-10T13:00:00Z"), endsAt: instant("2026-06-14T09:00:00Z"))
}

/// A reconciler on the in-memory store, the fake service and the test clock.
struct Harness {
    let store: InMemoryStateStore
    let seam: FakeAccessCodes
    let clock: TestClock
    let reconciler: Reconciler
    var sequence: UInt64 = 0

    init(
        catalogue: PropertyCatalogue = Fixture.catalogue, store: InMemoryStateStore = InMemoryStateStore(),
        seam: FakeAccessCodes = FakeAccessCodes(), clock: TestClock = TestClock(now: Fixture.now),
        pacer: any SeamPacer = UnpacedCalls(), configuration: ReconcilerConfiguration = ReconcilerConfiguration()
    ) async throws {
        self.store = store
        self.seam = seam
        self.clock = clock
        reconciler = Reconciler(
            catalogue: catalogue, service: seam, store: store, clock: clock, pacer: pacer,
            configuration: configuration, jitter: { $0 })
        try await reconciler.start()
    }

    /// A second reconciler on the same store and Seam, as after a restart.
    func restarted(catalogue: PropertyCatalogue = Fixture.catalogue) async throws -> Harness {
        var next = try await Harness(catalogue: catalogue, store: store, seam: seam, clock: clock)
        next.sequence = sequence
        return next
    }

    /// Applies events in order (receipt sequence continues) and waits for the worker to settle.
    @discardableResult
    mutating func send(_ events: BookingEvent...) async throws -> [Reconciler.EventDisposition] {
        var dispositions: [Reconciler.EventDisposition] = []
        for event in events {
            sequence += 1
            dispositions.append(try await reconciler.apply(event, receivedSequence: sequence))
        }
        await reconciler.waitUntilIdle()
        return dispositions
    }

    /// The reservation's snapshot.
    func state(_ id: String = "R1") async -> Reconciler.ReservationSnapshot? {
        await reconciler.reservation(Fixture.key(id))
    }
}
