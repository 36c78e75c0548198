import Bookings
import Foundation
import LatchkeyTestSupport
import Testing

@testable import Reconciler

/// How Seam's webhooks report a code that was deleted while Latchkey could not hear the answer.
enum EventsSeen: String, CaseIterable, Sendable {
    /// Webhooks off: nothing arrives.
    case none
    /// The code had not reached the lock yet: `access_code.deleted` only.
    case deletedOnly
    /// The code was on the lock: `removed_from_device`, then `deleted`.
    case removedThenDeleted

    var kinds: [Reconciler.LockEventKind] {
        switch self {
        case .none: []
        case .deletedOnly: [.deleted]
        case .removedThenDeleted: [.removedExternally, .deleted]
        }
    }
}

/// Latchkey's record of a reservation against what the access-code double holds: one code per lock carrying the
/// reservation's marker, the record naming exactly those ids, one PIN and one `common_code_key`, converged.
private func expectRecordAgreesWithSeam(_ harness: Harness, _ id: String = "R1") async throws {
    let snapshot = try #require(await harness.state(id))
    #expect(snapshot.phase == .converged)
    #expect(snapshot.readBackReason == nil)
    let marker = CodeNaming.marker(for: Fixture.key(id))
    let applied = try #require(snapshot.applied)
    for device in Fixture.loft.deviceIDs {
        let held = await harness.seam.codes(on: device).filter { $0.name?.contains(marker) ?? false }
        #expect(held.count == 1, "one code on \(device)")
        let recorded = applied.codes.first { $0.deviceID == device }
        #expect(recorded?.accessCodeID == held.first?.accessCodeID, "the record names \(device)'s code")
        #expect(recorded?.status != .missing && recorded?.status != .removedExternally)
    }
    let codes = await harness.seam.codes.values.filter { $0.name?.contains(marker) ?? false }
    #expect(Set(codes.map(\.code)).count == 1, "one PIN")
    #expect(Set(codes.map(\.commonCodeKey)).count == 1 && codes.first?.commonCodeKey != nil, "one linked group")
    #expect(applied.codes.allSatisfy { applied.isLinked($0) }, "the record knows every code is in the group")
}

@Suite("Convergence after crashes: the three sequences of issue 18")
struct ConvergenceTests {
    /// A confirmed booking's group on both locks, then its cancellation: the delete on `front` answered, the
    /// delete on `back` carried out by Seam but Latchkey stopped (killed) before the answer reached it.
    private func cancelledAndKilledMidDelete(lostDelete: String) async throws -> (Harness, AppliedGroup) {
        var harness = try await Harness()
        try await harness.send(Fixture.event(updatedAt: "2026-05-01T10:00:00Z"))
        let group = try #require(await harness.state()?.applied)
        // The cancellation deletes front first, then back.
        if lostDelete == "front" {
            await harness.seam.inject(.delete, .hangAfter)
        } else {
            await harness.seam.inject(.delete, .pass, .hangAfter)
        }
        try await harness.reconciler.apply(
            Fixture.event(.cancelled, updatedAt: "2026-05-02T10:00:00Z"), receivedSequence: 2)
        harness.sequence = 2
        let gone = group.codes.first { $0.deviceID == lostDelete }!.accessCodeID!
        try await eventually("the lost delete to reach Seam") { await harness.seam.codes[gone] == nil }
        await harness.reconciler.stop()
        return (harness, group)
    }

    @Test(
        "1: cancelled, a delete's answer lost to a kill, Seam events, re-confirmed: one group on both locks",
        arguments: EventsSeen.allCases)
    func stuckWithNoCodes(events: EventsSeen) async throws {
        let (crashed, group) = try await cancelledAndKilledMidDelete(lostDelete: "back")
        // After the restart Seam answers nothing for a moment (calls held), and its events arrive meanwhile.
        await crashed.seam.hold()
        var harness = try await crashed.restarted()
        let back = group.codes[1].accessCodeID!
        for kind in events.kinds {
            try await harness.reconciler.recordLockEvent(accessCodeID: back, kind: kind)
        }
        try await harness.reconciler.apply(
            Fixture.event(updatedAt: "2026-05-03T10:00:00Z"), receivedSequence: 3)
        harness.sequence = 3
        await harness.seam.release()
        await harness.reconciler.waitUntilIdle()
        try await expectRecordAgreesWithSeam(harness)
        #expect(await harness.reconciler.outbox().isEmpty)
        #expect(await harness.reconciler.deadLetterList().isEmpty)
        #expect(await harness.reconciler.stuckReservationsFound == 0)
    }

