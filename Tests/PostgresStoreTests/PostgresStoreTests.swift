import Foundation
import LatchkeyTestSupport
import Logging
import PostgresStore
import Store
import Synchronization
import Testing

/// A migrated database of its own on the test process's cluster.
private func migratedDatabase() throws -> String {
    let url = try PostgresCluster.shared().makeDatabase()
    _ = try PostgresStore.migrate(configuration: PostgresStoreConfiguration(url: url))
    return url
}

/// A claim of `key` answered `"resp-" + key`, putting `value` under `entry`.
private func claimAndPut(_ key: String, entry: String, value: String) -> Transaction {
    var t = Transaction()
    t.claim(key, response: bytes("resp-" + key))
    t.put(bytes(value), forKey: entry)
    return t
}

/// What only PostgreSQL does: instances sharing one database, the schema's versions, losing the server and getting
/// it back, and the move from a journal. Against a real server (``PostgresCluster``), never a mock.
@Suite(
    "PostgreSQL store",
    .enabled(if: PostgresCluster.isAvailable, Comment(rawValue: PostgresCluster.unavailableReason ?? "")))
struct PostgresStoreTests {
    /// A store's configuration on `url`.
    private static func shared(_ url: String, poolSize: Int = 8) -> PostgresStoreConfiguration {
        PostgresStoreConfiguration(url: url, poolSize: poolSize)
    }

    /// A transaction of the work (the reconciler's): one put, needing the work lease.
    private static func workPut(_ key: String, _ value: String) -> Transaction {
        var transaction = Transaction()
        transaction.put(bytes(value), forKey: key)
        transaction.requiresWorkLease = true
        return transaction
    }

    /// Starts a work lease on `store`, counting its takes.
    private static func lease(_ store: PostgresStore, _ url: String, taken: Counter) -> WorkLease {
        WorkLease(
            store: store, configuration: shared(url), holder: "test", onTaken: { _ in taken.increment() },
            logger: quietLogger)
    }

