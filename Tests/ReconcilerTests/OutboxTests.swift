import Bookings
import Foundation
import LatchkeyTestSupport
import Reconciler
import Testing

/// A harness whose reconciler stopped after Seam made the group but before the result was stored.
private func crashedRightAfterCreate() async throws -> Harness {
    let harness = try await Harness()
    await harness.seam.inject(.createMultiple, .hangAfter)
    try await harness.reconciler.apply(Fixture.event(), receivedSequence: 1)
    try await eventually("the create to reach Seam") { await harness.seam.codes.count == 2 }
    await harness.reconciler.stop()
    return harness
}

@Suite("Outbox: crash safety, retries, dead letters")
struct OutboxTests {
    @Test func aCallThatSucceedsCostsTwoWrites_TheIntentBefore_TheResultAndTheIntentsEndTogetherAfter() async throws {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        #expect(await harness.seam.count(.createMultiple) == 1)
        #expect(await harness.store.commits == 2)
        #expect(await harness.store.keys(prefix: "reconciler/outbox/").isEmpty)
        let stored = await harness.store.text(prefix: "reconciler/reservation/")
        #expect(stored.contains("\"applied\""))
        // A date move: one more intent, one more result.
        try await harness.send(Fixture.event(checkOut: Fixture.day(6, 15)))
        #expect(await harness.seam.count(.updateMultiple) == 1)
        #expect(await harness.store.commits == 4)
    }

    @Test func crashAfterCreateBeforeResultAdoptsTheGroupInsteadOfCreatingAgain() async throws {
        let harness = try await crashedRightAfterCreate()
        #expect(await harness.store.keys(prefix: "reconciler/outbox/").count == 1)

        var restarted = try await harness.restarted()
        restarted.sequence = 1
        await restarted.reconciler.waitUntilIdle()
        #expect(await harness.seam.count(.createMultiple) == 1)
        #expect(await harness.seam.count(.listCodes) == 2)
        let group = try #require(await restarted.state()?.applied)
        let seamIDs = await harness.seam.codes.keys.sorted()
        #expect(group.codes.compactMap(\.accessCodeID).sorted() == seamIDs)
        #expect(group.commonCodeKey != nil)
        #expect(await restarted.state()?.phase == .converged)
        #expect(await harness.store.keys(prefix: "reconciler/outbox/").isEmpty)

        try await restarted.send(Fixture.event(checkOut: Fixture.day(6, 15)))
        #expect(await harness.seam.count(.updateMultiple) == 1)
        #expect(await harness.seam.codes.values.allSatisfy { $0.endsAt == Fixture.instant("2026-06-15T09:00:00Z") })
    }

    @Test func crashBeforeTheCreateLeftLooksUpFindsNothingAndCreatesOnce() async throws {
        let harness = try await Harness()
        await harness.seam.inject(.createMultiple, .hangBefore)
        try await harness.reconciler.apply(Fixture.event(), receivedSequence: 1)
        try await eventually("the create to start") { await harness.seam.count(.createMultiple) == 1 }
        await harness.reconciler.stop()

        let restarted = try await harness.restarted()
        await restarted.reconciler.waitUntilIdle()
        #expect(await harness.seam.calls.map(\.route) == [.createMultiple, .listCodes, .listCodes, .createMultiple])
        #expect(await harness.seam.codes.count == 2)
        #expect(await restarted.state()?.phase == .converged)
    }

    @Test func timeoutAfterSeamActedIsResolvedByLookupNotASecondCreate() async throws {
        var harness = try await Harness()
        await harness.seam.inject(.createMultiple, .failAfterActing(.retryable(message: "timed out", retryAfter: nil)))
        try await harness.send(Fixture.event())
        #expect(await harness.seam.count(.createMultiple) == 1)
        #expect(await harness.seam.codes.count == 2)
        #expect(await harness.state()?.phase == .converged)
        #expect(harness.clock.sleeps == [1])
    }

    @Test func retryableFailuresBackOffHonouringRetryAfter() async throws {
        var harness = try await Harness()
        let limited = AccessCodeServiceError.retryable(message: "429 rate limited", retryAfter: 30)
        await harness.seam.inject(.createMultiple, .fail(limited), .fail(limited))
        try await harness.send(Fixture.event())
        #expect(harness.clock.sleeps == [30, 30])
        #expect(await harness.seam.count(.createMultiple) == 3)
        #expect(await harness.seam.codes.count == 2)
        #expect(await harness.state()?.phase == .converged)
    }

