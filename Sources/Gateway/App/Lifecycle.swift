import Foundation
import Logging
import Synchronization

/// A part of a running gateway that holds threads, tasks, files or sockets until it is stopped: the store, the
/// built-in fake Seam, the reconciler, the booking feed, the periodic sweeps and the listener.
///
/// A part is running when its ``Lifecycle/start(_:_:)`` step returns it; a step that throws has started nothing
/// that needs stopping (the part cleans up its own half-start, as `Store.open` and `HTTPServer.init` do).
package protocol LongRunning: Sendable {
    /// Stops the part and returns once its threads and tasks have ended and its files and sockets are closed.
    /// The ``Lifecycle`` calls it once, after every part started later has stopped.
    func stop() async
}

/// The steps of a gateway's start, in the order they run. Those that start a part add it to the ``Lifecycle``;
/// `secrets` and `storedBookings` start nothing but may fail all the same.
package enum StartStep: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Every secret resolved (sources, Seam API key, Seam webhook secret, admin token); starts nothing.
    case secrets
    /// The store: the data directory's lock, the journal writer thread `lk-journal` (and `lk-compactor` while a
    /// compaction runs).
    case store
    /// The Seam connection; with no API key, the built-in fake Seam's listener thread as well.
    case seam
    /// The work lease's thread `lk-pg-lease` (PostgreSQL only): every instance takes deliveries, the one holding
    /// the lease starts the steps from ``notifications`` to ``workQueue`` once it has it, after the listener.
    case workLease = "work-lease"
    /// The notification outbox and its dispatcher's task (`notifications:`; holds nothing without endpoints).
    /// Before the reconciler, whose every committed change it sees, and stopped after it.
    case notifications
    /// The reconciler: its stored records loaded, its worker tasks and its invariant sweeper.
    case reconciler
    /// Every stored booking handed to the reconciler again; starts nothing.
    case storedBookings = "stored-bookings"
    /// The booking feed's task (acknowledged bookings → reconciler).
    case bookingFeed = "booking-feed"
    /// The hourly history-retention sweep's task.
    case historySweep = "history-sweep"
    /// The gauge refresher's task.
    case gaugeRefresher = "gauge-refresher"
    /// The pre-arrival checks' task (looks for reservations whose check is due).
    case arrivalChecks = "arrival-checks"
    /// The periodic drift reconciliation's task.
    case driftReconciliation = "drift-reconciliation"
    /// The task handing what other instances announced to the reconciler (PostgreSQL only, on the holder of the
    /// work lease).
    case workQueue = "work-queue"
    /// The listener: its sockets and event-loop threads `lk-http-<port>`. Last, so that no request arrives
    /// before everything it reaches runs.
    case listener

    /// The steps that run only with a store shared by instances (PostgreSQL).
    package static let sharedStoreOnly: Set<StartStep> = [.workLease, .workQueue]

    /// The step's name in logs and errors, e.g. `booking-feed`.
    package var description: String { rawValue }
}

/// For tests: makes a gateway's start fail at one step, and records which parts started and stopped, in order.
package final class StartupProbe: Sendable {
    /// A part started or stopped.
    package enum Event: Sendable, Equatable, CustomStringConvertible {
        /// The part of this step is running.
        case started(StartStep)
        /// The part of this step has stopped.
        case stopped(StartStep)

        /// `started store`, `stopped listener`.
        package var description: String {
            switch self {
            case .started(let step): "started \(step)"
            case .stopped(let step): "stopped \(step)"
            }
        }
    }

    /// The step that fails before doing anything, or nil for a start that fails only on its own.
    package let failingStep: StartStep?
    private let recorded = Mutex<[Event]>([])

    /// Creates a probe.
    /// - Parameter failingStep: The step made to fail (with a ``GatewayStartError`` saying it was injected), or
    ///   nil.
    package init(failingStep: StartStep? = nil) {
        self.failingStep = failingStep
    }

    /// Every part started and stopped so far, in order.
    package var events: [Event] { recorded.withLock { $0 } }

    /// Records an event.
    func record(_ event: Event) { recorded.withLock { $0.append(event) } }
}

/// The running parts of a gateway in the order they started; stops them in the reverse order, whether the start
/// failed half-way or a shutdown was asked for.
///
/// Each step of the start goes through ``run(_:_:)`` or ``start(_:_:)``; when a step throws, every part started
/// before it is stopped, last first, and the step's error is rethrown: one unwind path for every failure.
package final class Lifecycle: Sendable {
    private struct State {
        var running: [(step: StartStep, part: any LongRunning)] = []
        var stopping: Task<Void, Never>?
    }

    private let state = Mutex(State())
    private let probe: StartupProbe?
    private let logger: Logger

    /// Creates an empty lifecycle.
    /// - Parameters:
    ///   - probe: For tests: a step to fail and a record of starts and stops; nil in production.
    ///   - logger: Where starts and stops are logged (debug).
    package init(probe: StartupProbe? = nil, logger: Logger) {
        self.probe = probe
        self.logger = logger
    }

    /// Runs a step that starts nothing; if it throws, stops every part started so far (last first) and rethrows.
    /// - Parameters:
    ///   - step: Which step this is.
    ///   - body: The step's work.
    /// - Returns: What `body` returns.
    /// - Throws: `body`'s ``GatewayStartError``, or one saying the test probe made `step` fail.
    package func run<Value>(_ step: StartStep, _ body: () async throws(GatewayStartError) -> Value)
        async throws(GatewayStartError) -> Value
    {
        do throws(GatewayStartError) {
            if let probe, probe.failingStep == step {
                throw GatewayStartError(step: step, stage: "\(step)", message: "failure injected by a test")
            }
            return try await body()
        } catch {
            logger.debug("start failed; stopping what started", metadata: ["step": "\(step)", "error": "\(error)"])
            await stop()
            throw error
        }
    }

    /// Runs a step that starts a part and keeps the part, to be stopped after every part started later; if the
    /// step throws, stops every part started so far (last first) and rethrows.
    /// - Parameters:
    ///   - step: Which step this is.
    ///   - body: Starts the part and returns it running.
    /// - Returns: The running part.
    /// - Throws: `body`'s ``GatewayStartError``, or one saying the test probe made `step` fail.
    package func start<Part: LongRunning>(_ step: StartStep, _ body: () async throws(GatewayStartError) -> Part)
        async throws(GatewayStartError) -> Part
    {
        let part = try await run(step, body)
        state.withLock { $0.running.append((step, part)) }
        probe?.record(.started(step))
        logger.debug("started", metadata: ["step": "\(step)"])
        return part
    }

    /// Stops every running part, the last started first, each only after the one started after it has stopped.
    /// Later and concurrent calls wait for the same stop.
    package func stop() async {
        let stopping = state.withLock { state in
            if let stopping = state.stopping { return stopping }
            let parts = state.running
            state.running = []
            let stopping = Task { [probe, logger] in
                for (step, part) in parts.reversed() {
                    await part.stop()
                    probe?.record(.stopped(step))
                    logger.debug("stopped", metadata: ["step": "\(step)"])
                }
            }
            state.stopping = stopping
            return stopping
        }
        await stopping.value
    }
}

/// Runs `body`, which blocks until a thread of a part has ended, on a thread of its own, so that the wait does
/// not hold one of Swift's cooperative threads (two on a two-core machine).
/// - Parameter body: The blocking wait, e.g. `Store.close()`.
func waitOnOwnThread(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread.detachNewThread {
            // Named like every Latchkey thread (at most 15 bytes), so that one still waiting can be found.
            Thread.current.name = "lk-stop-wait"
            body()
            continuation.resume()
        }
    }
}
