import Bookings
import Foundation
import LatchkeyTestSupport
import Reconciler
import Synchronization
import Testing

@testable import Intake

/// The hand-off from the intake to the reconciler.
@Suite struct BookingFeedTests {
    /// Reconciler storage whose every write takes a few milliseconds, like a slow disk; counts reservation writes.
    final class SlowStateStore: StateStore {
        let entries = Mutex<[String: [UInt8]]>([:])
        let reservationWrites = Atomic<Int>(0)

        func put(_ key: String, _ value: [UInt8]) async throws {
            try await Task.sleep(for: .milliseconds(5))
            if key.hasPrefix(StoreKeys.reservations) { reservationWrites.add(1, ordering: .relaxed) }
            entries.withLock { $0[key] = value }
        }

        func delete(_ key: String) async throws {
            _ = entries.withLock { $0.removeValue(forKey: key) }
        }

        func entries(prefix: String) async throws -> [(key: String, value: [UInt8])] {
            entries.withLock { $0.filter { $0.key.hasPrefix(prefix) }.map { (key: $0.key, value: $0.value) } }
        }
    }

    /// Seam is never reached here: the bookings' listing belongs to no property.
    struct UnreachableSeam: AccessCodeService {
        struct Unexpected: Error {}
        func createMultiple(
            deviceIDs: [String], name: String, startsAt: Date, endsAt: Date, preferredCodeLength: Int,
            behavior: Property.CodeSharingBehavior
        ) async throws -> [CreatedCode] { throw Unexpected() }
        func createSingle(
            deviceID: String, name: String, code: AccessPIN, commonCodeKey: String?, startsAt: Date, endsAt: Date
        ) async throws -> CreatedCode { throw Unexpected() }
        func updateMultiple(commonCodeKey: String, name: String, startsAt: Date, endsAt: Date) async throws {
            throw Unexpected()
        }
        func updateSingle(accessCodeID: String, name: String, startsAt: Date, endsAt: Date) async throws {
            throw Unexpected()
        }
        func delete(accessCodeID: String) async throws { throw Unexpected() }
        func listCodes(deviceID: String) async throws -> [ExistingCode] { throw Unexpected() }
    }

    /// Reconciler storage that counts its writes of several keys at once.
    final class CountingStateStore: StateStore {
        let entries = Mutex<[String: [UInt8]]>([:])
        let writes = Mutex<[Int]>([])

        func put(_ key: String, _ value: [UInt8]) async throws { try await putAll([(key, value)]) }

        func putAll(_ entries: [(key: String, value: [UInt8])]) async throws {
            try await Task.sleep(for: .milliseconds(2))
            writes.withLock { $0.append(entries.count) }
            self.entries.withLock { stored in for entry in entries { stored[entry.key] = entry.value } }
        }

        func delete(_ key: String) async throws {
            _ = entries.withLock { $0.removeValue(forKey: key) }
        }

        func entries(prefix: String) async throws -> [(key: String, value: [UInt8])] {
            entries.withLock { $0.filter { $0.key.hasPrefix(prefix) }.map { (key: $0.key, value: $0.value) } }
        }
    }

    @Test("a burst of deliveries reaches the reconciler in chunks, one write each, all of it and in order")
    func aBurstIsAppliedInChunks() async throws {
        let store = CountingStateStore()
        let reconciler = Reconciler(
            catalogue: PropertyCatalogue([]), service: UnreachableSeam(), store: store,
            logger: quietLogger)
        try await reconciler.start()
        let feed = BookingFeed(reconciler: reconciler, logger: quietLogger)
        let burst = 300
        for number in 1...burst {
            // Every third delivery changes reservation 1 again: its last state must win.
            let id = number % 3 == 0 ? "res-1" : "res-\(number)"
            let event = BookingEvent(
                source: "native", reservationID: id, listingID: "unmapped", status: .confirmed,
                checkIn: nil, checkOut: nil, guestName: "guest \(number)")
            feed.submit([StoredBooking(event: event, sequence: UInt64(number))])
        }
        await feed.waitUntilDrained()
        let writes = store.writes.withLock { $0 }
        #expect(writes.count < burst / 10, "\(writes.count) writes for \(burst) bookings")
        #expect(writes.allSatisfy { $0 <= BookingFeed.maximumChunk })
        let snapshots = await reconciler.reservations()
        #expect(snapshots.count == burst - burst / 3)  // res-1 is number 1 and every third
        #expect(
            await reconciler.reservation(ReservationKey(source: "native", reservationID: "res-1"))?.desired?.guestName
                == "guest 300")
        await feed.finish()
        await reconciler.stop()
    }

    @Test("shutdown leaves a backlog for the next start instead of applying it all first")
    func finishDoesNotDrainTheBacklog() async throws {
        let store = SlowStateStore()
        let reconciler = Reconciler(
            catalogue: PropertyCatalogue([]), service: UnreachableSeam(), store: store,
            logger: quietLogger)
        try await reconciler.start()
        let feed = BookingFeed(reconciler: reconciler, logger: quietLogger)
        let backlog = 200
        for number in 1...backlog {
            let event = BookingEvent(
                source: "native", reservationID: "res-\(number)", listingID: "unmapped",
                status: .confirmed, checkIn: nil, checkOut: nil)
            feed.submit([StoredBooking(event: event, sequence: UInt64(number))])
        }
        while store.reservationWrites.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        await feed.finish()
        let applied = store.reservationWrites.load(ordering: .relaxed)
        // Applying all 200 takes at least a second of writes; finishing waits only for the booking in hand.
        #expect(applied < backlog / 2, "applied \(applied) of \(backlog) before finishing")
        await reconciler.stop()
    }
}