    @Test func exhaustedBudgetDeadLettersAndManualRetryLooksUpBeforeCreating() async throws {
        var harness = try await Harness(configuration: ReconcilerConfiguration(maxAttempts: 3))
        let outage = AccessCodeServiceError.retryable(message: "503 upstream unavailable", retryAfter: nil)
        await harness.seam.inject(.createMultiple, .fail(outage), .fail(outage), .fail(outage))
        try await harness.send(Fixture.event())
        #expect(harness.clock.sleeps == [1, 2])
        let letter = try #require(await harness.reconciler.deadLetterList().first)
        #expect(letter.message == "503 upstream unavailable")
        #expect(letter.operation == "create_multiple")
        #expect(letter.attempts == 3)
        #expect(await harness.state()?.phase == .deadLettered)
        #expect(await harness.store.keys(prefix: "reconciler/dead/").count == 1)

        let callsBefore = await harness.seam.calls.count
        try await harness.reconciler.retry(deadLetterID: letter.id)
        await harness.reconciler.waitUntilIdle()
        let afterRetry = await harness.seam.calls.dropFirst(callsBefore).map(\.route)
        #expect(afterRetry == [.listCodes, .listCodes, .createMultiple])
        #expect(await harness.state()?.phase == .converged)
        #expect(await harness.reconciler.deadLetterList().isEmpty)
        #expect(await harness.store.keys(prefix: "reconciler/dead/").isEmpty)
    }

    @Test func permanentErrorDeadLettersAtOnceAndANewerEventTriesAgain() async throws {
        var harness = try await Harness()
        await harness.seam.inject(.createMultiple, .fail(.permanent(message: "lock cannot share the code")))
        try await harness.send(Fixture.event())
        let letter = try #require(await harness.reconciler.deadLetterList().first)
        #expect(letter.attempts == 1)
        #expect(letter.message == "lock cannot share the code")
        #expect(harness.clock.sleeps.isEmpty)
        #expect(await harness.state()?.deadLetterID == letter.id)

        try await harness.send(Fixture.event(checkOut: Fixture.day(6, 15)))
        #expect(await harness.state()?.phase == .converged)
        #expect(await harness.seam.count(.createMultiple) == 2)
    }

    @Test func blockOfADeadLetterLostInACrashIsLiftedAtStart() async throws {
        var harness = try await Harness()
        await harness.seam.inject(.createMultiple, .fail(.permanent(message: "refused")))
        try await harness.send(Fixture.event())
        let letter = try #require(await harness.reconciler.deadLetterList().first)
        await harness.reconciler.stop()
        try await harness.store.delete("reconciler/dead/\(letter.id)")

        let restarted = try await harness.restarted()
        await restarted.reconciler.waitUntilIdle()
        #expect(await restarted.state()?.phase == .converged)
        #expect(await harness.seam.count(.createMultiple) == 2)
    }

    @Test func retryingAnUnknownDeadLetterSaysSo() async throws {
        let harness = try await Harness()
        await #expect(throws: ReconcilerError.unknownDeadLetter(id: "nope")) {
            try await harness.reconciler.retry(deadLetterID: "nope")
        }
    }

    @Test func pacerIsAskedBeforeEveryCallAndItsWaitIsHonoured() async throws {
        let pacer = RecordingPacer(waitUntil: Fixture.now.addingTimeInterval(60))
        var harness = try await Harness(pacer: pacer)
        try await harness.send(Fixture.event())
        #expect(pacer.asked == ["create:front", "create:front", "create:back"])
        #expect(harness.clock.sleeps == [60])
        #expect(await harness.seam.count(.createMultiple) == 1)
    }
}

