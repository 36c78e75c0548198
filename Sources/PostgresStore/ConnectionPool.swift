import Foundation
import Glibc
import Store
import Synchronization

/// A bounded pool of PostgreSQL connections, each owned by a thread of its own (`lk-pg-1` … `lk-pg-N`): where every
/// blocking libpq call of a running Latchkey is made.
///
/// Not the listener's loop thread (a handler must not block) and not Swift's cooperative pool (two threads on a
/// two-core machine, shared by the reconciler): jobs are queued here, in order, and each thread takes the next one
/// and runs it on its connection, then runs its completion. A thread whose connection broke (the server went away)
/// drops it and connects again for its next job, at most once per reconnect interval (a job meanwhile fails at
/// once with the last connection error), so the pool recovers by itself when the server is back. A connection that
/// went stale while its thread was idle (the server restarted) is only found out by its next statement: a job's
/// first statement, which cannot have committed anything, is retried once on a new connection
/// (``ConnectionSlot/run(retryingLostConnection:_:)``).
final class ConnectionPool: Sendable {
    /// A unit of work: runs on a pool thread, with that thread's connection slot.
    typealias Job = @Sendable (ConnectionSlot) -> Void

    /// How a thread makes its connection.
    struct Settings: Sendable {
        var url: String
        var size: Int
        var connectTimeoutSeconds: Int
        var statementTimeoutSeconds: Int
        var reconnectInterval: Duration
    }

    private struct Queue {
        var jobs: [Job] = []
        var head = 0
        var closed = false
    }

    private let settings: Settings
    private let queue = Mutex(Queue())
    private let available: DispatchSemaphore
    private let finished = DispatchSemaphore(value: 0)
    private let threadCount: Int
    /// Called with each connection failure and each success, to keep ``PostgresStore/isWritable`` current.
    private let onHealth: @Sendable (StoreError?) -> Void
    /// Connections made by any thread of the pool.
    private let connectionsMade = ConnectionCount()

    /// Starts `settings.size` threads; `first`, if given, becomes the first thread's connection.
    init(
        settings: Settings, first: PGConnection?, onHealth: @escaping @Sendable (StoreError?) -> Void
    ) {
        self.settings = settings
        self.threadCount = max(1, settings.size)
        self.available = DispatchSemaphore(value: 0)
        self.onHealth = onHealth
        let handoff = Mutex<PGConnection?>(first)
        for index in 1...threadCount {
            let thread = Thread { [self] in
                Thread.current.name = "lk-pg-\(index)"  // at most 15 bytes
                let slot = ConnectionSlot(
                    connection: handoff.withLock { connection in
                        defer { connection = nil }
                        return connection
                    }, settings: settings, connectionsMade: connectionsMade, onHealth: onHealth)
                ConnectionSlot.current = slot
                run(slot)
                ConnectionSlot.current = nil
                finished.signal()
            }
            thread.start()
        }
    }

    /// Queues `job`; false when the pool is closed (the job is not run).
    @discardableResult
    func submit(_ job: @escaping Job) -> Bool {
        let accepted = queue.withLock { queue in
            guard !queue.closed else { return false }
            queue.jobs.append(job)
            return true
        }
        if accepted { available.signal() }
        return accepted
    }

    /// Runs `body` with a connection and returns its result: on the calling thread's own connection when it is a
    /// pool thread (a completion reading the store), else on a pool thread while the caller waits.
    func perform<R: Sendable>(_ body: @escaping @Sendable (PGConnection) throws(StoreError) -> R)
        -> Result<R, StoreError>
    {
        if let slot = ConnectionSlot.current { return slot.run(retryingLostConnection: true, body) }
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<R, StoreError>?>(nil)
        let accepted = submit { slot in
            let result = slot.run(retryingLostConnection: true, body)
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard accepted else { return .failure(PostgresStore.closedError) }
        done.wait()
        return outcome.withLock { $0! }
    }

    /// ``perform(_:)`` for async callers: the caller suspends while a pool thread runs `body`.
    func perform<R: Sendable>(_ body: @escaping @Sendable (PGConnection) throws(StoreError) -> R) async
        -> Result<R, StoreError>
    {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<R, StoreError>, Never>) in
            let accepted = submit { slot in
                continuation.resume(returning: slot.run(retryingLostConnection: true, body))
            }
            if !accepted { continuation.resume(returning: .failure(PostgresStore.closedError)) }
        }
    }

    /// Refuses new jobs, lets the threads finish the queued ones, waits for them to end and closes the connections.
    func close() {
        let first = queue.withLock { queue in
            defer { queue.closed = true }
            return !queue.closed
        }
        guard first else { return }
        for _ in 0..<threadCount { available.signal() }
        for _ in 0..<threadCount { finished.wait() }
    }

    /// A thread's loop: the next job, until the queue is closed and empty.
    private func run(_ slot: ConnectionSlot) {
        while true {
            available.wait()
            let job: Job? = queue.withLock { queue in
                guard queue.head < queue.jobs.count else { return nil }
                let job = queue.jobs[queue.head]
                queue.head += 1
                if queue.head > 1024 && queue.head * 2 > queue.jobs.count {
                    queue.jobs.removeFirst(queue.head)
                    queue.head = 0
                }
                return job
            }
            guard let job else {
                if queue.withLock({ $0.closed && $0.head >= $0.jobs.count }) { return }
                continue
            }
            job(slot)
        }
    }
}

