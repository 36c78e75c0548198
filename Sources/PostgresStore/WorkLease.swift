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
        // True once the lock's session is gone (a new connection): the lock is to be taken again.
        var sessionLost = false
        while !stopping.load(ordering: .acquiring) {
            do throws(StoreError) {
                let current: PGConnection
                if let connection {
                    current = connection
                } else {
                    current = try configuration.connect()
                    connection = current
                    sessionLost = term > 0
                }
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
                    try keep(term, on: current, sessionLost: sessionLost)
                    sessionLost = false
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

    /// Checks the term is still `term` (the lock stays with the session that took it); on a new session, after the
    /// old one went with a server restart, takes the lock again first. Throws ``StoreError/Code/locked`` when another
    /// instance took over.
    private func keep(_ term: Int64, on connection: PGConnection, sessionLost: Bool) throws(StoreError) {
        var locked = true
        if sessionLost {
            let taken = try connection.execute("SELECT pg_try_advisory_lock(\(PostgresStore.workLeaseLockKey))")
            locked = taken.string(row: 0, column: 0) == "t"
        }
        // Text results: the term as digits.
        let stored = try connection.execute("SELECT term FROM latchkey_work_lease WHERE id = 1")
            .string(row: 0, column: 0).flatMap { Int64($0) }
        if locked, stored == term {
            if sessionLost {
                logger.notice("work lease: held again after the session was lost", metadata: ["term": "\(term)"])
            }
            return
        }
        throw StoreError(
            .locked,
            "another Latchkey instance took the work lease (term \(stored.map(String.init) ?? "?") after \(term)) "
                + "while this one's session was away")
    }

    /// Sleeps `duration` in steps of 50 ms, ending early once a stop was asked for.
    private func sleepUnlessStopping(_ duration: Duration) {
        for _ in 0..<max(1, Int(duration / .milliseconds(50))) where !stopping.load(ordering: .acquiring) {
            usleep(50_000)
        }
    }
}
