import Bookings
import Logging
import Reconciler
import Synchronization

/// Hands durable bookings to the reconciler in the order they were acknowledged, one at a time.
///
/// The intake's commit completions run on the journal's writer thread and must not wait; they submit here,
/// and one task applies. ``waitUntilDrained()`` lets tests and the demo know that everything acknowledged
/// so far has reached the reconciler.
final class BookingFeed: Sendable {
    private let continuation: AsyncStream<[StoredBooking]>.Continuation
    private let consumer: Task<Void, Never>
    private let pending = PendingCount()

    /// Creates the feed and its consumer task.
    /// - Parameters:
    ///   - reconciler: Where bookings go.
    ///   - retryDelays: The waits between attempts to apply a booking the reconciler could not store (a full or
    ///     failing disk), the last one repeated until it succeeds or the feed finishes. Default 0.5, 1, 2, 5 s.
    ///   - logger: Where failures are reported.
    init(reconciler: Reconciler, retryDelays: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(5)],
         logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(of: [StoredBooking].self)
        self.continuation = continuation
        let pending = self.pending
        consumer = Task {
            for await bookings in stream {
                // At shutdown the backlog is left, not drained: every booking in it is durable in the journal and
                // the next start hands it to the reconciler again (a backlog of thousands would otherwise hold
                // SIGTERM for minutes).
                for booking in bookings where !pending.finishing.load(ordering: .acquiring) {
                    // The booking is durable in the journal, so it must reach the reconciler: try again (in order,
                    // holding later bookings back) until the store takes it; at shutdown the next start applies it.
                    var failures = 0
                    while true {
                        do {
                            try await reconciler.apply(booking.event, receivedSequence: booking.sequence)
                            if failures > 0 {
                                logger.notice("booking applied after the store recovered", metadata: [
                                    "reservation": "\(booking.event.source)/\(booking.event.reservationID)",
                                    "attempts": "\(failures + 1)",
                                ])
                            }
                            break
                        } catch {
                            if failures == 0 || pending.finishing.load(ordering: .acquiring) {
                                logger.error("booking stored but not yet applied; trying again", metadata: [
                                    "reservation": "\(booking.event.source)/\(booking.event.reservationID)", "error": "\(error)",
                                ])
                            }
                            if pending.finishing.load(ordering: .acquiring) || retryDelays.isEmpty { break }
                            try? await Task.sleep(for: retryDelays[min(failures, retryDelays.count - 1)])
                            failures += 1
                        }
                    }
                }
                let waiters = pending.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.count -= 1
                    guard state.count == 0 else { return [] }
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume() }
            }
        }
    }

    /// Queues bookings for the reconciler; returns at once.
    func submit(_ bookings: [StoredBooking]) {
        pending.state.withLock { $0.count += 1 }
        continuation.yield(bookings)
    }

    /// Returns once every submitted booking has been applied.
    func waitUntilDrained() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let resumeNow = pending.state.withLock { state -> Bool in
                if state.count == 0 { return true }
                state.waiters.append(waiter)
                return false
            }
            if resumeNow { waiter.resume() }
        }
    }

    /// Stops taking bookings and waits for the consumer to finish the booking it is applying; bookings still
    /// queued are left for the next start, which applies every stored booking again.
    func finish() async {
        pending.finishing.store(true, ordering: .releasing)
        continuation.finish()
        await consumer.value
    }
}

/// Submissions not yet applied, who waits for them to reach zero, and whether the feed is finishing.
private final class PendingCount: Sendable {
    let state = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))
    /// Set by ``BookingFeed/finish()``: a booking the store refuses is then left for the next start.
    let finishing = Atomic<Bool>(false)
}
