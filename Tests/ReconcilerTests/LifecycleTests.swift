import Bookings
import Foundation
import Reconciler
import Testing

@Suite("Booking lifecycle against the access-code double")
struct LifecycleTests {
    @Test func newConfirmedBookingGetsOneLinkedGroupWithTheSamePINOnEveryLock() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        #expect(await harness.seam.count(.createMultiple) == 1)
        let state = try #require(await harness.state())
        #expect(state.phase == .converged)
        let group = try #require(state.applied)
        #expect(group.propertyID == "loft")
        #expect(group.deviceIDs == ["front", "back"])
        #expect(group.commonCodeKey != nil)
        #expect(Set(group.codes.map(\.pin)).count == 1)
        #expect(group.codes.allSatisfy { $0.window == Fixture.june10to14 && $0.name == "Ada R1 [lk:guesty:R1]" })
        #expect(await harness.seam.codes(on: "back").map(\.name) == ["Ada R1 [lk:guesty:R1]"])
    }

    @Test(arguments: [
        ("early check-in", Fixture.day(6, 9), Fixture.day(6, 14)),
        ("late checkout", Fixture.day(6, 10), Fixture.day(6, 16)),
        ("shortened", Fixture.day(6, 11), Fixture.day(6, 13)),
    ])
    func changedDatesMoveTheSameGroupWithUpdateMultiple(change: String, checkIn: StayTime, checkOut: StayTime)
        async throws
    {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        let before = try #require(await harness.state()?.applied)
        try await harness.send(Fixture.event(checkIn: checkIn, checkOut: checkOut))
        let after = try #require(await harness.state()?.applied)
        #expect(await harness.seam.count(.createMultiple) == 1, "\(change)")
        #expect(await harness.seam.count(.updateMultiple) == 1, "\(change)")
        #expect(after.codes.map(\.accessCodeID) == before.codes.map(\.accessCodeID))
        #expect(after.pin == before.pin)
        let onLock = try #require(await harness.seam.codes(on: "front").first)
        #expect(onLock.startsAt == after.codes[0].window.startsAt && onLock.endsAt == after.codes[0].window.endsAt)
        #expect(after.codes[0].window != Fixture.june10to14)
    }

    @Test func cancellationDeletesEveryCodeOfTheGroup() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        try await harness.send(Fixture.event(.cancelled))
        #expect(await harness.seam.count(.delete) == 2)
        #expect(await harness.seam.codes.isEmpty)
        let state = try #require(await harness.state())
        #expect(state.applied == nil)
        #expect(state.phase == .noAccess)
    }

    @Test func codesAlreadyGoneCountAsDeleted() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        for code in await harness.seam.codes.values {
            await harness.seam.removeBehindOurBack(code.accessCodeID)
        }
        try await harness.send(Fixture.event(.cancelled))
        #expect(await harness.reconciler.deadLetterList().isEmpty)
        #expect(await harness.state()?.phase == .noAccess)
    }

    @Test func reconfirmationAfterCancellationCreatesANewGroup() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        try await harness.send(Fixture.event(.cancelled))
        try await harness.send(Fixture.event())
        #expect(await harness.seam.count(.createMultiple) == 2)
        #expect(await harness.seam.codes.count == 2)
        #expect(await harness.state()?.phase == .converged)
    }

    @Test func movedListingRemovesTheOldGroupAndCreatesOneOnTheNewProperty() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        try await harness.send(Fixture.event(listing: "L2"))
        #expect(await harness.seam.codes(on: "front").isEmpty)
        #expect(await harness.seam.codes(on: "back").isEmpty)
        #expect(await harness.seam.codes(on: "cabin-door").count == 1)
        let group = try #require(await harness.state()?.applied)
        #expect(group.propertyID == "cabin")
        let routes = await harness.seam.calls.map(\.route)
        #expect(routes == [.createMultiple, .delete, .delete, .createMultiple])
    }

    @Test func aLockAddedToThePropertyJoinsTheGroupWithItsPIN_AndALockTakenAwayLosesItsCode() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        let before = try #require(await harness.state()?.applied)
        var loft = Fixture.loft
        loft.deviceIDs = ["front", "back", "garage"]
        await harness.reconciler.updateCatalogue(PropertyCatalogue([loft, Fixture.cabin]))
        await harness.reconciler.waitUntilIdle()
        var group = try #require(await harness.state()?.applied)
        #expect(group.deviceIDs == ["front", "back", "garage"])
        #expect(await harness.seam.count(.delete) == 0)
        #expect(await harness.seam.count(.createMultiple) == 1)
        #expect(await harness.seam.count(.createSingle) == 1)
        let codes = await harness.seam.codes.values
        #expect(codes.count == 3)
        #expect(Set(codes.map(\.code)) == [before.pin])
        #expect(Set(codes.map(\.commonCodeKey)) == [before.commonCodeKey])
        #expect(await harness.state()?.phase == .converged)

        loft.deviceIDs = ["front", "garage"]
        await harness.reconciler.updateCatalogue(PropertyCatalogue([loft, Fixture.cabin]))
        await harness.reconciler.waitUntilIdle()
        group = try #require(await harness.state()?.applied)
        #expect(group.deviceIDs == ["front", "garage"])
        #expect(await harness.seam.codes(on: "back").isEmpty)
        #expect(await harness.seam.codes.count == 2)
        #expect(await harness.state()?.phase == .converged)
    }

    @Test func updateArrivingBeforeCreateWinsAndTheLateCreateIsIgnored() async throws {
        var harness = try await Harness()
        let update = Fixture.event(checkOut: Fixture.day(6, 16), updatedAt: "2026-05-02T00:00:00Z")
        let create = Fixture.event(updatedAt: "2026-05-01T00:00:00Z")
        let dispositions = try await harness.send(update, create)
        #expect(dispositions == [.accepted, .ignored])
        #expect(await harness.seam.count(.createMultiple) == 1)
        #expect(await harness.seam.count(.updateMultiple) == 0)
        #expect(await harness.state()?.applied?.codes[0].window.endsAt == Fixture.instant("2026-06-16T09:00:00Z"))
    }

    @Test func cancelArrivingBeforeCreateMeansNoCodesEver() async throws {
        var harness = try await Harness()
        let cancel = Fixture.event(.cancelled, updatedAt: "2026-05-03T00:00:00Z")
        let create = Fixture.event(updatedAt: "2026-05-01T00:00:00Z")
        try await harness.send(cancel, create)
        #expect(await harness.seam.calls.isEmpty)
        #expect(await harness.state()?.phase == .noAccess)
    }

    @Test func staleCancelAfterARepeatedConfirmationKeepsTheGroup() async throws {
        var harness = try await Harness()
        let created = Fixture.event(updatedAt: "2026-05-01T00:00:00Z")
        let reconfirmed = Fixture.event(updatedAt: "2026-05-03T00:00:00Z")  // same state, newer
        let staleCancel = Fixture.event(.cancelled, updatedAt: "2026-05-02T00:00:00Z")
        let dispositions = try await harness.send(created, reconfirmed, staleCancel)
        #expect(dispositions == [.accepted, .accepted, .ignored])
        #expect(await harness.seam.calls.map(\.route) == [.createMultiple])
        #expect(await harness.state()?.phase == .converged)
    }

    @Test func duplicateDeliveriesCreateOnce() async throws {
        var harness = try await Harness()
        let event = Fixture.event(updatedAt: "2026-05-01T00:00:00Z")
        let dispositions = try await harness.send(event, event, event)
        #expect(dispositions == [.accepted, .ignored, .ignored])
        #expect(await harness.seam.calls.map(\.route) == [.createMultiple])
    }

    @Test func unspecifiedDatesWaitWithoutCodesUntilDatesArrive() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event(checkIn: nil, checkOut: nil))
        #expect(await harness.seam.calls.isEmpty)
        #expect(await harness.state()?.phase == .waiting)
        try await harness.send(Fixture.event())
        #expect(await harness.state()?.phase == .converged)
        #expect(await harness.seam.count(.createMultiple) == 1)
    }

    @Test func unknownListingIsSurfacedAsUnmappedWithoutCalls() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event(listing: "not-configured"))
        #expect(await harness.seam.calls.isEmpty)
        #expect(await harness.state()?.phase == .unmapped)
    }

    @Test func pastStayGetsNoCodes() async throws {
        var harness = try await Harness(clock: TestClock(now: Fixture.instant("2026-07-01T00:00:00Z")))
        try await harness.send(Fixture.event())
        #expect(await harness.seam.calls.isEmpty)
        #expect(await harness.state()?.phase == .past)
    }

    @Test func pendingBookingGetsNoCodesUntilConfirmed() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event(.pending))
        #expect(await harness.seam.calls.isEmpty)
        #expect(await harness.state()?.phase == .noAccess)
    }

    @Test func restartWithConvergedStateMakesNoCalls() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        await harness.reconciler.stop()
        let callsBefore = await harness.seam.calls.count
        let restarted = try await harness.restarted()
        await restarted.reconciler.waitUntilIdle()
        #expect(await harness.seam.calls.count == callsBefore)
        #expect(await restarted.state()?.phase == .converged)
        #expect(await restarted.state()?.applied?.pin != nil)
    }
}

