import Bookings
import Logging
import Reconciler
import Synchronization

/// Hands durable bookings to the reconciler in the order they were acknowledged, a batch at a time.
///
/// The intake's commit completions run on the journal's writer thread and must not wait; they submit here,
/// and one task applies whatever has queued since its last turn, in chunks of at most ``maximumChunk``
/// bookings: one reconciler call and one durable write per chunk, so a burst of deliveries does not become a
/// backlog of one write each. ``waitUntilDrained()`` lets tests and the demo know that everything acknowledged
/// so far has reached the reconciler.
package final class BookingFeed: Sendable {
    /// The most bookings applied (and stored by the reconciler) together; also the most a shutdown waits for.
    package static let maximumChunk = 64

    private let queue = FeedQueue()
    private let consumer: Task<Void, Never>
    private let pending = PendingCount()

    /// Creates the feed and its consumer task.
    /// - Parameters:
    ///   - reconciler: Where bookings go.
    ///   - retryDelays: The waits between attempts to apply bookings the reconciler could not store (a full or
    ///     failing disk), the last one repeated until it succeeds or the feed finishes. Default 0.5, 1, 2, 5 s.
    ///   - logger: Where failures are reported.
    package init(
        reconciler: Reconciler, retryDelays: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(5)],
        logger: Logger
    ) {
        let (queue, pending) = (self.queue, self.pending)
        consumer = Task {
            while let submissions = await queue.next() {
                // At shutdown the backlog is left, not drained: every booking in it is durable in the journal and
                // the next start hands it to the reconciler again (a backlog of thousands would otherwise hold
                // SIGTERM for minutes).
                for chunk in Self.chunks(Array(submissions.joined())) {
                    guard !pending.finishing.load(ordering: .acquiring) else { break }
                    // The bookings are durable in the journal, so they must reach the reconciler: try again (in
                    // order, holding later bookings back) until the store takes them; at shutdown the next start
                    // applies them.
                    var failures = 0
                    while true {
                        do {
                            try await reconciler.apply(chunk)
                            if failures > 0 {
                                logger.notice(
                                    "bookings applied after the store recovered",
                                    metadata: [
                                        "reservations": "\(Self.names(chunk))", "attempts": "\(failures + 1)",
                                    ])
                            }
                            break
                        } catch {
                            if failures == 0 || pending.finishing.load(ordering: .acquiring) {
                                logger.error(
                                    "bookings stored but not yet applied; trying again",
                                    metadata: [
                                        "reservations": "\(Self.names(chunk))", "error": "\(error)",
                                    ])
                            }
                            if pending.finishing.load(ordering: .acquiring) || retryDelays.isEmpty { break }
                            try? await Task.sleep(for: retryDelays[min(failures, retryDelays.count - 1)])
                            failures += 1
                        }
                    }
                }
                let waiters = pending.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.count -= submissions.count
                    guard state.count == 0 else { return [] }
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume() }
            }
        }
    }

    /// `bookings` in order, as the reconciler takes them: chunks of at most ``maximumChunk``.
    package static func chunks(_ bookings: [StoredBooking]) -> [[(event: BookingEvent, receivedSequence: UInt64)]] {
        stride(from: 0, to: bookings.count, by: maximumChunk).map { start in
            bookings[start..<min(start + maximumChunk, bookings.count)].map {
                (event: $0.event, receivedSequence: $0.sequence)
            }
        }
    }

    /// `source/id` of the first few bookings of a chunk, for log lines.
    private static func names(_ chunk: [(event: BookingEvent, receivedSequence: UInt64)]) -> String {
        let shown = chunk.prefix(3).map { "\($0.event.source)/\($0.event.reservationID)" }.joined(separator: ",")
        return chunk.count > 3 ? "\(shown) and \(chunk.count - 3) more" : shown
    }

    /// Queues bookings for the reconciler; returns at once.
    package func submit(_ bookings: [StoredBooking]) {
        pending.state.withLock { $0.count += 1 }
        queue.push(bookings)
    }

    /// Returns once every submitted booking has been applied.
    package func waitUntilDrained() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let resumeNow = pending.state.withLock { state -> Bool in
                if state.count == 0 { return true }
                state.waiters.append(waiter)
                return false
            }
            if resumeNow { waiter.resume() }
        }
    }

    /// Stops taking bookings and waits for the consumer to finish the chunk it is applying; bookings still
    /// queued are left for the next start, which applies every stored booking again.
    package func finish() async {
        pending.finishing.store(true, ordering: .releasing)
        queue.finish()
        await consumer.value
    }
}

/// The submissions waiting for the feed's consumer, taken all at once.
private final class FeedQueue: Sendable {
    private struct State {
        var submissions: [[StoredBooking]] = []
        var waiter: CheckedContinuation<[[StoredBooking]]?, Never>?
        var isFinished = false
    }

    private let state = Mutex(State())

    /// Adds a submission, waking the consumer if it waits.
    func push(_ bookings: [StoredBooking]) {
        let wake = state.withLock { state -> (CheckedContinuation<[[StoredBooking]]?, Never>, [[StoredBooking]])? in
            guard !state.isFinished else { return nil }
            state.submissions.append(bookings)
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            defer { state.submissions = [] }
            return (waiter, state.submissions)
        }
        if let (waiter, submissions) = wake { waiter.resume(returning: submissions) }
    }

    /// Every submission queued so far, waiting for one if there is none; nil once finished.
    func next() async -> [[StoredBooking]]? {
        await withCheckedContinuation { (waiter: CheckedContinuation<[[StoredBooking]]?, Never>) in
            let ready = state.withLock { state -> [[StoredBooking]]?? in
                if !state.submissions.isEmpty {
                    defer { state.submissions = [] }
                    return .some(state.submissions)
                }
                if state.isFinished { return .some(nil) }
                state.waiter = waiter
                return .none
            }
            if let ready { waiter.resume(returning: ready) }
        }
    }

    /// Refuses later submissions; what is queued is still handed out (the consumer then skips it and counts it
    /// done), after which ``next()`` returns nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[[StoredBooking]]?, Never>? in
            state.isFinished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}

/// Submissions not yet applied, who waits for them to reach zero, and whether the feed is finishing.
private final class PendingCount: Sendable {
    let state = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))
    /// Set by ``BookingFeed/finish()``: a booking the store refuses is then left for the next start.
    let finishing = Atomic<Bool>(false)
}
