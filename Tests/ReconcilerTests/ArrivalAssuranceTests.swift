import Bookings
import Foundation
import LatchkeyTestSupport
import Testing

@testable import Reconciler

/// The loft's 10–14 June stay: codes from 2026-06-10T13:00Z. The check points: 48 h, 2 h, backup at 1 h.
private enum Arrival {
    static let in47Hours = Fixture.instant("2026-06-08T14:00:00Z")
    static let in90Minutes = Fixture.instant("2026-06-10T11:30:00Z")
    static let in50Minutes = Fixture.instant("2026-06-10T12:10:00Z")
}

/// A harness whose confirmed June stay has its group on both loft locks, scheduled on them.
private func harnessWithGroup(offline: Set<String> = [], backupPool: Bool = false) async throws -> Harness {
    var harness = try await Harness()
    await harness.seam.setOffline(offline)
    if backupPool { await harness.seam.enableBackupPool() }
    try await harness.send(Fixture.event())
    await harness.seam.scheduleEverything()
    return harness
}

/// Runs the due checks at `instant` and waits until the worker is idle.
@discardableResult
private func check(_ harness: Harness, at instant: Date) async throws -> Int {
    harness.clock.advance(by: instant.timeIntervalSince(harness.clock.now()))
    let started = try await harness.reconciler.scheduleArrivalChecks()
    await harness.reconciler.waitUntilIdle()
    return started
}

@Suite("Pre-arrival assurance: every lock read back from Seam and checked before the guest arrives")
struct ArrivalAssuranceTests {
    @Test("a code deleted at the lock is found by the 48 h check and put back with the same PIN on that lock only")
    func deletedCodeIsRepairedBeforeArrival() async throws {
        let harness = try await harnessWithGroup()
        let group = try #require(await harness.state()?.applied)
        let pin = try #require(group.pin)
        let front = try #require(group.codes.first { $0.deviceID == "front" }?.accessCodeID)
        await harness.seam.removeBehindOurBack(front)
        #expect(try await check(harness, at: Fixture.instant("2026-06-01T12:00:00Z")) == 0, "not yet inside 48 h")

        #expect(try await check(harness, at: Arrival.in47Hours) == 1)
        let first = try #require(await harness.state()?.arrivalCheck)
        #expect(first.outcome == .repairing)
        #expect(first.leadTime == 48 * 3600)
        #expect(first.locks.map(\.problems) == [[.missing], []])
        #expect(first.locks.map(\.action) == [.repair, .none])
        let creates = await harness.seam.calls.filter { $0.route == .createSingle }
        #expect(creates.map(\.devices) == [["front"]], "that lock only")
        let repaired = try #require(await harness.seam.codes(on: "front").first)
        #expect(repaired.code == pin, "the group's PIN")
        #expect(repaired.commonCodeKey == group.commonCodeKey, "inside the group")

        await harness.seam.scheduleEverything()
        #expect(try await check(harness, at: Arrival.in47Hours.addingTimeInterval(300)) == 0, "re-check after 10 min")
        #expect(try await check(harness, at: Arrival.in47Hours.addingTimeInterval(601)) == 1)
        #expect(await harness.state()?.arrivalCheck?.outcome == .repaired)
        let counts = await harness.reconciler.arrivalCheckCounts
        #expect(counts.checks == 2 && counts.repairs == 1 && counts.outcomes[.repaired] == 1)

        #expect(try await check(harness, at: Arrival.in90Minutes) == 1, "the 2 h point checks again")
        #expect(await harness.state()?.arrivalCheck?.outcome == .passed)
        #expect(await harness.state()?.arrivalCheck?.leadTime == 2 * 3600)
    }