@Suite("Housekeeping")
struct HousekeepingTests {
    @Test func guestRenameRenamesTheGroupInPlace() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        try await harness.send(Fixture.event(guest: "Grace Hopper"))
        #expect(await harness.seam.calls.map(\.route) == [.createMultiple, .updateMultiple])
        #expect(await harness.seam.codes.values.allSatisfy { $0.name == "Grace R1 [lk:guesty:R1]" })
    }

    @Test func settledPastReservationsAreForgottenAndLiveOnesKept() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event(id: "R1"))
        try await harness.send(Fixture.event(.cancelled, id: "R2", checkOut: Fixture.day(6, 20)))
        try await harness.send(Fixture.event(id: "R3", checkIn: nil, checkOut: nil))
        harness.clock.advance(by: 30 * 86_400)
        let forgotten = try await harness.reconciler.forgetReservations(
            endedBefore: Fixture.instant("2026-06-15T00:00:00Z"))
        #expect(forgotten == [Reconciler.ForgottenReservation(key: Fixture.key("R1"), receivedSequence: 1)])
        #expect(await harness.state("R1") == nil)
        #expect(await harness.state("R2") != nil)
        #expect(await harness.state("R3") != nil)
        #expect(await harness.store.keys(prefix: "reconciler/reservation/").count == 2)

        try await harness.send(Fixture.event(id: "R1"))
        #expect(await harness.state("R1")?.phase == .past)
        #expect(await harness.seam.count(.createMultiple) == 1)
    }

    @Test func scheduledOnDevice_MarksOnlyACodeNotYetHeardOf() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        let codes = try #require(await harness.state()?.applied?.codes)
        let (first, second) = (codes[0].accessCodeID!, codes[1].accessCodeID!)
        func status(_ id: String) async -> LockCodeStatus? {
            await harness.reconciler.reservation(Fixture.key())?.applied?.codes.first { $0.accessCodeID == id }?.status
        }
        try await harness.reconciler.recordLockEvent(accessCodeID: first, kind: .scheduled)
        #expect(await status(first) == .scheduled)
        try await harness.reconciler.recordLockEvent(accessCodeID: first, kind: .set)
        try await harness.reconciler.recordLockEvent(accessCodeID: first, kind: .scheduled)
        #expect(await status(first) == .set, "a late scheduled_on_device does not take back set")
        try await harness.reconciler.recordLockEvent(accessCodeID: second, kind: .failedToSet)
        try await harness.reconciler.recordLockEvent(accessCodeID: second, kind: .scheduled)
        #expect(await status(second) != .scheduled, "nor hides a failure that needs repair")
        #expect(Reconciler.LockEventKind(eventType: "access_code.scheduled_on_device") == .scheduled)
    }

    @Test func aPastStayWhoseCodesSeamReportsRemovedIsStillForgotten() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        let group = try #require(await harness.state()?.applied)
        harness.clock.advance(by: 30 * 86_400)
        // Seam removes time-bound codes at their end and says so; the record is then uncertain, but the stay is
        // over: nothing is planned for it, and it must not be kept forever for want of a read-back.
        for code in group.codes {
            await harness.seam.removeBehindOurBack(code.accessCodeID!)
            try await harness.reconciler.recordLockEvent(accessCodeID: code.accessCodeID!, kind: .removedExternally)
        }
        await harness.reconciler.waitUntilIdle()
        #expect(await harness.state()?.phase == .past)
        let forgotten = try await harness.reconciler.forgetReservations(
            endedBefore: Fixture.instant("2026-06-20T00:00:00Z"))
        #expect(forgotten.map(\.key) == [Fixture.key()])
        #expect(await harness.store.keys(prefix: "reconciler/reservation/").isEmpty)
    }
}