    @Test(
        "2: a code deleted before it reached the lock, answer lost, re-confirmed with new dates: every lock has it",
        arguments: EventsSeen.allCases)
    func lockLeftOutReportedConverged(events: EventsSeen) async throws {
        let (crashed, group) = try await cancelledAndKilledMidDelete(lostDelete: "front")
        await crashed.seam.hold()
        var harness = try await crashed.restarted()
        let front = group.codes[0].accessCodeID!
        for kind in events.kinds {
            try await harness.reconciler.recordLockEvent(accessCodeID: front, kind: kind)
        }
        try await harness.reconciler.apply(
            Fixture.event(checkOut: Fixture.day(6, 15), updatedAt: "2026-05-03T10:00:00Z"), receivedSequence: 3)
        harness.sequence = 3
        await harness.seam.release()
        await harness.reconciler.waitUntilIdle()
        try await expectRecordAgreesWithSeam(harness)
        let end = Fixture.instant("2026-06-15T09:00:00Z")
        #expect(await harness.seam.codes.values.allSatisfy { $0.endsAt == end })

        // A later date change moves every code with one update_multiple.
        let moves = await harness.seam.count(.updateMultiple)
        try await harness.send(Fixture.event(checkOut: Fixture.day(6, 16), updatedAt: "2026-05-04T10:00:00Z"))
        #expect(await harness.seam.count(.updateMultiple) == moves + 1)
        #expect(await harness.seam.count(.updateSingle) == 0)
        let later = Fixture.instant("2026-06-16T09:00:00Z")
        #expect(await harness.seam.codes.values.allSatisfy { $0.endsAt == later })
        try await expectRecordAgreesWithSeam(harness)
    }

    @Test("3: a lock's code put back after removed_from_device stays in the group (create with common_code_key)")
    func repairStaysInTheGroup() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        let group = try #require(await harness.state()?.applied)
        let back = group.codes[1].accessCodeID!
        await harness.seam.removeBehindOurBack(back)
        try await harness.reconciler.recordLockEvent(accessCodeID: back, kind: .removedExternally)
        await harness.reconciler.waitUntilIdle()
        try await expectRecordAgreesWithSeam(harness)
        let repaired = try #require(await harness.seam.codes(on: "back").first)
        #expect(repaired.commonCodeKey == group.commonCodeKey)
        #expect(repaired.code == group.pin)
    }

    @Test("a cancelled booking's record keeps no removed_externally code for a delete Latchkey made itself")
    func ownDeleteIsNotReportedAsExternal() async throws {
        let (crashed, group) = try await cancelledAndKilledMidDelete(lostDelete: "back")
        let harness = try await crashed.restarted()
        try await harness.reconciler.recordLockEvent(
            accessCodeID: group.codes[1].accessCodeID!, kind: .removedExternally)
        await harness.reconciler.waitUntilIdle()
        let snapshot = try #require(await harness.state())
        #expect(snapshot.applied == nil)
        #expect(snapshot.phase == .noAccess)
        #expect(await harness.seam.codes.isEmpty)
    }

    @Test("a restart with a delete in flight reads the group back before calling it converged")
    func restartReadsBack() async throws {
        let (crashed, _) = try await cancelledAndKilledMidDelete(lostDelete: "back")
        let before = await crashed.seam.count(.listCodes)
        let harness = try await crashed.restarted()
        await harness.reconciler.waitUntilIdle()
        #expect(await harness.seam.count(.listCodes) == before + 2)
        #expect(await harness.state()?.phase == .noAccess)
        #expect(await harness.state()?.applied == nil)
    }
}

@Suite("The invariant: work to do is always queued, in flight or parked")
struct InvariantTests {
    @Test func aHealthyReconcilerBreaksNothing() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event(), Fixture.event(id: "R2", listing: "L2"))
        #expect(await harness.reconciler.checkInvariant().isEmpty)
        #expect(await harness.reconciler.stuckReservationsFound == 0)
    }

    @Test func aReservationWithWorkButNoneQueuedIsFoundCountedAndPutBackToWork() async throws {
        let harness = try await Harness(configuration: ReconcilerConfiguration(maxConcurrentReservations: 1))
        await harness.seam.hold()
        try await harness.reconciler.apply(Fixture.event(), receivedSequence: 1)
        try await eventually("R1's create to be in flight") { await harness.seam.inFlight == 1 }
        try await harness.reconciler.apply(Fixture.event(id: "R2", listing: "L2"), receivedSequence: 2)
        // A lost wake-up: R2 waits in the queue, and the queue forgets it.
        await harness.reconciler.loseQueuedWorkForTesting(Fixture.key("R2"))
        await harness.seam.release()
        await harness.reconciler.waitUntilIdle()
        #expect(await harness.state("R1")?.phase == .converged)
        #expect(await harness.state("R2")?.phase == .applying)
        #expect(await harness.seam.codes(on: "cabin-door").isEmpty)

        #expect(await harness.reconciler.checkInvariant() == [Fixture.key("R2")])
        #expect(await harness.reconciler.stuckReservationsFound == 1)
        await harness.reconciler.waitUntilIdle()
        #expect(await harness.state("R2")?.phase == .converged)
        #expect(await harness.seam.codes(on: "cabin-door").count == 1)
        #expect(await harness.reconciler.checkInvariant().isEmpty)
    }
}
