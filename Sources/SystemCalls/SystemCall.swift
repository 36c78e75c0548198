import Glibc

/// The one errno policy every wrapper in this module follows, after swift-nio's `syscall(blocking:)`.
///
/// - `EINTR` is retried (except by `close`, see ``FileDescriptor/close()``, and `epoll_wait`, which returns
///   no events so that its caller re-computes the timeout).
/// - `EAGAIN`/`EWOULDBLOCK` come back as ``IOResult/wouldBlock`` from the calls a non-blocking caller makes.
/// - `EBADF` and `EFAULT` trap: they mean this process passed a closed descriptor or a bad pointer. A wrapper
///   that works on a descriptor somebody else owns (a log sink's standard error) says so with
///   ``BadDescriptorPolicy/isAnError``.
/// - Every other errno is thrown as a ``SystemCallError`` naming the call (and the path, when there is one).
enum SystemCall {
    /// Traps on the errnos that mean a bug in this process, unless the descriptor is not ours.
    /// - Parameters:
    ///   - call: The C function.
    ///   - errno: What it set.
    ///   - policy: Whether `EBADF` is a bug here.
    @inline(__always)
    static func trapOnBug(_ call: StaticString, _ errno: Errno, _ policy: BadDescriptorPolicy = .isABug) {
        if errno == .badAddress || (errno == .badFileDescriptor && policy == .isABug) {
            preconditionFailure("\(call) failed with \(errno) (errno \(errno.rawValue)): a bug (bad fd or pointer)")
        }
    }

    /// Runs `body` until it does not fail with `EINTR`; throws any other errno.
    /// - Parameters:
    ///   - call: The C function, for errors.
    ///   - path: The file involved, for errors.
    ///   - policy: Whether `EBADF` traps (default) or is thrown.
    ///   - body: The call; `-1` means failure with `errno` set.
    /// - Returns: What `body` returned.
    /// - Throws: ``SystemCallError`` for any errno other than `EINTR`, `EBADF`, `EFAULT`.
    @inline(__always)
    static func retrying<Result: FixedWidthInteger>(
        _ call: StaticString, path: String? = nil, policy: BadDescriptorPolicy = .isABug, _ body: () -> Result
    ) throws(SystemCallError) -> Result {
        while true {
            let result = body()
            if result != -1 { return result }
            let errno = Errno.current
            if errno == .interrupted { continue }
            trapOnBug(call, errno, policy)
            throw SystemCallError(call: "\(call)", errno: errno, path: path)
        }
    }

    /// Like ``retrying(_:path:policy:_:)``, but returns ``IOResult/wouldBlock`` on `EAGAIN`/`EWOULDBLOCK`.
    /// - Parameters:
    ///   - call: The C function, for errors.
    ///   - body: The call; `-1` means failure with `errno` set.
    /// - Returns: What `body` returned, or `.wouldBlock`.
    /// - Throws: ``SystemCallError`` for any errno other than `EINTR`, `EAGAIN`, `EBADF`, `EFAULT`.
    @inline(__always)
    static func nonBlocking<Result: FixedWidthInteger>(_ call: StaticString, _ body: () -> Result)
        throws(SystemCallError) -> IOResult<Result>
    {
        while true {
            let result = body()
            if result != -1 { return .processed(result) }
            let errno = Errno.current
            if errno == .interrupted { continue }
            if errno.rawValue == EAGAIN || errno.rawValue == EWOULDBLOCK { return .wouldBlock }
            trapOnBug(call, errno)
            throw SystemCallError(call: "\(call)", errno: errno)
        }
    }

    /// Runs a call that returns 0 on success and an errno on failure (the pthread style), retrying `EINTR`.
    /// - Parameters:
    ///   - call: The C function, for errors.
    ///   - body: The call.
    /// - Throws: ``SystemCallError`` for any errno other than `EINTR`, `EBADF`, `EFAULT`.
    static func returningErrno(_ call: StaticString, _ body: () -> CInt) throws(SystemCallError) {
        while true {
            let result = body()
            if result == 0 { return }
            let errno = Errno(result)
            if errno == .interrupted { continue }
            trapOnBug(call, errno)
            throw SystemCallError(call: "\(call)", errno: errno)
        }
    }
}

/// Whether `EBADF` from a call means a bug in this process (the descriptor is ours) or is an error to report
/// (the descriptor was handed to us, like standard error, and may have been closed by someone else).
package enum BadDescriptorPolicy: Sendable {
    /// The descriptor is ours: `EBADF` traps.
    case isABug
    /// The descriptor is borrowed: `EBADF` is thrown like any other errno.
    case isAnError
}
