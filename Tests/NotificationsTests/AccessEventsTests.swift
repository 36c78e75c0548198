import Bookings
import Foundation
import Reconciler
import Testing

@testable import Notifications

@Suite struct AccessEventsTests {
    typealias R = Records
    let now = Date(timeIntervalSince1970: 1_900_000_000)
    let afterStay = Date(timeIntervalSince1970: 1_900_500_000)

    func types(_ before: ReservationRecord?, _ after: ReservationRecord?, letter: DeadLetter? = nil, now: Date? = nil)
        -> [NotificationType]
    {
        AccessEvents.derive(before: before, after: after, deadLetter: letter, now: now ?? self.now).map(\.type)
    }

    @Test func aNewGroupIsNotReadyUntilEveryLockHasItsCode() {
        #expect(types(nil, R.record(nil)) == [])
        #expect(types(R.record(nil), R.record([.unconfirmed, .unconfirmed])) == [])
        #expect(types(R.record([.unconfirmed, .unconfirmed]), R.record([.set, .unconfirmed])) == [])
    }

    @Test func theLastLockSetMakesItReadyOnce() {
        #expect(types(R.record([.set, .unconfirmed]), R.record([.set, .set])) == [.ready])
        #expect(types(R.record([.set, .set]), R.record([.set, .set])) == [])
        // From nothing straight to set (adopted by a look-up, say).
        #expect(types(nil, R.record([.set, .set])) == [.ready])
    }

    @Test func aMovedWindowWhileReadyIsChangedWithThePreviousWindow() {
        let moved = CodeWindow(startsAt: R.window.startsAt.addingTimeInterval(-3_600), endsAt: R.window.endsAt)
        #expect(types(R.record([.set, .set]), R.record([.set, .set], window: moved)) == [.changed])
        // Not ready yet: the receiver hears of the window with access.ready.
        #expect(types(R.record([.set, .unconfirmed]), R.record([.set, .unconfirmed], window: moved)) == [])
    }

    @Test func anotherPINWhileReadyIsReadyAgain() {
        #expect(types(R.record([.set, .set]), R.record([.set, .set], pin: "9999")) == [.ready])
    }

    @Test func aLockThatFailsToTakeTheCodeIsFailedNamingTheLock() {
        let events = AccessEvents.derive(
            before: R.record([.set, .unconfirmed]), after: R.record([.set, .failedToSet]), now: now)
        #expect(events.map(\.type) == [.failed])
        #expect(events.first?.deviceIDs == ["dev_2"])
        // Still failing: no second event.
        #expect(types(R.record([.set, .failedToSet]), R.record([.set, .failedToSet])) == [])
    }

    @Test func aDeadLetterIsFailedWithItsMessage() throws {
        // As the reconciler stores it (its initializer is the reconciler's own).
        let letter = try JSONDecoder().decode(
            DeadLetter.self,
            from: Data(
                """
                {"id":"dl_1","reservation":{"source":"native","reservationID":"res_1"},"operation":"create_multiple",
                "message":"device offline","attempts":8,"failedAt":0}
                """.utf8))
        let events = AccessEvents.derive(
            before: R.record(nil), after: R.record(nil, blockedBy: "dl_1"), deadLetter: letter, now: now)
        #expect(events.map(\.type) == [.failed])
        #expect(events.first?.reason == "dead_letter: create_multiple: device offline")
        #expect(types(R.record(nil, blockedBy: "dl_1"), R.record(nil, blockedBy: "dl_1")) == [])
    }

    @Test func aCancelledGroupRemovedIsRevoked() {
        let events = AccessEvents.derive(
            before: R.record([.set, .set], status: .cancelled), after: R.record(nil, status: .cancelled), now: now)
        #expect(events.map(\.type) == [.revoked])
        #expect(events.first?.reason == "cancelled")
        // The first of two deletes leaves one live code: not yet revoked.
        var half = R.record([.set, .set], status: .cancelled)
        half.applied?.codes.removeFirst()
        #expect(types(R.record([.set, .set], status: .cancelled), half) == [])
    }