@Suite("Repair of one lock with the same PIN")
struct RepairTests {
    private func confirmed() async throws -> (Harness, AppliedGroup) {
        var harness = try await Harness()
        try await harness.send(Fixture.event())
        return (harness, try #require(await harness.state()?.applied))
    }

    @Test func externallyRemovedCodeIsRecreatedOnThatLockOnlyWithTheSamePIN() async throws {
        var (harness, group) = try await confirmed()
        let back = try #require(group.codes[1].accessCodeID)
        await harness.seam.removeBehindOurBack(back)
        #expect(try await harness.reconciler.recordLockEvent(accessCodeID: back, kind: .removedExternally))
        await harness.reconciler.waitUntilIdle()

        // The event makes the record uncertain: both locks are read back before the repair.
        #expect(await harness.seam.calls.map(\.route) == [.createMultiple, .listCodes, .listCodes, .createSingle])
        let repaired = try #require(await harness.seam.codes(on: "back").first)
        #expect(repaired.code == group.pin)
        // Inside the group: the repaired code carries the group's common_code_key.
        #expect(repaired.commonCodeKey == group.commonCodeKey)
        #expect(repaired.name == group.codes[1].name)
        #expect(await harness.seam.codes(on: "front").map(\.accessCodeID) == [group.codes[0].accessCodeID])
        let after = try #require(await harness.state()?.applied)
        #expect(after.codes[0] == group.codes[0])
        #expect(after.codes[1].accessCodeID == repaired.accessCodeID)

        try await harness.send(Fixture.event(checkOut: Fixture.day(6, 15)))
        // One update_multiple moves both, the repaired code included.
        #expect(await harness.seam.count(.updateMultiple) == 1)
        #expect(await harness.seam.count(.updateSingle) == 0)
        let end = Fixture.instant("2026-06-15T09:00:00Z")
        #expect(await harness.seam.codes.values.allSatisfy { $0.endsAt == end })
        group = try #require(await harness.state()?.applied)
        #expect(group.codes.allSatisfy { $0.window.endsAt == end })
    }

    @Test func codeThatFailedToSetIsDeletedThenRecreatedWithTheSamePIN() async throws {
        let (harness, group) = try await confirmed()
        let back = try #require(group.codes[1].accessCodeID)
        try await harness.reconciler.recordLockEvent(accessCodeID: back, kind: .failedToSet)
        await harness.reconciler.waitUntilIdle()
        #expect(
            await harness.seam.calls.map(\.route) == [.createMultiple, .listCodes, .listCodes, .delete, .createSingle])
        let repaired = try #require(await harness.seam.codes(on: "back").first)
        #expect(repaired.accessCodeID != back)
        #expect(repaired.code == group.pin)
        #expect(await harness.state()?.phase == .converged)
    }

    @Test func setEventsMarkLocksReady() async throws {
        let (harness, group) = try await confirmed()
        #expect(group.setCount == 0)
        try await harness.reconciler.recordLockEvent(
            accessCodeID: try #require(group.codes[0].accessCodeID), kind: .set)
        await harness.reconciler.waitUntilIdle()
        let after = try #require(await harness.state()?.applied)
        #expect(after.setCount == 1)
        #expect(after.codes[0].status == .set)
        #expect(try await !harness.reconciler.recordLockEvent(accessCodeID: "unknown", kind: .set))
    }

    @Test func crashDuringRepairAdoptsTheRepairedCode() async throws {
        let (harness, group) = try await confirmed()
        await harness.seam.inject(.createSingle, .hangAfter)
        let back = try #require(group.codes[1].accessCodeID)
        await harness.seam.removeBehindOurBack(back)
        try await harness.reconciler.recordLockEvent(accessCodeID: back, kind: .removedExternally)
        try await eventually("the repair to reach Seam") { await harness.seam.codes(on: "back").count == 1 }
        await harness.reconciler.stop()

        let restarted = try await harness.restarted()
        await restarted.reconciler.waitUntilIdle()
        #expect(await harness.seam.count(.createSingle) == 1)
        let after = try #require(await restarted.state()?.applied)
        #expect(after.codes[1].accessCodeID == (await harness.seam.codes(on: "back").first?.accessCodeID))
        #expect(await restarted.state()?.phase == .converged)
    }

    @Test func pinStaysOutOfIntentsAndDeadLetters() async throws {
        let (harness, group) = try await confirmed()
        let digits = try #require(group.pin?.digits)
        await harness.seam.inject(.createSingle, .fail(.permanent(message: "lock offline for good")))
        let back = try #require(group.codes[1].accessCodeID)
        await harness.seam.removeBehindOurBack(back)
        try await harness.reconciler.recordLockEvent(accessCodeID: back, kind: .removedExternally)
        await harness.reconciler.waitUntilIdle()
        #expect(await harness.reconciler.deadLetterList().count == 1)
        #expect(await !harness.store.text(prefix: "reconciler/dead/").contains(digits))
        #expect(await harness.store.text(prefix: "reconciler/reservation/").contains(digits))
    }
}

@Suite("Worker scheduling")
struct SchedulingTests {
    @Test func reservationsRunInParallelUpToTheBound() async throws {
        let properties = (1...8).map {
            Property(
                id: "p\($0)", name: "P\($0)", listings: ["guesty": ["L\($0)"]], deviceIDs: ["d\($0)"], timeZone: "UTC")
        }
        // Calls are held in flight until released, so the bound is what limits them, not timing.
        let seam = FakeAccessCodes()
        await seam.hold()
        let harness = try await Harness(catalogue: PropertyCatalogue(properties), seam: seam)
        for index in 1...8 {
            try await harness.reconciler.apply(
                Fixture.event(id: "R\(index)", listing: "L\(index)"), receivedSequence: UInt64(index))
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while await seam.inFlight < 4, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))  // room for a fifth call to start, were the bound broken
        #expect(await seam.inFlight == 4)
        await seam.release()
        await harness.reconciler.waitUntilIdle()
        #expect(await seam.count(.createMultiple) == 8)
        #expect(await seam.maxInFlight == 4)
        #expect(await harness.reconciler.reservations().allSatisfy { $0.phase == .converged })
    }