    @Test func oneInstanceHoldsTheWorkLeaseAndAnotherTakesItOverWithANewTermThatFencesTheFirst() async throws {
        let url = try migratedDatabase()
        let first = try PostgresStore.open(configuration: Self.shared(url, poolSize: 2), logger: quietLogger)
        defer { first.close() }
        let second = try PostgresStore.open(configuration: Self.shared(url, poolSize: 2), logger: quietLogger)
        defer { second.close() }
        let lost = Counter()
        first.onWorkLeaseLost { _ in lost.increment() }
        let firstTaken = Counter()
        let secondTaken = Counter()
        let firstLease = Self.lease(first, url, taken: firstTaken)
        try await eventually("the first to take the lease", attempts: 200, interval: .milliseconds(20)) {
            first.holdsWorkLease
        }
        let secondLease = Self.lease(second, url, taken: secondTaken)
        defer { secondLease.stop() }
        // Both take deliveries; only the holder writes the work.
        #expect(try await second.commit(claimAndPut("delivery/s/1", entry: "booking/s/1", value: "b")) == .committed)
        #expect(try await first.commit(Self.workPut("reconciler/r/1", "first")) == .committed)
        do {
            _ = try await second.commit(Self.workPut("reconciler/r/1", "second"))
            Issue.record("an instance without the lease wrote the work")
        } catch {
            #expect(error.code == .locked)
        }
        try await Task.sleep(for: .milliseconds(600))
        #expect(!second.holdsWorkLease && secondTaken.value == 0)

        // The first lets go of the lock (as a dead one's session does) but its store still has the old term: the
        // second takes over with a new term, and the first's next work transaction is refused by the database.
        firstLease.stop()
        try await eventually("the second to take the lease over", attempts: 200, interval: .milliseconds(20)) {
            second.holdsWorkLease
        }
        #expect(firstTaken.value == 1 && secondTaken.value == 1)
        #expect(try await second.commit(Self.workPut("reconciler/r/1", "second")) == .committed)
        do {
            _ = try await first.commit(Self.workPut("reconciler/r/1", "stale"))
            Issue.record("the instance of the old term wrote the work")
        } catch {
            #expect(error.code == .locked)
            #expect(error.message.contains("took the work lease over"))
        }
        #expect(lost.value == 1)
        #expect(!first.holdsWorkLease)
        #expect(try second.value(forKey: "reconciler/r/1") == bytes("second"))
        // Deliveries still commit on the fenced instance: every instance takes them.
        #expect(try await first.commit(claimAndPut("delivery/s/2", entry: "booking/s/2", value: "b")) == .committed)
        // An import is refused while an instance holds the lease.
        #expect(throws: StoreError.self) {
            _ = try PostgresStore.importRecords(StoreExport(entries: [], claims: []), configuration: Self.shared(url))
        }
    }

    @Test func aLaterBookingIsNeverReplacedByAnEarlierOneWrittenByAnotherInstance() async throws {
        let url = try migratedDatabase()
        let first = try PostgresStore.open(configuration: Self.shared(url, poolSize: 2), logger: quietLogger)
        defer { first.close() }
        let second = try PostgresStore.open(configuration: Self.shared(url, poolSize: 2), logger: quietLogger)
        defer { second.close() }
        func put(_ store: PostgresStore, _ value: String, time: Double?, sequence: Int64) async throws {
            var transaction = Transaction()
            transaction.put(bytes(value), forKey: "booking/s/r", order: EntryOrder(time: time, sequence: sequence))
            transaction.announce("booking/s/r")
            _ = try await store.commit(transaction)
        }
        try await put(first, "updated at 10", time: 10, sequence: 5)
        try await put(second, "updated at 9, received later", time: 9, sequence: 9)
        #expect(try first.value(forKey: "booking/s/r") == bytes("updated at 10"))
        try await put(second, "no time, received earlier", time: nil, sequence: 4)
        #expect(try first.value(forKey: "booking/s/r") == bytes("updated at 10"))
        try await put(second, "same time, received later", time: 10, sequence: 6)
        #expect(try first.value(forKey: "booking/s/r") == bytes("same time, received later"))
        try await put(first, "no time, received later", time: nil, sequence: 7)
        #expect(try first.value(forKey: "booking/s/r") == bytes("no time, received later"))
        // A delete of an older sequence leaves the newer booking; of its own sequence, deletes it.
        var stale = Transaction()
        stale.delete(key: "booking/s/r", ifOrderIs: EntryOrder(time: nil, sequence: 6))
        _ = try await second.commit(stale)
        #expect(try first.value(forKey: "booking/s/r") == bytes("no time, received later"))
        var current = Transaction()
        current.delete(key: "booking/s/r", ifOrderIs: EntryOrder(time: nil, sequence: 7))
        _ = try await second.commit(current)
        #expect(try first.value(forKey: "booking/s/r") == nil)
        // Every put was announced, each announcement taken once across the two instances.
        async let fromFirst = first.takeAnnouncements(limit: 100)
        async let fromSecond = second.takeAnnouncements(limit: 100)
        let taken = try await fromFirst + fromSecond
        #expect(taken.count == 5)
        #expect(try await first.takeAnnouncements(limit: 100).isEmpty)
    }

    @Test func aDuplicateOnAnotherInstanceGetsTheFirstAnswer() async throws {
        let url = try migratedDatabase()
        let first = try PostgresStore.open(configuration: Self.shared(url), logger: quietLogger)
        defer { first.close() }
        let second = try PostgresStore.open(configuration: Self.shared(url), logger: quietLogger)
        defer { second.close() }
        #expect(try await first.commit(claimAndPut("delivery/s/e1", entry: "booking/s/1", value: "v1")) == .committed)
        // The second instance never saw the key: its fast path does not know it, the database does.
        #expect(second.idempotencyResponse(forKey: "delivery/s/e1") == nil)
        let outcome = try await second.commit(claimAndPut("delivery/s/e1", entry: "booking/s/1", value: "v2"))
        #expect(outcome == .duplicate(originalResponse: bytes("resp-delivery/s/e1")))
        #expect(try second.value(forKey: "booking/s/1") == bytes("v1"))
        #expect(second.idempotencyResponse(forKey: "delivery/s/e1") == bytes("resp-delivery/s/e1"))
    }

    @Test func concurrentClaimsFromTwoInstancesCommitOnce() async throws {
        let url = try migratedDatabase()
        let stores = try (0..<2).map { _ in
            try PostgresStore.open(configuration: Self.shared(url, poolSize: 4), logger: quietLogger)
        }
        defer { for store in stores { store.close() } }
        let outcomes = try await withThrowingTaskGroup(of: CommitOutcome.self) { group in
            for i in 0..<16 {
                let store = stores[i % 2]
                group.addTask { try await store.commit(claimAndPut("delivery/x", entry: "applied/\(i)", value: "1")) }
            }
            return try await group.reduce(into: [CommitOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .committed }.count == 1)
        #expect(try stores[1].entries(withPrefix: "applied/").count == 1)
    }

    @Test func anUnmigratedDatabaseIsRefusedNamingTheCommand() throws {
        let url = try PostgresCluster.shared().makeDatabase()
        #expect(try PostgresStore.schemaVersion(configuration: PostgresStoreConfiguration(url: url)) == 0)
        do {
            _ = try PostgresStore.open(configuration: PostgresStoreConfiguration(url: url), logger: quietLogger)
            Issue.record("an unmigrated database was opened")
        } catch {
            #expect(error.code == .schemaVersion)
            #expect(error.message.contains("latchkey db migrate"))
        }
        let applied = try PostgresStore.migrate(configuration: PostgresStoreConfiguration(url: url))
        #expect(applied.map(\.version) == PostgresSchema.migrations.map(\.version))
        #expect(try PostgresStore.migrate(configuration: PostgresStoreConfiguration(url: url)).isEmpty)
        #expect(
            try PostgresStore.schemaVersion(configuration: PostgresStoreConfiguration(url: url))
                == PostgresSchema.latestVersion)
        try PostgresStore.open(configuration: PostgresStoreConfiguration(url: url), logger: quietLogger).close()
    }

    @Test func aNewerSchemaIsRefused() async throws {
        let url = try migratedDatabase()
        try await PostgresTestSQL.execute(
            "INSERT INTO latchkey_schema_migrations (version, description) VALUES (999, 'from the future')", url: url)
        do {
            _ = try PostgresStore.migrate(configuration: PostgresStoreConfiguration(url: url))
            Issue.record("migrate accepted a newer schema")
        } catch {
            #expect(error.code == .schemaVersion)
            #expect(error.message.contains("version 999, newer"))
        }
        do {
            try PostgresStore.open(configuration: PostgresStoreConfiguration(url: url), logger: quietLogger).close()
            Issue.record("open accepted a newer schema")
        } catch {
            #expect(error.code == .schemaVersion)
            #expect(error.message.contains("version 999, newer"))
        }
    }

    @Test func anUnreachableServerIsRefusedAtOpen() throws {
        let url = "postgresql:///nothing?host=/tmp/lk-pg-nowhere&port=5432&user=postgres"
        do {
            _ = try PostgresStore.open(configuration: PostgresStoreConfiguration(url: url), logger: quietLogger)
            Issue.record("opened a store with no server")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("cannot connect to PostgreSQL"))
        }
    }

    /// A cluster of its own (to stop and start) with one migrated database.
    private static func ownCluster() throws -> (PostgresCluster, String) {
        let cluster = try PostgresCluster()
        let url = try cluster.makeDatabase()
        _ = try PostgresStore.migrate(configuration: PostgresStoreConfiguration(url: url))
        return (cluster, url)
    }

    /// Stops a cluster of ``ownCluster()`` and deletes its directory.
    private static func remove(_ cluster: PostgresCluster) {
        try? cluster.stop(mode: "immediate")
        try? FileManager.default.removeItem(atPath: cluster.directory)
    }

    @Test func theServerGoneFailsCommitsAndItsReturnIsNoticedWithoutReopening() async throws {
        // A cluster of its own: the shared one serves the other tests meanwhile.
        let (cluster, url) = try Self.ownCluster()
        defer { Self.remove(cluster) }
        var configuration = PostgresStoreConfiguration(url: url, poolSize: 2)
        configuration.reconnectInterval = .milliseconds(50)
        let store = try PostgresStore.open(configuration: configuration, logger: quietLogger)
        defer { store.close() }
        let taken = Counter()
        let lease = Self.lease(store, url, taken: taken)
        defer { lease.stop() }
        try await eventually("the lease to be taken", attempts: 200, interval: .milliseconds(20)) {
            store.holdsWorkLease
        }
        #expect(try await store.commit(claimAndPut("delivery/a", entry: "e/a", value: "1")) == .committed)

        try cluster.stop(mode: "immediate")
        // More commits than connections: each thread finds its connection lost, then fails to connect again.
        for attempt in 0..<6 {
            await #expect(throws: StoreError.self) {
                try await store.commit(claimAndPut("delivery/b", entry: "e/b", value: "\(attempt)"))
            }
            try await Task.sleep(for: .milliseconds(60))  // past the reconnect interval: each try really connects
        }
        #expect(!store.isWritable)
        #expect(store.stats().failedBatches >= 1)

        try cluster.start()
        try await eventually("a commit to succeed again", attempts: 400, interval: .milliseconds(25)) {
            (try? await store.commit(claimAndPut("delivery/b", entry: "e/b", value: "2"))) == .committed
        }
        #expect(store.isWritable)
        #expect(try store.value(forKey: "e/a") == bytes("1"))
        #expect(try store.value(forKey: "e/b") == bytes("2"))
        // The work lease went with the server's sessions; the holder took it again with its own term.
        try await eventually("the lease to be held again", attempts: 400, interval: .milliseconds(25)) {
            (try? await store.commit(Self.workPut("reconciler/r", "after"))) == .committed
        }
        #expect(taken.value == 1)
    }

    @Test func aJournalMovesIntoPostgreSQLWithEveryKey() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let journal = try Store.open(at: directory.path + "/data", logger: quietLogger)
        for i in 0..<50 {
            #expect(
                try await journal.commit(claimAndPut("delivery/s/e\(i)", entry: "booking/s/\(i)", value: "b\(i)"))
                    == .committed)
        }
        var t = Transaction()
        t.put(bytes("r"), forKey: "reconciler/reservation/s/1")
        t.delete(key: "booking/s/49")
        _ = try await journal.commit(t)
        try journal.compact()
        _ = try await journal.commit(claimAndPut("delivery/s/late", entry: "booking/s/late", value: "late"))
        journal.close()

        let export = try StoreExport.read(dataDirectory: directory.path + "/data")
        #expect(export.entries.count == 51)
        #expect(export.claims.count == 51)
        try export.write(to: directory.path + "/export.lkx")
        let loaded = try StoreExport.load(from: directory.path + "/export.lkx")
        #expect(loaded == export)

        let url = try migratedDatabase()
        let configuration = PostgresStoreConfiguration(url: url)
        #expect(
            try PostgresStore.importRecords(loaded, configuration: configuration)
                == PostgresStore.ImportCount(entries: 51, claims: 51))
        // Importing again changes nothing.
        _ = try PostgresStore.importRecords(loaded, configuration: configuration)

        let store = try PostgresStore.open(configuration: configuration, logger: quietLogger)
        defer { store.close() }
        let moved = try store.entries(withPrefix: "")
        #expect(moved.map(\.key) == export.entries.map(\.key))
        #expect(moved.map(\.value) == export.entries.map(\.value))
        for key in ["delivery/s/e0", "delivery/s/e49", "delivery/s/late"] {
            #expect(
                try await store.commit(claimAndPut(key, entry: "booking/again", value: "x"))
                    == .duplicate(originalResponse: bytes("resp-" + key)), "\(key) was not moved")
        }
        #expect(try store.value(forKey: "booking/again") == nil)
    }

    @Test func aTruncatedExportIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let export = StoreExport(
            entries: [.init(key: "k", value: [1, 2])],
            claims: [.init(digest: [UInt8](repeating: 7, count: 16), expiresAt: 1, response: [3])])
        let path = directory.appending("x.lkx")
        try export.write(to: path)
        #expect(try StoreExport.load(from: path) == export)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "end 1 1\n", with: "").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: StoreError.self) { try StoreExport.load(from: path) }
    }
}

/// Runs SQL against a test database with `psql`, for setting up states the store never makes itself.
enum PostgresTestSQL {
    static func execute(_ sql: String, url: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PostgresCluster.binDirectory + "/psql")
        process.arguments = ["-v", "ON_ERROR_STOP=1", "-q", "-d", url, "-c", sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "psql failed: \(sql)")
    }
}

/// A count other threads increment (a lease's takes, its losses).
private final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
