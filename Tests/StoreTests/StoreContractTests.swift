import Foundation
import LatchkeyTestSupport
import PostgresStore
import Store
import Testing

/// A backend of ``DurableStore`` under test, and where it keeps its data for one test.
struct BackendHarness: Sendable {
    /// The backends.
    enum Kind: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case flatFiles = "flat_files"
        case postgresql

        var testDescription: String { rawValue }

        /// Every backend that can run here: PostgreSQL only when its programs are installed
        /// (``PostgresCluster/unavailableReason``; `PostgresStoreTests` reports the skip).
        static var testable: [Kind] { PostgresCluster.isAvailable ? allCases : [.flatFiles] }
    }

    let kind: Kind
    /// The data directory, or the database's URI.
    let place: String
    let clock: TestClock
    private let directory: TemporaryDirectory?

    /// A fresh, empty place for `kind`: a temporary directory, or a new, migrated database on the test cluster.
    init(_ kind: Kind, clock: TestClock = TestClock()) throws {
        self.kind = kind
        self.clock = clock
        switch kind {
        case .flatFiles:
            let directory = TemporaryDirectory()
            self.directory = directory
            place = directory.data
        case .postgresql:
            directory = nil
            place = try PostgresCluster.shared().makeDatabase()
            _ = try PostgresStore.migrate(configuration: PostgresStoreConfiguration(url: place))
        }
    }

    /// Opens the store at ``place`` (again, after a close: what a restart does).
    /// - Parameter retention: The default idempotency retention.
    func open(retention: Duration = .seconds(7 * 24 * 3600)) throws -> any DurableStore {
        switch kind {
        case .flatFiles:
            return try openStore(
                at: place, configuration: configuration(clock: clock) { $0.idempotencyRetention = retention },
                logger: quietLogger)
        case .postgresql:
            var configuration = PostgresStoreConfiguration(url: place, poolSize: 4, idempotencyRetention: retention)
            configuration.clock = { [clock] in clock.current }
            return try PostgresStore.open(configuration: configuration, logger: quietLogger)
        }
    }

    /// Deletes the temporary directory (a test database is left to the cluster, removed with it).
    func remove() { directory?.remove() }
}

/// The promises every backend keeps (``DurableStore``), run against each: flat files, and PostgreSQL when it is
/// installed.
@Suite("Store contract, every backend")
struct StoreContractTests {
    @Test(arguments: BackendHarness.Kind.testable)
    func committedPutsAndDeletesAreVisibleToReads(_ kind: BackendHarness.Kind) async throws {
        let harness = try BackendHarness(kind)
        defer { harness.remove() }
        let store = try harness.open()
        defer { store.close() }
        var t = Transaction()
        t.put(bytes("confirmed"), forKey: "reservation/guesty/1")
        t.put(bytes("intent"), forKey: "outbox/000001")
        #expect(try await store.commit(t) == .committed)
        #expect(try store.value(forKey: "reservation/guesty/1") == bytes("confirmed"))

        var u = Transaction()
        u.delete(key: "outbox/000001")
        u.put(bytes("cancelled"), forKey: "reservation/guesty/1")
        u.delete(key: "never/there")
        #expect(try await store.commit(u) == .committed)
        #expect(try store.value(forKey: "outbox/000001") == nil)
        #expect(try store.value(forKey: "reservation/guesty/1") == bytes("cancelled"))
        #expect(store.stats().transactionsCommitted == 2)
    }

    @Test(arguments: BackendHarness.Kind.testable)
    func operationsApplyInOrderWithinATransaction(_ kind: BackendHarness.Kind) async throws {
        let harness = try BackendHarness(kind)
        defer { harness.remove() }
        let store = try harness.open()
        defer { store.close() }
        var t = Transaction()
        t.put(bytes("1"), forKey: "k/a")
        t.delete(key: "k/a")
        t.put(bytes("2"), forKey: "k/b")
        t.put(bytes("3"), forKey: "k/b")
        #expect(try await store.commit(t) == .committed)
        #expect(try store.value(forKey: "k/a") == nil)
        #expect(try store.value(forKey: "k/b") == bytes("3"))
    }

    @Test(arguments: BackendHarness.Kind.testable)
    func entriesUnderAPrefixAreSortedAndOnlyThose(_ kind: BackendHarness.Kind) async throws {
        let harness = try BackendHarness(kind)
        defer { harness.remove() }
        let store = try harness.open()
        defer { store.close() }
        var t = Transaction()
        for key in ["a/2", "b/1", "a/10", "ab", "a/1", "a", "a/é"] { t.put(bytes("v-" + key), forKey: key) }
        #expect(try await store.commit(t) == .committed)
        let found = try store.entries(withPrefix: "a/")
        #expect(found.map(\.key) == ["a/1", "a/10", "a/2", "a/é"])
        #expect(found.map(\.value) == [bytes("v-a/1"), bytes("v-a/10"), bytes("v-a/2"), bytes("v-a/é")])
        #expect(try await store.loadEntries(withPrefix: "a/").map(\.key) == found.map(\.key))
        #expect(try store.entries(withPrefix: "").count == 7)
        #expect(try store.entries(withPrefix: "z/").isEmpty)
    }

