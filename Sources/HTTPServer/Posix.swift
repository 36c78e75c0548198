import CLinux
import Glibc

/// A system call failed with an errno that is not a bug in this module and not "try again".
package struct SyscallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The C function that failed, e.g. `bind`.
    package let call: String
    /// The errno it set.
    package let errno: Int32

    /// Creates the error for `call` failing with `errno`.
    package init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// `bind failed: Address already in use (errno 98)`.
    package var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// The outcome of a non-blocking call: it did something, or the kernel said "try again later" (EAGAIN).
enum IOResult<T> {
    /// The call completed with this value.
    case processed(T)
    /// The call would have blocked; wait for readiness.
    case wouldBlock
}

/// One thin wrapper per system call the server makes.
///
/// Policy (after NIO's `syscall(blocking:)`): `EINTR` is retried; `EAGAIN`/`EWOULDBLOCK` come back as
/// ``IOResult/wouldBlock`` where the call can block; `EBADF` and `EFAULT` trap, because they mean this module
/// passed a closed descriptor or a bad pointer; every other errno is thrown as ``SyscallError``.
/// `close` is never retried.
enum Posix {
    // MARK: - The errno policy

    private static func check(_ call: StaticString, _ err: Int32) {
        precondition(
            err != EBADF && err != EFAULT, "\(call) failed with errno \(err): a bug in HTTPServer (bad fd or pointer)")
    }

    /// Runs `body` until it does not fail with EINTR; throws any other errno.
    private static func retrying<T: FixedWidthInteger>(_ call: StaticString, _ body: () -> T) throws(SyscallError) -> T
    {
        while true {
            let result = body()
            if result != -1 { return result }
            let err = Glibc.errno
            if err == EINTR { continue }
            check(call, err)
            throw SyscallError(call: "\(call)", errno: err)
        }
    }

    /// Like ``retrying(_:_:)`` but returns ``IOResult/wouldBlock`` on EAGAIN/EWOULDBLOCK.
    private static func nonBlocking<T: FixedWidthInteger>(_ call: StaticString, _ body: () -> T) throws(SyscallError)
        -> IOResult<T>
    {
        while true {
            let result = body()
            if result != -1 { return .processed(result) }
            let err = Glibc.errno
            if err == EINTR { continue }
            if err == EAGAIN || err == EWOULDBLOCK { return .wouldBlock }
            check(call, err)
            throw SyscallError(call: "\(call)", errno: err)
        }
    }

    // MARK: - Sockets

    /// A new socket. The corresponding C function is `socket`.
    static func socket(domain: Int32, type: Int32) throws(SyscallError) -> Int32 {
        try retrying("socket") { Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    /// Sets an integer socket option. The corresponding C function is `setsockopt`.
    static func setsockopt(_ fd: Int32, level: Int32, name: Int32, value: Int32) throws(SyscallError) {
        var value = value
        _ = try retrying("setsockopt") {
            Glibc.setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Binds `fd` to `address`. The corresponding C function is `bind`.
    static func bind(_ fd: Int32, address: UnsafePointer<sockaddr>, length: socklen_t) throws(SyscallError) {
        _ = try retrying("bind") { Glibc.bind(fd, address, length) }
    }

    /// Marks `fd` as a listening socket. The corresponding C function is `listen`.
    static func listen(_ fd: Int32, backlog: Int32) throws(SyscallError) {
        _ = try retrying("listen") { Glibc.listen(fd, backlog) }
    }

    /// The local address of `fd`. The corresponding C function is `getsockname`.
    static func getsockname(_ fd: Int32) throws(SyscallError) -> sockaddr_storage {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SyscallError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SyscallError) in
                try retrying("getsockname") { Glibc.getsockname(fd, address, &length) }
            }
        }
        return storage
    }

    /// Accepts one connection as a non-blocking, close-on-exec socket, or `.wouldBlock` when none is waiting.
    /// The corresponding C function is `accept4`.
    static func accept(_ fd: Int32, peer: inout sockaddr_storage) throws(SyscallError) -> IOResult<Int32> {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let flags = Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        return try withUnsafeMutablePointer(to: &peer) { (pointer) throws(SyscallError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SyscallError) in
                try nonBlocking("accept4") { CLinux_accept4(fd, address, &length, flags) }
            }
        }
    }