    @Test("a PIN changed at the lock is put back to the group's PIN, on that lock only, inside the group")
    func alteredPINIsPutBack() async throws {
        let harness = try await harnessWithGroup()
        let group = try #require(await harness.state()?.applied)
        let front = try #require(group.codes.first { $0.deviceID == "front" }?.accessCodeID)
        await harness.seam.changeBehindOurBack(front, pin: "1357")
        #expect(try await harness.reconciler.recordLockEvent(accessCodeID: front, kind: .modifiedExternally))
        await harness.reconciler.waitUntilIdle()
        let codes = await harness.seam.codes(on: "front")
        #expect(codes.count == 1)
        #expect(codes.first?.accessCodeID != front, "the altered code was replaced")
        #expect(codes.first?.code == group.pin)
        #expect(codes.first?.commonCodeKey == group.commonCodeKey)
        #expect(
            await harness.seam.calls.filter { $0.route != .listCodes }.map(\.devices) == [
                ["front", "back"], ["front"], ["front"],
            ])
        #expect(await harness.state()?.phase == .converged)
    }

    @Test("a lock offline through the window: repaired at 48 h, and at the backup point a backup code is pulled")
    func offlineLockGetsABackupCode() async throws {
        let harness = try await harnessWithGroup(offline: ["back"], backupPool: true)
        try await check(harness, at: Arrival.in47Hours)
        let first = try #require(await harness.state()?.arrivalCheck)
        #expect(first.outcome == .repairing)
        #expect(first.locks[1].problems == [.errors, .notOnDevice])
        #expect(first.locks[1].errorCodes == ["failed_to_set_on_device", "device_offline"])
        #expect(await harness.seam.count(.createSingle) == 1, "re-created once on the failing lock")

        try await check(harness, at: Arrival.in90Minutes)
        #expect(await harness.state()?.arrivalCheck?.outcome == .repairing)
        let creates = await harness.seam.count(.createSingle)

        try await check(harness, at: Arrival.in50Minutes)
        let last = try #require(await harness.state()?.arrivalCheck)
        #expect(last.outcome == .failed)
        #expect(last.locks[0].action == .none)
        #expect(last.locks[1].action == .backupCode)
        let backup = try #require(last.locks[1].backupCode)
        #expect(backup.code == AccessPIN("8642"))
        #expect(last.backupCodes.count == 1)
        #expect(await harness.seam.count(.pullBackup) == 1)
        #expect(await harness.seam.count(.createSingle) == creates, "no more re-creating once the backup is out")
        #expect(await harness.reconciler.arrivalCheckCounts.backupCodesPulled == 1)
        #expect(try await check(harness, at: Arrival.in50Minutes.addingTimeInterval(1200)) == 0, "failed is final")

        // Stored: a restart shows the same check, backup code included.
        let restarted = try await harness.restarted()
        #expect(await restarted.state()?.arrivalCheck == last)
    }

    @Test("a backup code pulled for a guest who then cancels is deleted, and none is pulled for a cancelled stay")
    func aCancelledGuestLosesTheBackupCodeToo() async throws {
        var harness = try await harnessWithGroup(offline: ["back"], backupPool: true)
        try await check(harness, at: Arrival.in47Hours)
        try await check(harness, at: Arrival.in50Minutes)
        let backup = try #require(await harness.state()?.arrivalCheck?.locks[1].backupCode)
        #expect(await harness.seam.codes[backup.accessCodeID] != nil)

        try await harness.send(Fixture.event(.cancelled, updatedAt: "2030-01-01T00:00:00Z"))
        await harness.reconciler.waitUntilIdle()
        #expect(await harness.seam.codes[backup.accessCodeID] == nil, "the backup code is deleted from the lock")
        let after = try #require(await harness.state()?.arrivalCheck)
        #expect(after.backupCodes.isEmpty)
        #expect(await harness.reconciler.nextOperation(for: Fixture.key()) == nil, "nothing left to do")
        let pulls = await harness.seam.count(.pullBackup)
        try await check(harness, at: Arrival.in50Minutes.addingTimeInterval(600))
        #expect(await harness.seam.count(.pullBackup) == pulls, "no backup code for a cancelled stay")
    }

    @Test("without a backup pool the failing lock is reported, not parked")
    func noBackupPool() async throws {
        let harness = try await harnessWithGroup(offline: ["back"])
        try await check(harness, at: Arrival.in50Minutes)
        let last = try #require(await harness.state()?.arrivalCheck)
        #expect(last.outcome == .failed)
        #expect(last.locks[1].action == .noBackup)
        #expect(last.locks[1].backupUnavailable != nil)
        #expect(await harness.seam.count(.pullBackup) == 0)
        #expect(await harness.state()?.deadLetterID == nil)
    }

    @Test("a dead-lettered reservation's check fails at once, without calling Seam")
    func deadLetteredCheckFails() async throws {
        var harness = try await Harness()
        await harness.seam.inject(.createMultiple, .fail(.permanent(message: "no")))
        try await harness.send(Fixture.event())
        #expect(await harness.state()?.phase == .deadLettered)
        let lists = await harness.seam.count(.listCodes)
        try await check(harness, at: Arrival.in47Hours)
        #expect(await harness.state()?.arrivalCheck?.outcome == .failed)
        #expect(await harness.seam.count(.listCodes) == lists)
    }
}