    @Test(arguments: BackendHarness.Kind.testable)
    func aRepeatedClaimIsADuplicateAndAppliesNothing(_ kind: BackendHarness.Kind) async throws {
        let harness = try BackendHarness(kind)
        defer { harness.remove() }
        let store = try harness.open()
        defer { store.close() }
        #expect(
            try await store.commit(claimAndPut("delivery/guesty/e1", entry: "reservation/1", value: "v1")) == .committed
        )
        let repeatOutcome = try await store.commit(
            claimAndPut("delivery/guesty/e1", entry: "reservation/1", value: "v2"))
        #expect(repeatOutcome == .duplicate(originalResponse: bytes("resp-delivery/guesty/e1")))
        #expect(try store.value(forKey: "reservation/1") == bytes("v1"))
        #expect(store.idempotencyResponse(forKey: "delivery/guesty/e1") == bytes("resp-delivery/guesty/e1"))
        #expect(store.idempotencyResponse(forKey: "delivery/guesty/e2") == nil)
        #expect(store.stats().duplicates == 1)
    }

    @Test(arguments: BackendHarness.Kind.testable)
    func manyConcurrentClaimsOfOneKeyCommitExactlyOnce(_ kind: BackendHarness.Kind) async throws {
        let harness = try BackendHarness(kind)
        defer { harness.remove() }
        let store = try harness.open()
        defer { store.close() }
        let outcomes = try await withThrowingTaskGroup(of: CommitOutcome.self) { group in
            for i in 0..<24 {
                group.addTask { try await store.commit(claimAndPut("delivery/x", entry: "applied/\(i)", value: "1")) }
            }
            return try await group.reduce(into: [CommitOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .committed }.count == 1)
        #expect(outcomes.filter { $0 == .duplicate(originalResponse: bytes("resp-delivery/x")) }.count == 23)
        #expect(try store.entries(withPrefix: "applied/").count == 1)
    }

    @Test(arguments: BackendHarness.Kind.testable)
    func anExpiredClaimCanBeClaimedAgain(_ kind: BackendHarness.Kind) async throws {
        let harness = try BackendHarness(kind)
        defer { harness.remove() }
        let store = try harness.open(retention: .seconds(60))
        defer { store.close() }
        #expect(try await store.commit(claimAndPut("delivery/e", entry: "n/1", value: "1")) == .committed)
        harness.clock.advance(by: 30)
        #expect(try await store.commit(claimAndPut("delivery/e", entry: "n/2", value: "1")) != .committed)
        harness.clock.advance(by: 31)
        #expect(store.idempotencyResponse(forKey: "delivery/e") == nil)
        #expect(try await store.commit(claimAndPut("delivery/e", entry: "n/3", value: "1")) == .committed)
        #expect(try store.entries(withPrefix: "n/").map(\.key) == ["n/1", "n/3"])
    }

    @Test(arguments: BackendHarness.Kind.testable)
    func whatWasCommittedSurvivesAReopen(_ kind: BackendHarness.Kind) async throws {
        let harness = try BackendHarness(kind)
        defer { harness.remove() }
        do {
            let store = try harness.open()
            #expect(try await store.commit(claimAndPut("delivery/k", entry: "booking/s/1", value: "b1")) == .committed)
            var t = Transaction()
            t.put(bytes("r"), forKey: "reconciler/reservation/s/1")
            #expect(try await store.commit(t) == .committed)
            store.close()
        }
        let store = try harness.open()
        defer { store.close() }
        #expect(try store.value(forKey: "booking/s/1") == bytes("b1"))
        #expect(try store.value(forKey: "reconciler/reservation/s/1") == bytes("r"))
        #expect(
            try await store.commit(claimAndPut("delivery/k", entry: "booking/s/1", value: "b2"))
                == .duplicate(originalResponse: bytes("resp-delivery/k")))
        #expect(try store.value(forKey: "booking/s/1") == bytes("b1"))
    }

    @Test(arguments: BackendHarness.Kind.testable)
    func anEmptyTransactionCommitsAndACommitAfterCloseFails(_ kind: BackendHarness.Kind) async throws {
        let harness = try BackendHarness(kind)
        defer { harness.remove() }
        let store = try harness.open()
        #expect(try await store.commit(Transaction()) == .committed)
        #expect(store.isWritable)
        store.close()
        store.close()
        await #expect(throws: StoreError.self) { try await store.commit(claimAndPut("d/1", entry: "e", value: "v")) }
        do {
            _ = try await store.commit(Transaction())
        } catch {
            #expect(error.code == .closed)
        }
    }
}