    @Test func oneReservationsCallsNeverOverlapAndKeepTheirOrder() async throws {
        let seam = FakeAccessCodes(delay: .milliseconds(20))
        let harness = try await Harness(seam: seam)
        try await harness.reconciler.apply(Fixture.event(), receivedSequence: 1)
        try await eventually("the create to start") { await seam.count(.createMultiple) == 1 }
        try await harness.reconciler.apply(Fixture.event(.cancelled), receivedSequence: 2)
        try await harness.reconciler.apply(Fixture.event(), receivedSequence: 3)
        try await harness.reconciler.apply(Fixture.event(.cancelled), receivedSequence: 4)
        await harness.reconciler.waitUntilIdle()
        #expect(await seam.calls.map(\.route) == [.createMultiple, .delete, .delete])
        #expect(await seam.maxInFlightOnOneDevice == 1)
        #expect(await seam.codes.isEmpty)
        #expect(await harness.state()?.phase == .noAccess)
    }
}

@Suite("Plan changes, partial groups, store failures")
struct ResilienceTests {
    @Test func cancellationDuringRetriesLooksUpInsteadOfCreatingAgain() async throws {
        let seam = FakeAccessCodes(delay: .milliseconds(20))
        await seam.inject(.createMultiple, .fail(.retryable(message: "502 bad gateway", retryAfter: nil)))
        let harness = try await Harness(seam: seam)
        try await harness.reconciler.apply(Fixture.event(), receivedSequence: 1)
        try await eventually("the create to start") { await seam.count(.createMultiple) == 1 }
        try await harness.reconciler.apply(Fixture.event(.cancelled), receivedSequence: 2)
        await harness.reconciler.waitUntilIdle()
        #expect(await seam.calls.map(\.route) == [.createMultiple, .listCodes, .listCodes])
        #expect(await harness.state()?.phase == .noAccess)
        #expect(await harness.reconciler.outbox().isEmpty)
    }

    @Test func partlyFoundGroupIsAdoptedAndTheMissingLockRepairedWithItsPIN() async throws {
        let harness = try await crashedRightAfterCreate()
        let lost = try #require(await harness.seam.codes(on: "back").first)
        await harness.seam.removeBehindOurBack(lost.accessCodeID)

        let restarted = try await harness.restarted()
        await restarted.reconciler.waitUntilIdle()
        #expect(await harness.seam.count(.createMultiple) == 1)
        #expect(await harness.seam.count(.createSingle) == 1)
        let front = try #require(await harness.seam.codes(on: "front").first)
        #expect(await harness.seam.codes(on: "back").first?.code == front.code)
        #expect(await restarted.state()?.phase == .converged)
    }

