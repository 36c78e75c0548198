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

    init(reconciler: Reconciler, logger: Logger) {
        let (stream, continuation) = AsyncStream.makeStream(of: [StoredBooking].self)
        self.continuation = continuation
        let pending = self.pending
        consumer = Task {
            for await bookings in stream {
                for booking in bookings {
                    do {
                        try await reconciler.apply(booking.event, receivedSequence: booking.sequence)
                    } catch {
                        // The booking is durable in the journal; the next start applies it again.
                        logger.error("booking stored but not yet applied", metadata: [
                            "reservation": "\(booking.event.source)/\(booking.event.reservationID)", "error": "\(error)",
                        ])
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

    /// Stops taking bookings and waits for the consumer to finish what it has.
    func finish() async {
        continuation.finish()
        await consumer.value
    }
}

/// Submissions not yet applied, and who waits for them to reach zero.
private final class PendingCount: Sendable {
    let state = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))
}