@Suite("Booking events applied in batches")
struct BatchApplyTests {
    @Test func aBatchIsFoldedInOrder_StoredInOneWrite_AndEveryChangedReservationIsWorkedOn() async throws {
        let harness = try await Harness()
        let events: [(event: BookingEvent, receivedSequence: UInt64)] = [
            (Fixture.event(id: "R1", updatedAt: "2026-05-01T10:00:00Z"), 1),
            (Fixture.event(id: "R2", updatedAt: "2026-05-01T10:00:00Z"), 2),
            (Fixture.event(id: "R1", checkOut: Fixture.day(6, 16), updatedAt: "2026-05-02T10:00:00Z"), 3),
            (Fixture.event(.cancelled, id: "R2", updatedAt: "2026-04-01T10:00:00Z"), 4),  // older: ignored
        ]
        let dispositions = try await harness.reconciler.apply(events)
        #expect(dispositions == [.accepted, .accepted, .accepted, .ignored])
        #expect(await harness.store.putAllSizes == [2], "one write holding each changed record once")
        await harness.reconciler.waitUntilIdle()
        #expect(await harness.seam.count(.createMultiple) == 2)
        let r1 = try #require(await harness.state("R1")?.applied)
        #expect(
            r1.codes.allSatisfy { $0.window.endsAt == Fixture.instant("2026-06-16T09:00:00Z") },
            "the later R1 event won")
        #expect(await harness.state("R2")?.phase == .converged, "the older cancellation changed nothing")
        let ordered = await harness.reconciler.reservations()
        #expect(ordered.map(\.key) == [Fixture.key("R1"), Fixture.key("R2")])
        #expect(Set(await harness.reconciler.reservations(ordered: false)) == Set(ordered))
    }

    @Test func aBatchTheStoreRefuses_IsNotAppliedAtAll_AndCanBeSentAgain() async throws {
        let harness = try await Harness()
        await harness.store.failPuts(prefix: StoreKeys.reservations, skip: 1)
        let events: [(event: BookingEvent, receivedSequence: UInt64)] = [
            (Fixture.event(id: "R1"), 1), (Fixture.event(id: "R2"), 2),
        ]
        await #expect(throws: InMemoryStateStore.DiskFull.self) { try await harness.reconciler.apply(events) }
        #expect(await harness.state("R1") == nil)
        #expect(await harness.state("R2") == nil)
        #expect(await harness.store.keys(prefix: StoreKeys.reservations).isEmpty)
        #expect(try await harness.reconciler.apply(events) == [.accepted, .accepted], "not taken for a duplicate")
        await harness.reconciler.waitUntilIdle()
        #expect(await harness.seam.count(.createMultiple) == 2)
    }

    @Test(arguments: [true, false])
    func recordsOfReservationsNotYetActedOnAreStoredOnlyWhenConfigured(storesBeforeActing: Bool) async throws {
        var harness = try await Harness(
            configuration: ReconcilerConfiguration(storesRecordsBeforeActing: storesBeforeActing))
        try await harness.send(Fixture.event(.pending))
        #expect(await harness.seam.calls.isEmpty)
        #expect(await harness.state()?.phase == .noAccess, "known in memory either way")
        let storedWhilePending = await harness.store.keys(prefix: StoreKeys.reservations)
        #expect(storedWhilePending == (storesBeforeActing ? [StoreKeys.reservation(Fixture.key())] : []))

        // The first Seam call stores the record either way, and every change after it is stored too.
        try await harness.send(Fixture.event(.confirmed))
        #expect(await harness.seam.count(.createMultiple) == 1)
        #expect(await harness.store.keys(prefix: StoreKeys.reservations) == [StoreKeys.reservation(Fixture.key())])
        try await harness.send(Fixture.event(.confirmed, guest: "Grace Hopper"))
        let restarted = try await harness.restarted()
        let known = try #require(await restarted.state())
        #expect(known.desired?.guestName == "Grace Hopper", "the stored record is never behind")
        #expect(known.applied != nil)
    }

    @Test func aRestartedReconcilerThatStoresNothingBeforeActing_LearnsBookingsAgainFromItsCaller() async throws {
        let configuration = ReconcilerConfiguration(storesRecordsBeforeActing: false)
        var harness = try await Harness(configuration: configuration)
        try await harness.send(Fixture.event(.pending, id: "R1"), Fixture.event(.confirmed, id: "R2"))
        let restarted = Reconciler(
            catalogue: Fixture.catalogue, service: harness.seam, store: harness.store, clock: harness.clock,
            configuration: configuration, jitter: { $0 })
        try await restarted.start()
        #expect(await restarted.reservation(Fixture.key("R1")) == nil, "never stored: the caller's to hand over")
        #expect(await restarted.reservation(Fixture.key("R2"))?.applied != nil, "stored with its first call")
        // What the gateway does at start: every latest booking again, in receipt order.
        try await restarted.apply([(Fixture.event(.pending, id: "R1"), 1), (Fixture.event(.confirmed, id: "R2"), 2)])
        await restarted.waitUntilIdle()
        #expect(await restarted.reservation(Fixture.key("R1"))?.phase == .noAccess)
        #expect(await restarted.reservation(Fixture.key("R2"))?.phase == .converged)
        #expect(await harness.seam.count(.createMultiple) == 1, "nothing made twice")
    }
}