    @Test func aGroupMovedAwayIsRevokedThenReadyOnTheNewProperty() {
        let events = AccessEvents.derive(before: R.record([.set, .set]), after: R.record(nil), now: now)
        #expect(events.map(\.type) == [.revoked])
        #expect(events.first?.reason == "moved")
        #expect(types(R.record(nil), R.record([.set, .set])) == [.ready])
    }

    @Test func codesEndedAfterTheStayAreRevokedStayOver() {
        let before = R.record([.set, .removedExternally], live: true)
        let after = R.record([.removedExternally, .removedExternally], live: false)
        let events = AccessEvents.derive(before: before, after: after, now: afterStay)
        #expect(events.map(\.type) == [.revoked])
        #expect(events.first?.reason == "stay_over")
    }

    @Test func aCodeLostDuringTheStayIsRepairedNotRevoked() {
        // One lock's code removed at the lock: the group is not ready, no event; the repair makes it ready again.
        var lost = R.record([.set, .set])
        lost.applied?.codes[1].accessCodeID = nil
        lost.applied?.codes[1].status = .removedExternally
        #expect(types(R.record([.set, .set]), lost) == [])
        // Every code lost before the stay ends: still wanted, so no revocation either.
        #expect(types(R.record([.set]), R.record([.removedExternally], live: false)) == [])
        #expect(types(lost, R.record([.set, .set])) == [.ready])
    }

    @Test func forgettingARecordSaysNothing() {
        #expect(types(R.record([.set, .set]), nil) == [])
    }

    @Test func aScheduledCodeCountsAsOnTheLock() {
        // Seam schedules a time-bound code on the lock days ahead; the guest message must not wait for check-in.
        #expect(types(R.record([.set, .unconfirmed]), R.record([.set, .scheduled])) == [.ready])
        #expect(types(R.record([.scheduled, .scheduled]), R.record([.set, .set])) == [])
    }

    func checked(_ outcome: ArrivalCheck.Outcome, failing: Bool = true, backup: String? = nil) -> ReservationRecord {
        var record = R.record([.set, .unconfirmed])
        record.arrivalCheck = ArrivalCheck(
            checkedAt: now, leadTime: 7_200, accessStartsAt: R.window.startsAt, outcome: outcome,
            locks: [
                LockFinding(deviceID: "dev_1", accessCodeID: "ac_1", problems: [], action: .none),
                LockFinding(
                    deviceID: "dev_2", accessCodeID: "ac_2", problems: failing ? [.notOnDevice, .errors] : [],
                    errorCodes: ["device_offline"], action: failing ? .backupCode : .none,
                    backupCode: backup.map {
                        BackupAccessCode(
                            accessCodeID: "ac_b", deviceID: "dev_2", code: AccessPIN($0), startsAt: nil, endsAt: nil)
                    }),
            ])
        return record
    }

    @Test func aFailedPreArrivalCheckIsFailedOnceNamingTheLockThenOnceMoreWithItsBackupCode() {
        let failed = AccessEvents.derive(before: checked(.repairing), after: checked(.failed), now: now)
        #expect(failed.map(\.type) == [.failed])
        #expect(failed.first?.deviceIDs == ["dev_2"])
        #expect(failed.first?.reason == "pre_arrival_check: dev_2 not_on_device,errors")
        #expect(failed.first?.backupCode == nil)
        // The backup code pulled later: one more event carrying it; the same state again says nothing.
        let pulled = AccessEvents.derive(before: checked(.failed), after: checked(.failed, backup: "7305"), now: now)
        #expect(pulled.map(\.type) == [.failed])
        #expect(pulled.first?.backupCode == AccessPIN("7305"))
        #expect(types(checked(.failed, backup: "7305"), checked(.failed, backup: "7305")) == [])
        // Passing or repairing checks are not failures.
        #expect(types(checked(.failed), checked(.repaired, failing: false)) == [])
        #expect(types(nil, checked(.repairing)) == [])
        // A repair of a lock the check already names that fails again is not news.
        var repairFailed = checked(.repairing)
        repairFailed.applied?.codes[1].status = .failedToSet
        #expect(types(checked(.repairing), repairFailed) == [])
    }
}
