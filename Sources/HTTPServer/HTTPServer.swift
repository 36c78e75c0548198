import Foundation
import Glibc
import Logging
import Synchronization
import SystemCalls

/// Latchkey's HTTP/1.1 listener: epoll event-loop threads (one by default), a strict parser, limits and
/// deadlines, graceful shutdown.
///
/// ```swift
/// let server = try HTTPServer(configuration: .init(port: 0), handler: router, logger: logger)
/// server.start()                  // or `try server.run()` on a thread of your own
/// print(server.port)
/// server.beginShutdown()          // or SIGTERM with `handlesSignals`
/// server.waitUntilStopped()
/// ```
///
/// Handlers run on a loop thread and must not block it: answer at once through the ``Responder``, or hand
/// the work elsewhere and answer from there (any thread). With ``HTTPServerConfiguration/eventLoops`` above 1,
/// each loop has its own listening socket on the port (`SO_REUSEPORT`) and handlers run on several threads at
/// once. Every error the server answers itself uses ``HTTPResponse/error(status:type:message:headers:)``.
package final class HTTPServer: Sendable {
    private enum RunState { case ready, running, finished }

    /// The port the server listens on (the real one when the configuration asked for 0).
    package let port: Int
    private let loops: [EventLoop]
    private let logger: Logger
    private let state = Mutex(RunState.ready)
    private let stopped = StopSignal()

    /// Binds and listens now, so the port is taken (and known) when this returns.
    /// - Parameters:
    ///   - configuration: Address, limits, deadlines, trusted proxies, signal handling, event loops.
    ///   - handler: What answers requests (usually a ``Router``).
    ///   - logger: Where the server logs (debug: rejects and closes; info: lifecycle). Bodies are never logged.
    /// - Throws: ``HTTPServerError`` when a limit or deadline is unusable, the host is not an IP literal, a
    ///   trusted proxy entry is invalid, or the socket cannot be bound (port in use, no permission).
    package init(configuration: HTTPServerConfiguration, handler: any HTTPHandler, logger: Logger)
        throws(HTTPServerError)
    {
        try configuration.validate()
        let count = configuration.eventLoops
        var listeners: [FileDescriptor] = []
        let port: Int
        do {
            let (first, bound) = try Self.listen(configuration, reusePort: count > 1)
            listeners.append(first)
            port = bound
            var same = configuration
            same.port = bound
            for _ in 1..<count { listeners.append(try Self.listen(same, reusePort: true).fd) }
        } catch {
            for listener in listeners { listener.close() }
            throw error
        }
        // SIGTERM reaches the first loop's signalfd; it shuts every loop down.
        let everyLoop = LoopList()
        var loops: [EventLoop] = []
        let relay: (@Sendable () -> Void)? = count > 1 ? { @Sendable in everyLoop.requestShutdown() } : nil
        do throws(HTTPServerError) {
            for (index, fd) in listeners.enumerated() {
                var share = configuration
                share.handlesSignals = configuration.handlesSignals && index == 0
                share.maxConnections = Self.share(of: configuration.maxConnections, loop: index, loops: count)
                let loop = try EventLoop(
                    listenFD: fd, configuration: share, handler: handler, logger: logger,
                    onShutdownSignal: index == 0 ? relay : nil)
                loops.append(loop)
            }
        } catch {
            for listener in listeners.dropFirst(loops.count) { listener.close() }
            throw error
        }
        everyLoop.set(loops)
        self.loops = loops
        self.port = port
        self.logger = logger
        logger.info(
            "listening",
            metadata: [
                "http.host": "\(configuration.host)", "http.port": "\(port)", "http.event_loops": "\(count)",
            ])
    }

    /// Loop `loop`'s part of `total` connections (the first loops take the remainder), at least 1.
    static func share(of total: Int, loop: Int, loops: Int) -> Int {
        max(1, total / loops + (loop < total % loops ? 1 : 0))
    }

    /// Whether a graceful shutdown has begun (readiness probes should then fail).
    package var isDraining: Bool { loops.contains { $0.isDraining } }

    /// Runs the event loops until a graceful shutdown completes, then returns: the first on the calling thread,
    /// any others on threads of their own.
    /// - Throws: ``SystemCallError`` if `epoll_wait` itself fails (never expected); `HTTPServerError` when the
    ///   server was already run.
    package func run() throws {
        let first = state.withLock { state in
            guard state == .ready else { return false }
            state = .running
            return true
        }
        guard first else { throw HTTPServerError("this HTTPServer has already been run; create a new one") }
        let others = DispatchGroup()
        for (index, loop) in loops.enumerated().dropFirst() {
            others.enter()
            let thread = Thread { [self] in
                // Set on the thread itself, as Linux wants, and at most 15 bytes (longer names are refused).
                Thread.current.name = String("lk-http-\(port)-\(index)".prefix(15))
                do {
                    try loop.run()
                } catch {
                    logger.error("HTTP server loop failed", metadata: ["error": "\(error)", "http.loop": "\(index)"])
                    beginShutdown()
                }
                others.leave()
            }
            thread.start()
        }
        defer {
            others.wait()
            state.withLock { $0 = .finished }
            logger.info("stopped", metadata: ["http.port": "\(port)"])
            stopped.signal()
        }
        do {
            try loops[0].run()
        } catch {
            beginShutdown()
            throw error
        }
    }

    /// Runs the event loops on new threads. Errors from the loops are logged.
    package func start() {
        let thread = Thread { [self] in
            Thread.current.name = "lk-http-\(port)"  // set on the thread itself, as Linux wants; at most 15 bytes
            do {
                try run()
            } catch {
                logger.error("HTTP server loop failed", metadata: ["error": "\(error)"])
            }
        }
        thread.start()
    }

    /// Blocks SIGTERM and SIGINT for the calling thread and every thread it starts later, so that they reach
    /// the listener's signalfd instead of killing the process from whichever thread the kernel picks.
    ///
    /// Call it first thing in `main`, before any other thread exists, in a process whose server has
    /// ``HTTPServerConfiguration/handlesSignals`` set; a process that blocks them without such a server no
    /// longer stops on Ctrl-C. The corresponding C function is `pthread_sigmask`.
    /// - Throws: ``SystemCallError`` if the mask cannot be changed.
    package static func blockTerminationSignals() throws(SystemCallError) {
        try Signals.block([SIGTERM, SIGINT])
    }

    /// Begins a graceful shutdown, from any thread: stop accepting, answer in-flight requests with
    /// `Connection: close`, close idle connections, cut the rest after `drainTimeout`. Idempotent.
    package func beginShutdown() {
        for loop in loops { loop.requestShutdown() }
    }

    /// Blocks until ``run()`` has returned (whether called directly or through ``start()``). Returns at once
    /// when it already has; waits forever if the server is never run. Never call it from a handler (the loop
    /// thread would wait for itself).
    package func waitUntilStopped() {
        stopped.wait()
    }

    // MARK: - Listening socket

    /// Creates, binds and listens on a socket for `configuration`'s host and port; with `reusePort`, other
    /// sockets of this process may listen on the same port (`SO_REUSEPORT`).
    private static func listen(_ configuration: HTTPServerConfiguration, reusePort: Bool) throws(HTTPServerError) -> (
        fd: FileDescriptor, port: Int
    ) {
        guard (0...65535).contains(configuration.port) else {
            throw HTTPServerError("port \(configuration.port) is outside 0…65535")
        }
        let host = configuration.host == "localhost" ? "127.0.0.1" : configuration.host
        let isIPv6 = host.contains(":")
        var storage = sockaddr_storage()
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(configuration.port).bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else {
                throw HTTPServerError(
                    "host \"\(configuration.host)\" is not an IPv4 or IPv6 address; use e.g. 127.0.0.1 or ::1")
            }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: address, as: sockaddr_in6.self) }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(configuration.port).bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
                throw HTTPServerError(
                    "host \"\(configuration.host)\" is not an IPv4 or IPv6 address; use e.g. 127.0.0.1 or ::1")
            }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: address, as: sockaddr_in.self) }
        }
        let endpoint = "\(configuration.host):\(configuration.port)"
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.socket(
                domain: isIPv6 ? AF_INET6 : AF_INET, type: Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue))
        } catch {
            throw HTTPServerError("could not create a socket for \(endpoint)", underlying: error)
        }
        do {
            try fd.setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
            if reusePort { try fd.setOption(level: SOL_SOCKET, name: SO_REUSEPORT, value: 1) }
            try fd.bind(to: storage)
            try fd.listen(backlog: Int32(clamping: configuration.backlog))
            let bound = try fd.localAddress()
            var copy = bound
            let port = withUnsafeBytes(of: &copy) { raw -> UInt16 in
                isIPv6 ? raw.load(as: sockaddr_in6.self).sin6_port : raw.load(as: sockaddr_in.self).sin_port
            }
            return (fd, Int(UInt16(bigEndian: port)))
        } catch {
            fd.close()
            let hint =
                error.errno == .addressInUse ? "; another process holds the port: stop it or choose another port" : ""
            throw HTTPServerError("could not listen on \(endpoint)\(hint)", underlying: error)
        }
    }
}

/// The server's loops, for the first loop's signal handler to shut them all down (filled once they exist).
private final class LoopList: Sendable {
    private let loops = Mutex<[EventLoop]>([])

    func set(_ list: [EventLoop]) { loops.withLock { $0 = list } }

    func requestShutdown() {
        for loop in loops.withLock({ $0 }) { loop.requestShutdown() }
    }
}

/// A one-way "the loop has stopped" flag that threads can wait on.
///
/// `@unchecked Sendable`: `stopped` is only read and written with `condition` locked.
private final class StopSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false

    func signal() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    func wait() {
        condition.lock()
        while !stopped { condition.wait() }
        condition.unlock()
    }
}