@Suite("Drift: the periodic full reconciliation of every managed lock")
struct DriftReconciliationTests {
    @Test("a cancelled guest's code put back by hand and an unknown reservation's are deleted; a foreign code is not")
    func strayCodesGoForeignCodesStay() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event(updatedAt: "2026-05-01T10:00:00Z"))
        try await harness.send(Fixture.event(.cancelled, updatedAt: "2026-05-02T10:00:00Z"))
        #expect(await harness.seam.codes.isEmpty)
        let window = Fixture.june10to14
        let putBack = await harness.seam.addByHand(
            device: "front", name: "Ada [lk:guesty:R1]", pin: "2468", startsAt: window.startsAt, endsAt: window.endsAt)
        let unknown = await harness.seam.addByHand(
            device: "back", name: "Who [lk:guesty:R9]", pin: "3579", startsAt: window.startsAt, endsAt: window.endsAt)
        let foreign = await harness.seam.addByHand(
            device: "front", name: "Cleaner", pin: "9753", startsAt: window.startsAt, endsAt: window.endsAt)

        let report = await harness.reconciler.reconcileDrift()
        await harness.reconciler.waitUntilIdle()
        #expect(report.locksListed == 3)
        #expect(report.stray == 2)
        #expect(report.foreignCodes == 1)
        #expect(Set(await harness.seam.codes.keys) == [foreign])
        let deleted = await harness.seam.calls.filter { $0.route == .delete }.count
        #expect(deleted == 2 + 2, "the group's two, then the two put back")
        _ = (putBack, unknown)

        let again = await harness.reconciler.reconcileDrift()
        #expect(again.stray == 0 && again.foreignCodes == 1, "nothing left to do")
        #expect(await harness.reconciler.driftReconciliationTotals.runs == 2)
    }

    @Test("a live reservation's missing code and a code whose window was changed are put back")
    func missingAndAlteredArePutBack() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        let group = try #require(await harness.state()?.applied)
        let front = try #require(group.codes.first { $0.deviceID == "front" }?.accessCodeID)
        let back = try #require(group.codes.first { $0.deviceID == "back" }?.accessCodeID)
        await harness.seam.removeBehindOurBack(front)
        await harness.seam.changeBehindOurBack(back, endsAt: Fixture.instant("2026-07-01T09:00:00Z"))

        let report = await harness.reconciler.reconcileDrift()
        await harness.reconciler.waitUntilIdle()
        #expect(report.missing == 1)
        #expect(report.altered == 1)
        for device in ["front", "back"] {
            let codes = await harness.seam.codes(on: device)
            #expect(codes.count == 1)
            #expect(codes.first?.code == group.pin)
            #expect(codes.first?.endsAt == Fixture.june10to14.endsAt)
        }
        #expect(await harness.state()?.phase == .converged)
    }

    @Test("a second code carrying a live reservation's marker on a lock is deleted, the group's stays")
    func duplicateOnALockIsDeleted() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        let group = try #require(await harness.state()?.applied)
        let window = Fixture.june10to14
        _ = await harness.seam.addByHand(
            device: "back", name: "Ada [lk:guesty:R1]", pin: "2468", startsAt: window.startsAt, endsAt: window.endsAt)
        let report = await harness.reconciler.reconcileDrift()
        await harness.reconciler.waitUntilIdle()
        #expect(report.stray == 1)
        #expect(Set(await harness.seam.codes.keys) == Set(group.codes.compactMap(\.accessCodeID)))
    }

    @Test("a code of a stay that is over, put back with a later end, is deleted")
    func pastStaysLingeringCodeIsDeleted() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        harness.clock.advance(by: Fixture.instant("2026-06-20T00:00:00Z").timeIntervalSince(harness.clock.now()))
        for id in await harness.seam.codes.keys { await harness.seam.removeBehindOurBack(id) }
        _ = await harness.seam.addByHand(
            device: "front", name: "Ada [lk:guesty:R1]", pin: "2468", startsAt: Fixture.june10to14.startsAt,
            endsAt: Fixture.instant("2026-06-30T09:00:00Z"))
        let report = await harness.reconciler.reconcileDrift()
        await harness.reconciler.waitUntilIdle()
        #expect(report.stray == 1)
        #expect(await harness.seam.codes.isEmpty)
    }

    @Test("markers are read back from code names; hashed ones name an unknown reservation")
    func markersAreParsed() {
        #expect(CodeNaming.marker(in: "Ada L. [lk:guesty:HM1]") == "[lk:guesty:HM1]")
        #expect(CodeNaming.marker(in: "Cleaner") == nil)
        #expect(CodeNaming.key(fromMarker: "[lk:guesty:HM1]") == ReservationKey(source: "guesty", reservationID: "HM1"))
        let hashed = CodeNaming.marker(
            for: ReservationKey(source: "guesty", reservationID: String(repeating: "x", count: 60)))
        #expect(CodeNaming.key(fromMarker: hashed).source == "unknown")
    }
}
