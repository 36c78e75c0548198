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
}
