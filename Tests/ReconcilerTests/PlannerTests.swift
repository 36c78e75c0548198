import Bookings
import Foundation
import Reconciler
import Testing

@Suite("Planner: one pure step from desired and applied")
struct PlannerTests {
    private func desired(_ event: BookingEvent, catalogue: PropertyCatalogue = Fixture.catalogue) -> DesiredAccess {
        DesiredAccess.resolve(
            DesiredBooking(event, version: EventVersion(updatedAt: nil, receivedSequence: 1)),
            key: Fixture.key(event.reservationID), catalogue: catalogue, naming: CodeNaming())
    }

    private func spec(_ event: BookingEvent = Fixture.event()) throws -> GroupSpec {
        guard case .group(let spec) = desired(event) else {
            Issue.record("expected a group for \(event)")
            throw CancellationError()
        }
        return spec
    }

    private func applied(
        _ spec: GroupSpec, window: CodeWindow? = nil, statuses: [LockCodeStatus]? = nil
    ) -> AppliedGroup {
        let codes = spec.deviceIDs.enumerated().map { index, device in
            AppliedCode(
                deviceID: device, accessCodeID: "ac-\(index)", pin: AccessPIN("1234"), commonCodeKey: "ck",
                window: window ?? spec.window, name: spec.name, status: statuses?[index] ?? .set)
        }
        return AppliedGroup(propertyID: spec.propertyID, commonCodeKey: "ck", codes: codes)
    }

    @Test func confirmedBookingWithoutCodesCreatesAGroupOnEveryLock() throws {
        let spec = try spec()
        #expect(spec.deviceIDs == ["front", "back"])
        #expect(spec.window == Fixture.june10to14)
        #expect(spec.name.hasSuffix("[lk:guesty:R1]"))
        #expect(Planner.nextStep(desired: .group(spec), applied: nil, now: Fixture.now) == .create(spec))
    }

    @Test func buffersWidenTheWindow() throws {
        var loft = Fixture.loft
        loft.bufferBeforeCheckInMinutes = 60
        loft.bufferAfterCheckOutMinutes = 30
        guard case .group(let spec) = desired(Fixture.event(), catalogue: PropertyCatalogue([loft])) else {
            Issue.record("expected a group")
            return
        }
        #expect(spec.window.startsAt == Fixture.instant("2026-06-10T12:00:00Z"))
        #expect(spec.window.endsAt == Fixture.instant("2026-06-14T09:30:00Z"))
    }

    @Test func convergedGroupNeedsNothing() throws {
        let spec = try spec()
        #expect(Planner.nextStep(desired: .group(spec), applied: applied(spec), now: Fixture.now) == .none(.converged))
    }