/// A pool thread's connection, made on first use and again after it broke.
final class ConnectionSlot: @unchecked Sendable {
    private var connection: PGConnection?
    private var lastFailure: (at: ContinuousClock.Instant, error: StoreError, connectionsMade: Int)?
    private let settings: ConnectionPool.Settings
    private let connectionsMade: ConnectionCount
    private let onHealth: @Sendable (StoreError?) -> Void

    init(
        connection: PGConnection?, settings: ConnectionPool.Settings, connectionsMade: ConnectionCount,
        onHealth: @escaping @Sendable (StoreError?) -> Void
    ) {
        self.connection = connection
        self.settings = settings
        self.connectionsMade = connectionsMade
        self.onHealth = onHealth
    }

    /// The connection, made now if there is none (or the old one broke), unless the last attempt failed less than
    /// the reconnect interval ago and no thread of the pool has connected since (once one has, the server is back).
    private func connect() -> Result<PGConnection, StoreError> {
        if let connection, !connection.isBroken { return .success(connection) }
        connection = nil
        let made = connectionsMade.value.load(ordering: .acquiring)
        if let lastFailure, lastFailure.connectionsMade == made,
            ContinuousClock.now - lastFailure.at < settings.reconnectInterval
        {
            return .failure(lastFailure.error)
        }
        do {
            let fresh = try PGConnection(
                url: settings.url, connectTimeoutSeconds: settings.connectTimeoutSeconds,
                statementTimeoutSeconds: settings.statementTimeoutSeconds)
            connection = fresh
            lastFailure = nil
            connectionsMade.value.add(1, ordering: .releasing)
            return .success(fresh)
        } catch {
            lastFailure = (ContinuousClock.now, error, made)
            onHealth(error)
            return .failure(error)
        }
    }

    /// Runs `body` on this thread's connection.
    /// - Parameters:
    ///   - retryingLostConnection: Whether `body` may run a second time, on a new connection, when the connection
    ///     turns out to be lost: true for reads and for a transaction's first statement (nothing can have committed),
    ///     false for what follows it.
    ///   - body: The statements.
    func run<R>(retryingLostConnection: Bool, _ body: (PGConnection) throws(StoreError) -> R) -> Result<R, StoreError> {
        let first = connect().flatMap { connection in Result { () throws(StoreError) in try body(connection) } }
        // A statement that failed for want of the server: the connection is dropped even when libpq still calls it
        // good (a failed prepare on a closed socket does), so the next use makes a new one.
        guard case .failure(let error) = first, error.code == .unavailable, connection != nil else { return first }
        self.connection = nil
        guard retryingLostConnection else { return first }
        lastFailure = nil
        return connect().flatMap { connection in Result { () throws(StoreError) in try body(connection) } }
    }

    /// The slot of the pool thread running now, or nil on any other thread.
    static var current: ConnectionSlot? {
        get {
            guard let raw = pthread_getspecific(threadKey) else { return nil }
            return Unmanaged<ConnectionSlot>.fromOpaque(raw).takeUnretainedValue()
        }
        set {
            // The thread's own `slot` keeps it alive for as long as the key names it.
            pthread_setspecific(threadKey, newValue.map { Unmanaged.passUnretained($0).toOpaque() })
        }
    }
}

/// The thread-specific key naming a pool thread's ``ConnectionSlot``.
private let threadKey: pthread_key_t = {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
    return key
}()

/// How many connections a pool's threads have made, shared by its slots.
final class ConnectionCount: Sendable {
    /// The count.
    let value = Atomic<Int>(0)
}
