import Bookings
import Foundation
import Testing

@testable import Reconciler

/// What the on-call CLI reads and changes in a stopped instance's data goes through the reconciler's own API.
@Suite struct StoredRecordsTests {
    /// The entries of `store`, as `Store.readOnlySnapshot(at:)` hands them to the CLI.
    static func entries(_ store: InMemoryStateStore) async throws -> [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: try await store.entries(prefix: "").map { ($0.key, $0.value) })
    }

    /// A reservation whose code Seam refused for good, its reconciler stopped: a dead letter in the store.
    static func stoppedWithADeadLetter() async throws -> (Harness, DeadLetter) {
        var harness = try await Harness()
        await harness.seam.inject(.createMultiple, .fail(.permanent(message: "refused")))
        try await harness.send(Fixture.event())
        let letter = try #require(await harness.reconciler.deadLetterList().first)
        await harness.reconciler.stop()
        return (harness, letter)
    }

    @Test("an offline read finds the dead letter, the blocked record, and names a record that does not decode")
    func offlineReadOfADeadLetter() async throws {
        let (harness, letter) = try await Self.stoppedWithADeadLetter()
        try await harness.store.put(StoreKeys.deadLetter("dl_garbled"), Array("{not json".utf8))

        let records = StoredRecords(entries: try await Self.entries(harness.store))
        #expect(records.deadLetters.map(\.id) == [letter.id])
        #expect(records.intents.isEmpty)
        #expect(records.problems.count == 1)
        if case .corruptRecord(let key, _) = records.problems.first {
            #expect(key == "reconciler/dead/dl_garbled")
        } else {
            Issue.record("expected a corrupt record, got \(records.problems)")
        }
        let record = try #require(try records.reservation(Fixture.key()))
        #expect(record.blockedBy == letter.id)
        #expect(try records.reservation(Fixture.key("nobody")) == nil)
    }

    @Test("requeueing a dead letter offline removes it, and the next start plans its reservation again")
    func offlineRequeue() async throws {
        let (harness, letter) = try await Self.stoppedWithADeadLetter()

        await #expect(throws: ReconcilerError.unknownDeadLetter(id: "dl_nope")) {
            try await Reconciler.requeueDeadLetter("dl_nope", in: harness.store)
        }
        try await Reconciler.requeueDeadLetter(letter.id, in: harness.store)
        #expect(await harness.store.keys(prefix: StoreKeys.deadLetters).isEmpty)

        let restarted = try await harness.restarted()
        await restarted.reconciler.waitUntilIdle()
        #expect(await restarted.state()?.phase == .converged)
        #expect(await harness.seam.count(.createMultiple) == 2)
    }
}
