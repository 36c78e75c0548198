import Foundation
import Glibc
import Logging
import Store
import Synchronization

/// Which one of the instances sharing a database does the work that must be done once: the reconciler (every Seam
/// call), the notifications, the periodic jobs. Every instance takes deliveries; one holds the lease.
///
/// The lease is a session advisory lock on a connection of its own plus a term: the instance that gets the lock
/// raises `latchkey_work_lease.term` and writes only while that term is current (``Transaction/requiresWorkLease``,
/// checked `FOR SHARE` in each such transaction). When the holder dies its session ends, the server releases the
/// lock, and another instance (trying every ``pollInterval``) takes it with a new term; anything the old one still
/// tries to write fails. The holder checks its session every ``pollInterval``: when it was lost (PostgreSQL
/// restarted) it takes the lock again and goes on only if the term is still its own; otherwise the lease is lost for
/// good (``PostgresStore/onWorkLeaseLost(_:)``), and the process must end, as a Kubernetes controller does when it
/// loses its election: nothing of an old term may go on calling Seam.
///
/// One thread, `lk-pg-lease`, owns the connection. ``stop()`` ends it and releases the lock.
package final class WorkLease: Sendable {
    /// How often a waiting instance tries to take the lease, and the holder checks its session: 250 ms.
    package static let pollInterval: Duration = .milliseconds(250)
    /// How long an instance that took the lease from one that did not let go of it (it died, or lost its session)
    /// waits before its work starts: 2 s. A change the old holder confirmed (``PostgresStore/confirmWorkLease()``)
    /// just before the takeover reaches Seam within it, so the new holder's read-back of the intent in flight finds
    /// it and never makes a second group. Not waited after a holder that stopped and let go.
    package static let takeoverGrace: Duration = .seconds(2)

    /// How the lease was taken.
    package struct Taken: Sendable {
        /// The new term.
        package var term: Int64
        /// Whether the previous holder let go of it (stopped): no grace is needed before the work starts.
        package var previousLetGo: Bool
    }

    private let store: PostgresStore
    private let configuration: PostgresStoreConfiguration
    private let holder: String
    private let onTaken: @Sendable (Taken) -> Void
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let ended = DispatchSemaphore(value: 0)

    /// Starts trying to take the lease.
    /// - Parameters:
    ///   - store: The store whose transactions the term fences.
    ///   - configuration: Where the database is.
    ///   - holder: This instance's name, written with the term (host and process id).
    ///   - onTaken: Called on `lk-pg-lease` once, when this instance took the lease; the work starts after
    ///     ``takeoverGrace`` unless the previous holder let go.
    ///   - logger: Takes, losses and reconnections are logged.
    package init(
        store: PostgresStore, configuration: PostgresStoreConfiguration, holder: String,
        onTaken: @escaping @Sendable (Taken) -> Void, logger: Logger
    ) {
        self.store = store
        self.configuration = configuration
        self.holder = holder
        self.onTaken = onTaken
        self.logger = logger
        let thread = Thread { [self] in run() }
        thread.name = "lk-pg-lease"
        thread.start()
    }

    /// Ends the thread and releases the lock (closing its connection). Returns once the thread has ended.
    package func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        ended.wait()
    }

    /// The thread's loop: wait for the lease, then keep it until stopped or lost.
    private func run() {
        defer { ended.signal() }
        var connection: PGConnection?
        var term: Int64 = 0
        var announcedWaiting = false
        defer {
            if term > 0 {
                // Let go: the next holder needs no grace (this instance's work has stopped by now).
                _ = try? connection?.execute(
                    "UPDATE latchkey_work_lease SET holder = '' WHERE id = 1 AND term = $1", [.int64(term)])
                _ = try? connection?.execute("SELECT pg_advisory_unlock(\(PostgresStore.workLeaseLockKey))")
            }
        }
        while !stopping.load(ordering: .acquiring) {
            do throws(StoreError) {
                if connection == nil { connection = try configuration.connect() }
                guard let current = connection else { continue }
                if term == 0 {
                    if let taken = try take(on: current) {
                        term = taken.term
                        store.leaseTaken(term: term)
                        logger.notice(
                            "work lease: taken; this instance runs the reconciler",
                            metadata: [
                                "term": "\(term)", "holder": "\(holder)",
                                "previous": taken.previousLetGo ? "let go" : "did not let go (grace before the work)",
                            ])
                        onTaken(taken)
                    } else if !announcedWaiting {
                        announcedWaiting = true
                        logger.notice("work lease: held by another instance; this one takes deliveries and waits")
                    }
                } else {
                    try keep(term, on: current)
                }
            } catch {
                connection = nil
                if error.code == .locked {
                    store.leaseLost(error)
                    return
                }
                // PostgreSQL away: the lock may have gone with the session; the next round takes it again (and
                // checks the term) once the server answers. Transactions needing the lease fail meanwhile anyway.
            }
            sleepUnlessStopping(Self.pollInterval)
        }
    }

    /// Tries the lock; when it is ours, raises the term. Returns how it was taken, or nil when another instance
    /// holds it.
    private func take(on connection: PGConnection) throws(StoreError) -> Taken? {
        let locked = try connection.execute("SELECT pg_try_advisory_lock(\(PostgresStore.workLeaseLockKey))")
        guard locked.string(row: 0, column: 0) == "t" else { return nil }
        let raised = try connection.execute(
            """
            UPDATE latchkey_work_lease AS l SET term = l.term + 1, holder = $1, taken_at = now()
            FROM (SELECT holder FROM latchkey_work_lease WHERE id = 1) AS previous
            WHERE l.id = 1 RETURNING l.term, previous.holder
            """,
            [.text(holder)])
        guard let term = raised.int64(row: 0, column: 0) else {
            throw StoreError(.database, "latchkey_work_lease has no row; run `latchkey db migrate` again")
        }
        return Taken(term: term, previousLetGo: (raised.string(row: 0, column: 1) ?? "").isEmpty)
    }

    /// Checks the session still holds the lock with `term`; after a lost session, takes the lock again if the term
    /// is still ours. Throws ``StoreError/Code/locked`` when another instance took over.
    private func keep(_ term: Int64, on connection: PGConnection) throws(StoreError) {
        // Text results: the term as digits, the lock as t/f.
        let held = try connection.execute(
            """
            SELECT term, EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                AND granted AND classid = \(PostgresStore.workLeaseLockKey >> 32)
                AND objid = \(PostgresStore.workLeaseLockKey & 0xFFFF_FFFF))
            FROM latchkey_work_lease WHERE id = 1
            """)
        let stored = held.string(row: 0, column: 0).flatMap { Int64($0) }
        if stored == term, held.string(row: 0, column: 1) == "t" { return }
        if stored == term {
            // A new session (the old one went with a server restart): take the lock again, then look at the term.
            let locked = try connection.execute("SELECT pg_try_advisory_lock(\(PostgresStore.workLeaseLockKey))")
            let again = try connection.execute("SELECT term FROM latchkey_work_lease WHERE id = 1")
            if locked.string(row: 0, column: 0) == "t", again.string(row: 0, column: 0).flatMap({ Int64($0) }) == term {
                logger.notice("work lease: held again after the session was lost", metadata: ["term": "\(term)"])
                return
            }
        }
        throw StoreError(
            .locked,
            "another Latchkey instance took the work lease (term \(stored.map(String.init) ?? "?") after \(term)) "
                + "while this one's session was away")
    }

    private func sleepUnlessStopping(_ duration: Duration) {
        var left = duration
        let step = Duration.milliseconds(50)
        while left > .zero, !stopping.load(ordering: .acquiring) {
            let now = min(step, left)
            usleep(UInt32(now.components.attoseconds / 1_000_000_000_000) + UInt32(now.components.seconds) * 1_000_000)
            left -= now
        }
    }
}
