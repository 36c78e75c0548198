import Bookings
import Foundation
import Glibc
import HTTPServer
import Intake
import Logging
import Observability
import PostgresStore
import Reconciler
import Store
import Synchronization

// What changes when several instances share one PostgreSQL database: every instance takes deliveries, and the one
// holding the work lease (`PostgresStore.WorkLease`) does the work that must be done once (the reconciler, the
// notifications, the periodic jobs). The others reach it through the database: a booking they store is announced
// (`latchkey_work`), a Seam event they receive is stored in `seam/inbox/` and announced, and `WorkQueueDrainer`
// on the holder hands both to its reconciler.

/// The work lease is a part: its thread `lk-pg-lease`, which waits for the lease and then keeps it. Stopping it
/// releases the lease (another instance takes it within ``WorkLease/pollInterval``).
struct WorkLeasePart: LongRunning {
    let lease: WorkLease

    func stop() async {
        await waitOnOwnThread { lease.stop() }
    }
}

/// The routes of an instance on a shared store. Until the instance holds the work lease its router has deliveries,
/// health, metrics and Seam events (stored for the holder), and the admin API and the console answer 503 (the
/// reconciler's state lives on the holder; behind nginx, `proxy_next_upstream http_503` passes the request to it).
/// Once it holds the lease, ``lead(with:)`` swaps in the router with every route.
final class WorkRouting: HTTPHandler {
    private let router: Mutex<Router>
    private let leading = Atomic<Bool>(false)

    init(waiting: Router) {
        router = Mutex(waiting)
    }

    /// From now on every request goes to `router` (the one with the admin API and the console).
    func lead(with router: Router) {
        self.router.withLock { $0 = router }
        leading.store(true, ordering: .releasing)
    }

    func handle(_ request: HTTPRequest, responder: Responder) {
        let path = request.path
        if !leading.load(ordering: .acquiring),
            path.hasPrefix("/v1/") || path == "/console" || path.hasPrefix("/console/")
        {
            return responder(
                .error(
                    status: 503, type: "not_the_working_instance",
                    message:
                        "This instance takes deliveries; another instance on the same database holds the work lease "
                        + "and serves the admin API and the console. Ask it (behind nginx, proxy_next_upstream "
                        + "http_503 does this).",
                    headers: ["Retry-After": "1"]))
        }
        router.withLock { $0 }.handle(request, responder: responder)
    }
}

/// Seam events received by an instance without the work lease, stored (`seam/inbox/<id>`) and announced for the
/// holder, which applies them (``WorkQueueDrainer``) and deletes them.
struct SeamEventInbox: Sendable {
    let store: any DurableStore

    /// Stores the event durably and announces it; returns once committed.
    /// - Parameters:
    ///   - event: The event.
    ///   - id: Seam's delivery id (`webhook-id`), so a repeat overwrites the same entry; a new id when absent.
    func keep(_ event: SeamLockEvent, id: String?) async throws(StoreError) {
        let key = StoreKeys.seamInboxEvent(id ?? UUID().uuidString)
        var transaction = Transaction()
        transaction.put(Array((try? JSONEncoder().encode(event)) ?? Data()), forKey: key)
        transaction.announce(key)
        _ = try await store.commit(transaction)
    }
}

/// On the instance holding the work lease: takes the announced keys off the shared queue and hands them to the
/// reconciler: a booking stored by another instance (its latest, read from the database) and a Seam event stored
/// for it (then deleted). A key may come twice (announced twice, or taken over from a holder that died after taking
/// it); the reconciler ignores a booking version it has, and a lock event is a state, not a count.
enum WorkQueueDrainer {
    /// The pause when the queue was empty: 50 ms (the delay a booking taken by another instance may wait).
    static let idlePause: Duration = .milliseconds(50)
    /// Keys taken per round: 512.
    static let batch = 512

    /// Starts the drainer's task: first every Seam event left in the inbox (announced to an instance that died
    /// before applying it), then the queue, until stopped.
    /// - Parameters:
    ///   - store: The shared store (announcements, values).
    ///   - stateStore: The reconciler's store, which deletes an applied Seam event (needing the work lease).
    ///   - reconciler: Receives the bookings and the events.
    ///   - logger: Each relayed event and a failing queue are logged.
    static func start(store: PostgresStore, stateStore: StoreStateStore, reconciler: Reconciler, logger: Logger)
        -> PeriodicTask
    {
        PeriodicTask {
            var pending: [String] = []
            var failing = false
            if let inbox = try? await store.loadEntries(withPrefix: StoreKeys.seamInbox) {
                pending = inbox.map(\.key)
            }
            while !Task.isCancelled {
                do {
                    if pending.count < batch { pending += try await store.takeAnnouncements(limit: batch) }
                    if pending.isEmpty {
                        try? await Task.sleep(for: idlePause)
                        continue
                    }
                    try await apply(
                        pending, store: store, stateStore: stateStore, reconciler: reconciler, logger: logger)
                    pending = []
                    if failing {
                        failing = false
                        logger.notice("work queue: drained again")
                    }
                } catch {
                    if !failing {
                        failing = true
                        logger.warning(
                            "work queue: could not apply what other instances announced; retrying every second",
                            metadata: ["error": "\(error)", "keys": "\(pending.count)"])
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Applies one batch of keys: the bookings in chunks, then each Seam event (deleted once applied).
    private static func apply(
        _ keys: [String], store: PostgresStore, stateStore: StoreStateStore, reconciler: Reconciler, logger: Logger
    ) async throws {
        let values = try await store.loadValues(forKeys: keys)
        var bookings: [StoredBooking] = []
        var events: [(key: String, event: SeamLockEvent)] = []
        for (key, value) in values {
            if key.hasPrefix(StoreKeys.bookings), let booking = StoredBooking.decode(value) {
                bookings.append(booking)
            } else if key.hasPrefix(StoreKeys.seamInbox),
                let event = try? JSONDecoder().decode(SeamLockEvent.self, from: Data(value))
            {
                events.append((key, event))
            }
        }
        for chunk in BookingFeed.chunks(bookings.sorted { $0.sequence < $1.sequence }) {
            try await reconciler.apply(chunk)
        }
        for (key, event) in events {
            if let kind = Reconciler.LockEventKind(eventType: event.eventType), let accessCodeID = event.accessCodeID {
                let known = try await reconciler.recordLockEvent(accessCodeID: accessCodeID, kind: kind)
                logger.info(
                    "Seam event recorded (received by another instance)",
                    metadata: [
                        "seam.event": "\(event.eventType)", "access_code_id": "\(accessCodeID)", "known": "\(known)",
                    ])
            }
            try await stateStore.delete(key)
        }
    }
}

/// Ends the process at once: the work lease was lost (another instance runs the reconciler now) or the work could
/// not be taken up. Exit status 75 (EX_TEMPFAIL): the service manager starts it again, and it waits for the lease.
func endProcessForWorkLease(_ why: String, logger: Logger) -> Never {
    logger.critical(
        "work lease: ending the process so that nothing of an old term acts on Seam", metadata: ["why": "\(why)"])
    _exit(75)
}