    @Test func changedDatesMoveTheWindowByCommonKey() throws {
        let spec = try spec()
        let old = CodeWindow(startsAt: spec.window.startsAt.addingTimeInterval(3600), endsAt: spec.window.endsAt)
        #expect(
            Planner.nextStep(desired: .group(spec), applied: applied(spec, window: old), now: Fixture.now)
                == .moveWindow(commonCodeKey: "ck", window: spec.window, name: spec.name))
    }

    @Test func repairedCodeWithoutTheKeyIsMovedOnItsOwn() throws {
        let spec = try spec()
        var group = applied(spec)
        group.codes[1].commonCodeKey = nil
        group.codes[1].window = CodeWindow(
            startsAt: spec.window.startsAt, endsAt: spec.window.endsAt.addingTimeInterval(60))
        #expect(
            Planner.nextStep(desired: .group(spec), applied: group, now: Fixture.now)
                == .moveCode(accessCodeID: "ac-1", window: spec.window, name: spec.name))
    }

    @Test func pendingAndCancelledWantNoCodes() throws {
        let spec = try spec()
        let group = applied(spec)
        #expect(
            Planner.nextStep(desired: desired(Fixture.event(.pending)), applied: nil, now: Fixture.now)
                == .none(.noAccess))
        #expect(
            Planner.nextStep(desired: desired(Fixture.event(.cancelled)), applied: group, now: Fixture.now)
                == .remove(group.codes))
    }

    @Test func unknownDatesWaitAndRemoveWhatExists() throws {
        let event = Fixture.event(checkIn: nil, checkOut: nil)
        #expect(desired(event) == .noGroup(.waiting))
        let group = applied(try spec())
        #expect(Planner.nextStep(desired: desired(event), applied: group, now: Fixture.now) == .remove(group.codes))
    }

    @Test func checkOutNotAfterCheckInOrAnUnknownZoneIsInvalid() {
        #expect(
            desired(Fixture.event(checkIn: Fixture.day(6, 14), checkOut: Fixture.day(6, 14))) == .noGroup(.invalidDates)
        )
        var lost = Fixture.loft
        lost.timeZone = "Mars/Olympus"
        #expect(desired(Fixture.event(), catalogue: PropertyCatalogue([lost])) == .noGroup(.invalidDates))
    }

    @Test func localTimesAreReadInTheirZoneAndDateOnlyTimesUseTheDefaults() throws {
        let winter = try spec(
            Fixture.event(checkIn: .local(date: LocalDate(year: 2026, month: 1, day: 10), time: nil, timeZone: nil)))
        #expect(winter.window.startsAt == Fixture.instant("2026-01-10T14:00:00Z"))
        let explicit = StayTime.local(
            date: LocalDate(year: 2026, month: 6, day: 10), time: LocalTime(hour: 16, minute: 30),
            timeZone: "America/New_York")
        #expect(try spec(Fixture.event(checkIn: explicit)).window.startsAt == Fixture.instant("2026-06-10T20:30:00Z"))
        let absolute = Fixture.instant("2026-06-10T08:00:00Z")
        #expect(try spec(Fixture.event(checkIn: .instant(absolute))).window.startsAt == absolute)
    }

    @Test func unknownListingIsUnmappedAndTouchesNothing() throws {
        let event = Fixture.event(listing: "nope")
        #expect(desired(event) == .unmapped)
        #expect(
            Planner.nextStep(desired: .unmapped, applied: applied(try spec()), now: Fixture.now) == .none(.unmapped))
    }

    @Test func pastStayNeedsNoActionWithOrWithoutCodes() throws {
        let spec = try spec()
        let later = Fixture.instant("2026-06-14T09:00:00Z")
        #expect(Planner.nextStep(desired: .group(spec), applied: nil, now: later) == .none(.past))
        #expect(
            Planner.nextStep(desired: .group(spec), applied: applied(spec, window: Fixture.june10to14), now: later)
                == .none(.past))
    }

    @Test func otherPropertyRecreates_AndALockWithoutACodeGetsTheGroupsPINAgain() throws {
        let spec = try spec()
        var group = applied(spec)
        group.codes.removeLast()
        // The same property: the lock the record has no code for is repaired inside the group, never a new group.
        #expect(
            Planner.nextStep(desired: .group(spec), applied: group, now: Fixture.now)
                == .repair(RepairSpec(deviceID: "back", staleAccessCodeID: nil, window: spec.window, name: spec.name)))
        let moved = try self.spec(Fixture.event(listing: "L2"))
        let old = applied(spec)
        #expect(
            Planner.nextStep(desired: .group(moved), applied: old, now: Fixture.now)
                == .recreate(remove: old.codes, create: moved))
    }

    @Test func failedCodeIsDeletedThenRecreatedAndRemovedCodeRecreatedAtOnce() throws {
        let spec = try spec()
        let failed = applied(spec, statuses: [.set, .failedToSet])
        #expect(
            Planner.nextStep(desired: .group(spec), applied: failed, now: Fixture.now)
                == .repair(
                    RepairSpec(deviceID: "back", staleAccessCodeID: "ac-1", window: spec.window, name: spec.name)))
        var removed = applied(spec, statuses: [.removedExternally, .set])
        removed.codes[0].accessCodeID = nil
        #expect(
            Planner.nextStep(desired: .group(spec), applied: removed, now: Fixture.now)
                == .repair(RepairSpec(deviceID: "front", staleAccessCodeID: nil, window: spec.window, name: spec.name)))
    }
}
