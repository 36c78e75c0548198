import CLinux
import Glibc

/// The socket calls the listener makes, on ``FileDescriptor``. Each follows ``SystemCall``'s errno policy.
extension FileDescriptor {
    /// A new close-on-exec socket. The corresponding C function is `socket`.
    /// - Parameters:
    ///   - domain: `AF_INET` or `AF_INET6`.
    ///   - type: `SOCK_STREAM`, possibly with `SOCK_NONBLOCK`.
    /// - Returns: The socket.
    /// - Throws: ``SystemCallError``.
    package static func socket(domain: CInt, type: CInt) throws(SystemCallError) -> FileDescriptor {
        FileDescriptor(
            rawValue: try SystemCall.retrying("socket") { Glibc.socket(domain, type | CInt(SOCK_CLOEXEC.rawValue), 0) })
    }

    /// Sets an integer socket option. The corresponding C function is `setsockopt`.
    /// - Parameters:
    ///   - level: `SOL_SOCKET`, `IPPROTO_TCP`, …
    ///   - name: `SO_REUSEADDR`, `TCP_NODELAY`, …
    ///   - value: The value.
    /// - Throws: ``SystemCallError`` (`ENOTSOCK` on a descriptor that is not a socket).
    package func setOption(level: CInt, name: CInt, value: CInt) throws(SystemCallError) {
        var value = value
        _ = try SystemCall.retrying("setsockopt") {
            setsockopt(rawValue, level, name, &value, socklen_t(MemoryLayout<CInt>.size))
        }
    }

    /// Binds the socket to `address`. The corresponding C function is `bind`.
    /// - Parameter address: An IPv4 or IPv6 socket address.
    /// - Throws: ``SystemCallError`` (`EADDRINUSE` when the port is taken).
    package func bind(to address: sockaddr_storage) throws(SystemCallError) {
        var address = address
        let length = socklen_t(
            address.ss_family == sa_family_t(AF_INET6)
                ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        _ = try withUnsafePointer(to: &address) { (pointer) throws(SystemCallError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (raw) throws(SystemCallError) in
                try SystemCall.retrying("bind") { Glibc.bind(rawValue, raw, length) }
            }
        }
    }

    /// Marks the socket as listening. The corresponding C function is `listen`.
    /// - Parameter backlog: The accept queue's length.
    /// - Throws: ``SystemCallError``.
    package func listen(backlog: CInt) throws(SystemCallError) {
        _ = try SystemCall.retrying("listen") { Glibc.listen(rawValue, backlog) }
    }

    /// The socket's local address. The corresponding C function is `getsockname`.
    /// - Returns: The address.
    /// - Throws: ``SystemCallError``.
    package func localAddress() throws(SystemCallError) -> sockaddr_storage {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemCallError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemCallError) in
                try SystemCall.retrying("getsockname") { getsockname(rawValue, address, &length) }
            }
        }
        return storage
    }

    /// Accepts one connection as a non-blocking, close-on-exec socket. The corresponding C function is `accept4`.
    /// - Parameter peer: Set to the peer's address.
    /// - Returns: The connection, or `.wouldBlock` when none is waiting.
    /// - Throws: ``SystemCallError`` (`ECONNABORTED`, `EMFILE`, …).
    package func accept(peer: inout sockaddr_storage) throws(SystemCallError) -> IOResult<FileDescriptor> {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let flags = CInt(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let result = try withUnsafeMutablePointer(to: &peer) { (pointer) throws(SystemCallError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemCallError) in
                try SystemCall.nonBlocking("accept4") { CLinux_accept4(rawValue, address, &length, flags) }
            }
        }
        switch result {
        case .processed(let fd): return .processed(FileDescriptor(rawValue: fd))
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Sends bytes without raising `SIGPIPE` on a closed peer. The corresponding C function is `send`.
    /// - Parameter buffer: The bytes.
    /// - Returns: How many were sent, or `.wouldBlock`.
    /// - Throws: ``SystemCallError`` (`EPIPE`, `ECONNRESET`, …).
    @inline(__always)
    package func send(_ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> IOResult<Int> {
        try SystemCall.nonBlocking("send") {
            Glibc.send(rawValue, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL))
        }
    }

    /// Shuts down the write side of a socket; `ENOTCONN` (the peer is already gone) is not an error. The
    /// corresponding C function is `shutdown`.
    /// - Throws: ``SystemCallError``.
    package func shutdownWriting() throws(SystemCallError) {
        do {
            _ = try SystemCall.retrying("shutdown") { shutdown(rawValue, CInt(SHUT_WR)) }
        } catch  where error.errno == .notConnected {
            return
        }
    }
}
