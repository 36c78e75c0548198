import Glibc
import SystemCalls

/// One loop's listening socket: `accept4` with its errno policy, a pause after a resource error, the refusal of
/// connections past the cap, and the close when the loop drains.
struct Listener {
    /// What one ``accept(now:selector:)`` gave.
    enum Outcome {
        /// A new non-blocking connection, and its peer's address when IPv4 or IPv6.
        case connection(FileDescriptor, peer: IPAddress?)
        /// A connection went away before it was taken (`ECONNABORTED`, `EPROTO`, `EPERM`); try the next one.
        case skipped
        /// None is waiting, or the socket is closed.
        case none
        /// A resource ran out (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`): the socket is not polled for 100 ms.
        case paused(SystemCallError)
    }

    /// The socket; `nil` once closed.
    private(set) var fd: FileDescriptor?
    /// While set, the socket is not polled, until this monotonic time (ns).
    private(set) var pausedUntil: UInt64?

    /// Wraps a listening socket.
    /// - Parameter fd: The socket, registered with the selector.
    init(_ fd: FileDescriptor) {
        self.fd = fd
    }

    /// Accepts one connection.
    /// - Parameters:
    ///   - now: The monotonic time, in ns.
    ///   - selector: Where the socket is registered (to pause it).
    /// - Returns: What happened.
    mutating func accept(now: UInt64, selector: Selector) -> Outcome {
        guard let fd else { return .none }
        var peer = sockaddr_storage()
        do {
            guard case .processed(let accepted) = try fd.accept(peer: &peer) else { return .none }
            return .connection(accepted, peer: IPAddress(peer))
        } catch {
            switch error.errno {
            case .connectionAborted, .protocolError, .notPermitted:
                return .skipped
            default:
                // Stop polling the listener briefly rather than spin on it.
                selector.setListener(fd, accepting: false)
                pausedUntil = now + 100_000_000
                return .paused(error)
            }
        }
    }

    /// Polls the socket again once a pause is over.
    /// - Parameters:
    ///   - now: The monotonic time, in ns.
    ///   - selector: Where the socket is registered.
    mutating func resumeIfDue(now: UInt64, selector: Selector) {
        guard let until = pausedUntil, now >= until else { return }
        pausedUntil = nil
        if let fd { selector.setListener(fd, accepting: true) }
    }

    /// Closes the socket (which also takes it out of the epoll set); nothing happens when it is closed already.
    mutating func close() {
        pausedUntil = nil
        fd?.close()
        fd = nil
    }

    /// Answers a connection past the cap (or during drain) with 503 and closes it, without registering it.
    /// - Parameters:
    ///   - connection: The accepted socket.
    ///   - reason: Why, for the message.
    ///   - date: The `Date` header cache.
    static func refuse(_ connection: FileDescriptor, reason: String, date: inout HTTPDateCache) {
        var bytes: [UInt8] = []
        ResponseSerializer.append(
            .error(
                status: 503, type: "unavailable", message: "Refused: \(reason); retry shortly.",
                headers: ["Retry-After": "1"]),
            context: .init(omitBody: false, keepAlive: false, minorVersion: 1), date: date.current(), to: &bytes)
        _ = bytes.withUnsafeBytes { try? connection.send($0) }
        connection.close()
    }
}