    @Test func eventThatCouldNotBeStoredIsNotAppliedAndItsRedeliveryIs() async throws {
        var harness = try await Harness()
        await harness.store.failPuts(prefix: "reconciler/reservation/")
        await #expect(throws: InMemoryStateStore.DiskFull.self) {
            try await harness.reconciler.apply(Fixture.event(), receivedSequence: 1)
        }
        #expect(await harness.state() == nil)
        #expect(await harness.seam.calls.isEmpty)
        harness.sequence = 1
        #expect(try await harness.send(Fixture.event()) == [.accepted])
        #expect(await harness.state()?.phase == .converged)
    }

    @Test func callsRefusedBeforeReachingSeamDoNotUseUpAttempts() async throws {
        var harness = try await Harness(configuration: ReconcilerConfiguration(maxAttempts: 2))
        let refused = AccessCodeServiceError.notCalled(message: "circuit open", retryAfter: 30)
        await harness.seam.inject(.createMultiple, .fail(refused), .fail(refused), .fail(refused))
        try await harness.send(Fixture.event())
        #expect(await harness.state()?.phase == .converged)
        #expect(await harness.reconciler.deadLetterList().isEmpty)
        #expect(await harness.seam.count(.listCodes) == 0)
        #expect(harness.clock.sleeps.filter { $0 >= 30 }.count == 3)
    }

    @Test func intentLeftByAFailedStoreWriteIsClearedOnceTheStoreRecovers() async throws {
        var harness = try await Harness()
        await harness.store.failPuts(prefix: "reconciler/reservation/", skip: 1)
        await harness.store.failPuts(prefix: "reconciler/outbox/", skip: 1)
        try await harness.send(Fixture.event())
        try await eventually("the outbox to empty") { await harness.reconciler.outbox().isEmpty }
        #expect(await harness.store.keys(prefix: "reconciler/outbox/").isEmpty)
        #expect(await harness.seam.count(.createMultiple) == 1)
        await harness.reconciler.stop()
        let restarted = try await harness.restarted()
        #expect(await restarted.state()?.applied?.codes.count == 2)
        #expect(await harness.seam.count(.createMultiple) == 1)
    }

    @Test func workStoppedByAStoreFailureIsRetriedWithoutANewEvent() async throws {
        var harness = try await Harness()
        await harness.store.failPuts(prefix: "reconciler/outbox/", count: 2)
        try await harness.send(Fixture.event())
        try await eventually("the group to be created once the store writes again") {
            await harness.state()?.phase == .converged
        }
        #expect(await harness.seam.count(.createMultiple) == 1)
        #expect(harness.clock.sleeps.contains(ReconcilerConfiguration().storeRetryDelay))
    }

    @Test func resultThatCouldNotBeStoredIsRetriedWithoutASecondCreate() async throws {
        var harness = try await Harness()
        await harness.store.failPuts(prefix: "reconciler/reservation/", skip: 1)
        try await harness.send(Fixture.event())
        #expect(await harness.seam.count(.createMultiple) == 1)
        #expect(await harness.seam.count(.listCodes) == 0)
        #expect(await harness.state()?.phase == .converged)
        await harness.reconciler.stop()
        let restarted = try await harness.restarted()
        #expect(await restarted.state()?.applied?.codes.count == 2)
    }

    @Test func lockThatCannotShareKeepsItsOwnPINThroughRepairAndMoves() async throws {
        var loft = Fixture.loft
        loft.codeSharingBehavior = .createRandomCode
        let seam = FakeAccessCodes()
        await seam.setCannotShare(["back"])
        var harness = try await Harness(catalogue: PropertyCatalogue([loft]), seam: seam)
        try await harness.send(Fixture.event())
        let group = try #require(await harness.state()?.applied)
        let backPIN = try #require(group.codes[1].pin)
        #expect(group.codes[0].pin != backPIN)

        let back = try #require(group.codes[1].accessCodeID)
        await seam.removeBehindOurBack(back)
        try await harness.reconciler.recordLockEvent(accessCodeID: back, kind: .removedExternally)
        await harness.reconciler.waitUntilIdle()
        #expect(await seam.codes(on: "back").first?.code == backPIN)

        try await harness.send(Fixture.event(checkIn: Fixture.day(6, 9)))
        #expect(await seam.count(.updateMultiple) == 1)
        #expect(await seam.count(.updateSingle) == 1)
        #expect(await harness.state()?.phase == .converged)
    }

    @Test func lockThatCannotShareFailsTheGroupWhenTheBehaviourIsThrow() async throws {
        let seam = FakeAccessCodes()
        await seam.setCannotShare(["back"])
        var harness = try await Harness(seam: seam)
        try await harness.send(Fixture.event())
        let letter = try #require(await harness.reconciler.deadLetterList().first)
        #expect(letter.message.contains("cannot share"))
        #expect(await seam.codes.isEmpty)
        #expect(await harness.state()?.phase == .deadLettered)
    }
}