    /// Reads up to `buffer.count` bytes; `.processed(0)` is end of file. The corresponding C function is `read`.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SyscallError) -> IOResult<Int> {
        try nonBlocking("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// Sends bytes without raising SIGPIPE on a closed peer. The corresponding C function is `send`.
    static func send(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SyscallError) -> IOResult<Int> {
        try nonBlocking("send") { Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Writes to a non-socket descriptor (eventfd). The corresponding C function is `write`.
    static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SyscallError) -> IOResult<Int> {
        try nonBlocking("write") { Glibc.write(fd, buffer.baseAddress, buffer.count) }
    }

    /// Shuts down one or both directions of a socket. `ENOTCONN` (the peer is already gone) is not an error.
    /// The corresponding C function is `shutdown`.
    static func shutdown(_ fd: Int32, how: Int32) throws(SyscallError) {
        do {
            _ = try retrying("shutdown") { Glibc.shutdown(fd, how) }
        } catch  where error.errno == ENOTCONN {
            return
        }
    }

    /// Closes `fd`. Never retried: on Linux the descriptor is released even when `close` reports EINTR
    /// (see the LKML thread NIO cites in `Posix.close`), and a retry could close a descriptor another thread
    /// just opened. Errors other than EBADF (a bug, traps) are ignored: there is nothing left to do with the fd.
    /// The corresponding C function is `close`.
    static func close(_ fd: Int32) {
        if Glibc.close(fd) == -1 {
            let err = Glibc.errno
            precondition(err != EBADF, "close(\(fd)) failed with EBADF: a bug in HTTPServer (double close)")
        }
    }

    // MARK: - epoll

    /// A new epoll instance. The corresponding C function is `epoll_create1`.
    static func epollCreate() throws(SyscallError) -> Int32 {
        try retrying("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    /// Adds, changes or removes interest in `fd`. The corresponding C function is `epoll_ctl`.
    static func epollControl(_ epfd: Int32, _ op: Int32, _ fd: Int32, events: UInt32, data: UInt64) throws(SyscallError)
    {
        var event = epoll_event()
        event.events = events
        event.data.u64 = data
        _ = try retrying("epoll_ctl") { epoll_ctl(epfd, op, fd, &event) }
    }

    /// Waits for events; an interrupted wait returns 0 events instead of retrying, so the caller re-computes its
    /// timeout. The corresponding C function is `epoll_wait`.
    static func epollWait(_ epfd: Int32, events: UnsafeMutableBufferPointer<epoll_event>, timeoutMilliseconds: Int32)
        throws(SyscallError) -> Int
    {
        let result = epoll_wait(epfd, events.baseAddress, Int32(events.count), timeoutMilliseconds)
        if result >= 0 { return Int(result) }
        let err = Glibc.errno
        if err == EINTR { return 0 }
        check("epoll_wait", err)
        throw SyscallError(call: "epoll_wait", errno: err)
    }

    // MARK: - eventfd, signalfd, signals, clock

    /// A new non-blocking eventfd. The corresponding C function is `eventfd`.
    static func eventfd() throws(SyscallError) -> Int32 {
        try retrying("eventfd") { CLinux.eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    /// A new non-blocking signalfd reading `signals` (which the caller must have blocked).
    /// The corresponding C function is `signalfd`.
    static func signalfd(_ signals: [Int32]) throws(SyscallError) -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return try retrying("signalfd") { CLinux.signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }
    }

    /// Blocks `signals` for the calling thread (and threads it creates later).
    /// The corresponding C function is `pthread_sigmask`.
    static func blockSignals(_ signals: [Int32]) throws(SyscallError) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        let result = pthread_sigmask(SIG_BLOCK, &set, nil)
        if result != 0 { throw SyscallError(call: "pthread_sigmask", errno: result) }
    }

    /// Nanoseconds on the monotonic clock. The corresponding C function is `clock_gettime`.
    static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}
