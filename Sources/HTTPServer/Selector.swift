import Glibc
import SystemCalls

/// The epoll side of one event loop: the registrations, the wait, cross-thread wakeups through an eventfd,
/// SIGTERM/SIGINT through a signalfd, and the connections' deadlines.
///
/// Trigger mode: **level-triggered** epoll. Each readiness event gets one bounded read (plus one more when the
/// first filled the buffer), so one busy client cannot starve others, and a connection whose reads are paused (a
/// response is pending) simply stays ready without being lost; edge-triggered would force draining to EAGAIN on
/// every event and keeping a "still readable" list, where a missed drain means a hung connection. Interest sets
/// are kept minimal (readable only while bytes are wanted, writable only while bytes wait), so level triggering
/// never spins.
///
/// Deadlines: one per connection in a ``TimerHeap`` keyed by descriptor; the earliest sets the wait's timeout.
/// Each connection's registration carries its generation and descriptor (``Connection/selectorData``), so an
/// event for a closed descriptor that was reused is told apart.
///
/// Only the loop thread calls it, except ``wake()``, which touches nothing but the eventfd.
final class Selector {
    /// What one ready event is about.
    enum Event {
        /// The listening socket has connections to accept.
        case listener
        /// Another thread called ``wake()``.
        case wakeup
        /// A signal arrived on the signalfd.
        case signal
        /// A connection's socket is ready (`events`); `data` is its ``Connection/selectorData``.
        case connection(data: UInt64, events: Epoll.Events)
    }

    private enum Token {
        static let listener: UInt64 = 1 << 63
        static let wakeup: UInt64 = 1 << 63 | 1
        static let signal: UInt64 = 1 << 63 | 2
    }

    private let epoll: Epoll
    private let wakeupFD: FileDescriptor
    private let signalFD: FileDescriptor?
    private let events = Epoll.EventBuffer(capacity: 256)
    private var timers = TimerHeap()

    /// Creates epoll, the wakeup eventfd and (when asked) the signalfd, and registers them with `listener`.
    /// - Parameters:
    ///   - listener: The listening socket.
    ///   - handlesSignals: Whether SIGTERM/SIGINT are blocked and read through a signalfd.
    /// - Throws: ``SystemCallError``; whatever was created is closed again.
    init(listener: FileDescriptor, handlesSignals: Bool) throws(SystemCallError) {
        var created: [FileDescriptor] = []
        do {
            epoll = try Epoll()
            created.append(epoll.descriptor)
            wakeupFD = try FileDescriptor.makeEventDescriptor()
            created.append(wakeupFD)
            if handlesSignals {
                try Signals.block([SIGTERM, SIGINT])
                let signals = try FileDescriptor.makeSignalDescriptor([SIGTERM, SIGINT])
                created.append(signals)
                signalFD = signals
            } else {
                signalFD = nil
            }
            try epoll.add(listener, events: .readable, data: Token.listener)
            try epoll.add(wakeupFD, events: .readable, data: Token.wakeup)
            if let signalFD { try epoll.add(signalFD, events: .readable, data: Token.signal) }
        } catch {
            for fd in created { fd.close() }
            throw error
        }
    }

    /// Closes epoll and the signalfd. The wakeup eventfd is closed by ``closeWakeup()``, under the lock that
    /// orders it after every ``wake()``.
    func close() {
        signalFD?.close()
        epoll.close()
    }

    // MARK: - Registrations

    /// Registers a new connection's socket for `interest`.
    /// - Throws: ``SystemCallError``.
    func register(_ fd: FileDescriptor, interest: Epoll.Events, data: UInt64) throws(SystemCallError) {
        try epoll.add(fd, events: interest, data: data)
    }

    /// Changes a connection's interest set.
    /// - Throws: ``SystemCallError``.
    func reregister(_ fd: FileDescriptor, interest: Epoll.Events, data: UInt64) throws(SystemCallError) {
        try epoll.modify(fd, events: interest, data: data)
    }

    /// Stops (`accepting == false`) or resumes reporting the listening socket.
    func setListener(_ listener: FileDescriptor, accepting: Bool) {
        try? epoll.modify(listener, events: accepting ? .readable : .none, data: Token.listener)
    }

    // MARK: - Waiting

    /// Waits until an event or `deadline` (monotonic ns; `nil`: none besides the timers).
    /// - Parameters:
    ///   - deadline: The loop's own earliest deadline (accept pause, drain), if any.
    ///   - now: The monotonic time, in ns.
    /// - Returns: How many events ``event(at:)`` can report.
    /// - Throws: ``SystemCallError`` (never expected).
    func wait(until deadline: UInt64?, now: UInt64) throws(SystemCallError) -> Int {
        var next = timers.earliest
        if let deadline { next = min(next ?? deadline, deadline) }
        var timeout: CInt = -1
        if let next { timeout = next <= now ? 0 : CInt(clamping: (next - now + 999_999) / 1_000_000) }
        return try epoll.wait(into: events, timeoutMilliseconds: timeout)
    }

    /// Event `index` of the last wait.
    func event(at index: Int) -> Event {
        let data = events.data(at: index)
        switch data {
        case Token.listener: return .listener
        case Token.wakeup: return .wakeup
        case Token.signal: return .signal
        default: return .connection(data: data, events: events.events(at: index))
        }
    }

    // MARK: - Wakeups and signals

    /// Wakes the loop from any thread. Call under the lock that guards ``closeWakeup()``.
    func wake() {
        // Only EBADF/EFAULT could fail here and they trap; a full counter (EAGAIN) still wakes the loop.
        try? wakeupFD.signalEvent()
    }

    /// Resets the wakeup counter.
    func drainWakeups() {
        wakeupFD.drainEvents()
    }

    /// Closes the wakeup eventfd. Call under the lock that guards ``wake()``.
    func closeWakeup() {
        wakeupFD.close()
    }

    /// The signal that arrived, if one did.
    func readSignal() -> CInt? {
        signalFD?.readSignal()
    }

    // MARK: - Deadlines

    /// Sets (or with `nil` removes) the deadline of the connection on `fd`.
    func setDeadline(_ deadline: UInt64?, for fd: FileDescriptor) {
        if let deadline { timers.set(fd.rawValue, deadline: deadline) } else { timers.remove(fd.rawValue) }
    }

    /// Removes and returns a connection whose deadline is at or before `now`.
    func popDue(now: UInt64) -> FileDescriptor? {
        timers.popDue(now: now).map(FileDescriptor.init(rawValue:))
    }
}
