import CLinux
import Glibc

/// eventfd and signalfd descriptors, the signal mask and the monotonic clock.
extension FileDescriptor {
    /// A new non-blocking, close-on-exec eventfd with a zero counter. The corresponding C function is `eventfd`.
    /// - Returns: The eventfd.
    /// - Throws: ``SystemCallError``.
    package static func makeEventDescriptor() throws(SystemCallError) -> FileDescriptor {
        FileDescriptor(rawValue: try SystemCall.retrying("eventfd") { eventfd(0, CInt(EFD_NONBLOCK | EFD_CLOEXEC)) })
    }

    /// A new non-blocking, close-on-exec signalfd reading `signals`, which the caller must have blocked
    /// (``Signals/block(_:)``). The corresponding C function is `signalfd`.
    /// - Parameter signals: `SIGTERM`, `SIGINT`, …
    /// - Returns: The signalfd.
    /// - Throws: ``SystemCallError``.
    package static func makeSignalDescriptor(_ signals: [CInt]) throws(SystemCallError) -> FileDescriptor {
        var set = Signals.set(of: signals)
        return FileDescriptor(
            rawValue: try SystemCall.retrying("signalfd") { signalfd(-1, &set, CInt(SFD_NONBLOCK | SFD_CLOEXEC)) })
    }

    /// Reads one pending signal from a non-blocking signalfd.
    /// - Returns: The signal's number, or `nil` when none is pending or the read failed.
    package func readSignal() -> CInt? {
        var info = signalfd_siginfo()
        let result = withUnsafeMutableBytes(of: &info) { try? read(into: $0) }
        guard case .processed(let count) = result, count > 0 else { return nil }
        return CInt(info.ssi_signo)
    }

    /// Adds 1 to an eventfd's counter, waking whoever polls it. A full counter (`EAGAIN`) still wakes them.
    /// - Throws: ``SystemCallError`` (never expected).
    package func signalEvent() throws(SystemCallError) {
        var one: UInt64 = 1
        _ = try withUnsafeBytes(of: &one) { (bytes) throws(SystemCallError) in try write(bytes) }
    }

    /// Resets an eventfd's counter to 0; nothing happens when it already is.
    package func drainEvents() {
        var counter: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &counter) { try? read(into: $0) }
    }
}

/// The calling thread's signal mask.
package enum Signals {
    /// Blocks `signals` for the calling thread (and the threads it creates later), so that they reach a
    /// signalfd instead of a handler. The corresponding C function is `pthread_sigmask`.
    /// - Parameter signals: `SIGTERM`, `SIGINT`, …
    /// - Throws: ``SystemCallError``.
    package static func block(_ signals: [CInt]) throws(SystemCallError) {
        var set = set(of: signals)
        try SystemCall.returningErrno("pthread_sigmask") { pthread_sigmask(SIG_BLOCK, &set, nil) }
    }

    fileprivate static func set(of signals: [CInt]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }
}

/// The monotonic clock.
package enum MonotonicClock {
    /// Nanoseconds on `CLOCK_MONOTONIC`. The corresponding C function is `clock_gettime`.
    @inline(__always)
    package static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}
