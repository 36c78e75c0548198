import Glibc
import Logging
import Synchronization
import SystemCalls

/// One I/O thread of the server: accepts on its listening socket, reads, parses, calls the handler, writes, and
/// keeps every deadline of its connections.
///
/// Trigger mode: **level-triggered** epoll. Each readiness event gets one bounded read (plus one more when the
/// first filled the buffer), so one busy client cannot starve others, and a connection whose reads we pause (a
/// response is pending) simply stays ready without being lost; edge-triggered would force draining to EAGAIN on
/// every event and keeping a "still readable" list, where a missed drain means a hung connection. Interest sets
/// are kept minimal (EPOLLIN only while we want bytes, EPOLLOUT only while bytes wait), so level triggering
/// never spins.
///
/// Deadlines: one per connection (the one its state calls for) in a ``TimerHeap``; the earliest sets
/// `epoll_wait`'s timeout. Cross-thread answers and shutdown requests arrive through a Mutex-guarded queue and
/// an eventfd; SIGTERM/SIGINT through a signalfd when asked.
///
/// `@unchecked Sendable` because the mutable state (connections, timers, buffers) is only touched on the loop
/// thread (`run` and what it calls, including handlers' synchronous answers); what other threads use is immutable
/// or behind `Mutex`/`Atomic`.
final class EventLoop: @unchecked Sendable {
    private struct Delivery {
        var fd: FileDescriptor
        var generation: UInt32
        var serial: UInt64
        var response: HTTPResponse
    }

    private enum Token {
        static let listener: UInt64 = 1 << 63
        static let wakeup: UInt64 = 1 << 63 | 1
        static let signal: UInt64 = 1 << 63 | 2
    }

    private let configuration: HTTPServerConfiguration
    private let limits: HTTPRequestParser.Limits
    private let handler: any HTTPHandler
    private let logger: Logger
    private let addresses: ClientAddressResolver
    private let requestIDs = RequestIDGenerator()

    private let epoll: Epoll
    private let wakeupFD: FileDescriptor
    private let signalFD: FileDescriptor?
    private var listenFD: FileDescriptor?

    /// Answers from other threads, and whether the wakeup eventfd is still open (writes to it happen under the
    /// lock, so none can race its close).
    private struct Inbox {
        var deliveries: [Delivery] = []
        var open = true
    }

    // Shared with other threads.
    private let inbox = Mutex(Inbox())
    private let shutdownRequested = Atomic<Bool>(false)
    private let draining = Atomic<Bool>(false)

    // Loop-thread state.
    private var connections: [Connection?] = []
    private var openConnections = 0
    private var nextGeneration: UInt32 = 0
    private var timers = TimerHeap()
    private var now: UInt64 = 0
    private var dateCache = HTTPDateCache()
    private var readBuffer: UnsafeMutableRawBufferPointer
    private let events = Epoll.EventBuffer(capacity: 256)
    private var acceptPausedUntil: UInt64?
    private var drainDeadline: UInt64?
    private var handling: (fd: FileDescriptor, serial: UInt64)?
    private var isTornDown = false
    /// Written once by `run` before any responder exists; responders reach other threads only through the
    /// handler's own synchronisation, which orders this write before their reads.
    private var loopThread: pthread_t?

    /// Sets up epoll, the wakeup eventfd and (when asked) the signalfd around an already listening socket.
    /// Called (on the loop thread) after SIGTERM/SIGINT arrived through this loop's signalfd, so that a server
    /// with several loops can shut them all down.
    private let onShutdownSignal: (@Sendable () -> Void)?

    init(
        listenFD: FileDescriptor, configuration: HTTPServerConfiguration, handler: any HTTPHandler, logger: Logger,
        onShutdownSignal: (@Sendable () -> Void)? = nil
    ) throws(HTTPServerError) {
        self.onShutdownSignal = onShutdownSignal
        self.configuration = configuration
        self.limits = configuration.parserLimits
        self.handler = handler
        self.logger = logger
        self.addresses = try ClientAddressResolver(trustedProxies: configuration.trustedProxies)
        self.listenFD = listenFD
        var created: [FileDescriptor] = []
        do {
            epoll = try Epoll()
            created.append(epoll.descriptor)
            wakeupFD = try FileDescriptor.makeEventDescriptor()
            created.append(wakeupFD)
            if configuration.handlesSignals {
                try Signals.block([SIGTERM, SIGINT])
                let signals = try FileDescriptor.makeSignalDescriptor([SIGTERM, SIGINT])
                created.append(signals)
                signalFD = signals
            } else {
                signalFD = nil
            }
            try epoll.add(listenFD, events: .readable, data: Token.listener)
            try epoll.add(wakeupFD, events: .readable, data: Token.wakeup)
            if let signalFD { try epoll.add(signalFD, events: .readable, data: Token.signal) }
        } catch {
            for fd in created { fd.close() }
            throw HTTPServerError("could not set up the event loop", underlying: error)
        }
        readBuffer = .allocate(byteCount: 65536, alignment: 16)
    }

    deinit {
        if !isTornDown { tearDown() }  // created but never run
        readBuffer.deallocate()
    }

    /// Whether a graceful shutdown has started.
    var isDraining: Bool { draining.load(ordering: .acquiring) }

    /// Asks the loop to shut down gracefully; safe from any thread, idempotent.
    func requestShutdown() {
        shutdownRequested.store(true, ordering: .releasing)
        inbox.withLock { inbox in
            if inbox.open { wake() }
        }
    }

    // MARK: - The loop

    /// Runs until a graceful shutdown completes. Call on one thread, once.
    func run() throws(SystemCallError) {
        loopThread = pthread_self()
        if configuration.handlesSignals { try Signals.block([SIGTERM, SIGINT]) }
        defer { tearDown() }
        while true {
            now = MonotonicClock.nanoseconds()
            if shutdownRequested.load(ordering: .acquiring) && drainDeadline == nil { startDraining() }
            if let drainDeadline {
                if openConnections == 0 { break }
                if now >= drainDeadline {
                    logger.info(
                        "drain timeout passed; closing remaining connections",
                        metadata: ["http.connections": "\(openConnections)"])
                    for connection in connections.compactMap({ $0 }) { close(connection) }
                    break
                }
            }
            let count = try epoll.wait(into: events, timeoutMilliseconds: waitTimeout())
            now = MonotonicClock.nanoseconds()
            for index in 0..<count {
                let data = events.data(at: index)
                switch data {
                case Token.listener: acceptConnections()
                case Token.wakeup: drainWakeups()
                case Token.signal: readSignals()
                default: handle(events.events(at: index), data: data)
                }
            }
            expireTimers()
            if let until = acceptPausedUntil, now >= until { resumeAccepting() }
        }
    }

    private func waitTimeout() -> Int32 {
        var next = timers.earliest
        for candidate in [acceptPausedUntil, drainDeadline] {
            if let candidate { next = min(next ?? candidate, candidate) }
        }
        guard let next else { return -1 }
        if next <= now { return 0 }
        let milliseconds = (next - now + 999_999) / 1_000_000
        return Int32(clamping: milliseconds)
    }

    private func tearDown() {
        isTornDown = true
        for connection in connections.compactMap({ $0 }) { close(connection) }
        closeListener()
        inbox.withLock { inbox in
            inbox.open = false
            inbox.deliveries = []
            wakeupFD.close()
        }
        signalFD?.close()
        epoll.close()
    }

    // MARK: - Accepting

    private func acceptConnections() {
        guard let listenFD else { return }
        for _ in 0..<64 {
            var peerStorage = sockaddr_storage()
            let fd: FileDescriptor
            do {
                guard case .processed(let accepted) = try listenFD.accept(peer: &peerStorage) else { return }
                fd = accepted
            } catch {
                switch error.errno {
                case .connectionAborted, .protocolError, .notPermitted:
                    continue
                default:
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM: stop polling the listener briefly rather than spin on it.
                    logger.info("accept failed; pausing accepts for 100 ms", metadata: ["error": "\(error)"])
                    pauseAccepting()
                    return
                }
            }
            let peer = IPAddress(peerStorage)
            if openConnections >= configuration.maxConnections || drainDeadline != nil {
                refuse(fd)
                continue
            }
            do {
                try fd.setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
                nextGeneration &+= 1
                if nextGeneration == 0 { nextGeneration = 1 }
                let interest: Epoll.Events = [.readable, .readHangup]
                try epoll.add(
                    fd, events: interest, data: UInt64(nextGeneration) << 32 | UInt64(UInt32(bitPattern: fd.rawValue)))
                let connection = Connection(
                    fd: fd, generation: nextGeneration, peer: peer, peerText: peer?.description ?? "unknown",
                    limits: limits, now: now, events: interest)
                let slot = Int(fd.rawValue)
                if slot >= connections.count {
                    connections.append(contentsOf: repeatElement(nil, count: slot + 1 - connections.count))
                }
                connections[slot] = connection
                openConnections += 1
                updateDeadline(connection)
            } catch {
                logger.debug("could not set up an accepted connection", metadata: ["error": "\(error)"])
                fd.close()
            }
        }
    }

    /// Answers a connection past the cap (or during drain) with 503 and closes it, without registering it.
    private func refuse(_ fd: FileDescriptor) {
        let status = drainDeadline != nil ? "the server is shutting down" : "too many open connections"
        logger.debug("connection refused", metadata: ["reason": "\(status)"])
        var bytes: [UInt8] = []
        ResponseSerializer.append(
            .error(
                status: 503, type: "unavailable", message: "Refused: \(status); retry shortly.",
                headers: ["Retry-After": "1"]),
            context: .init(omitBody: false, keepAlive: false, minorVersion: 1), date: dateCache.current(), to: &bytes)
        _ = bytes.withUnsafeBytes { try? fd.send($0) }
        fd.close()
    }

    private func pauseAccepting() {
        guard let listenFD else { return }
        try? epoll.modify(listenFD, events: [], data: Token.listener)
        acceptPausedUntil = now + 100_000_000
    }

    private func resumeAccepting() {
        acceptPausedUntil = nil
        guard let listenFD else { return }
        try? epoll.modify(listenFD, events: .readable, data: Token.listener)
    }

    private func closeListener() {
        guard let fd = listenFD else { return }
        listenFD = nil
        acceptPausedUntil = nil
        fd.close()  // also removes it from the epoll set
    }

    // MARK: - Shutdown

    private func startDraining() {
        drainDeadline = now + configuration.drainTimeout.nanoseconds
        draining.store(true, ordering: .releasing)
        closeListener()
        logger.info("draining: listener closed", metadata: ["http.connections": "\(openConnections)"])
        for connection in connections.compactMap({ $0 }) where connection.isIdle {
            close(connection)
        }
    }

    private func readSignals() {
        guard let signalFD else { return }
        if let signal = signalFD.readSignal() {
            logger.info("signal received; shutting down gracefully", metadata: ["signal": "\(signal)"])
            shutdownRequested.store(true, ordering: .releasing)
            onShutdownSignal?()
        }
    }

    // MARK: - Cross-thread answers

    /// Bumps the eventfd. Call with the inbox lock held and the inbox open.
    private func wake() {
        do {
            try wakeupFD.signalEvent()
        } catch {
            // Only EBADF/EFAULT could fail here and they trap; a full counter (EAGAIN) still wakes the loop.
            logger.debug("eventfd write failed", metadata: ["error": "\(error)"])
        }
    }

    private func drainWakeups() {
        wakeupFD.drainEvents()
        let pending = inbox.withLock { inbox in
            let taken = inbox.deliveries
            inbox.deliveries.removeAll(keepingCapacity: true)
            return taken
        }
        for delivery in pending {
            guard let connection = lookup(fd: delivery.fd, generation: delivery.generation) else { continue }
            complete(connection, serial: delivery.serial, with: delivery.response)
        }
    }

    private func isOnLoopThread() -> Bool {
        guard let loopThread else { return false }
        return pthread_equal(pthread_self(), loopThread) != 0
    }

    /// Delivers the answer to request `serial` on connection (`fd`, `generation`); called by responders.
    private func deliver(fd: FileDescriptor, generation: UInt32, serial: UInt64, response: HTTPResponse) {
        if isOnLoopThread() {
            guard let connection = lookup(fd: fd, generation: generation) else { return }
            if let handling, handling.fd == fd, handling.serial == serial {
                if connection.immediateResponse == nil { connection.immediateResponse = response }
                return
            }
            complete(connection, serial: serial, with: response)
            return
        }
        inbox.withLock { inbox in
            guard inbox.open else { return }  // the server has stopped; nobody is waiting for this answer
            inbox.deliveries.append(Delivery(fd: fd, generation: generation, serial: serial, response: response))
            if inbox.deliveries.count == 1 { wake() }
        }
    }

    private func lookup(fd: FileDescriptor, generation: UInt32) -> Connection? {
        let slot = Int(fd.rawValue)
        guard slot >= 0, slot < connections.count, let connection = connections[slot],
            connection.generation == generation
        else {
            return nil
        }
        return connection
    }

    // MARK: - Connection events

    private func handle(_ flags: Epoll.Events, data: UInt64) {
        let fd = FileDescriptor(rawValue: Int32(bitPattern: UInt32(truncatingIfNeeded: data)))
        let generation = UInt32(truncatingIfNeeded: data >> 32)
        guard let connection = lookup(fd: fd, generation: generation) else { return }
        if !flags.isDisjoint(with: [.error, .hangup]) {
            close(connection)
            return
        }
        if flags.contains(.writable) {
            flush(connection)
            guard connections[Int(fd.rawValue)] === connection else { return }
        }
        if !flags.isDisjoint(with: [.readable, .readHangup]) {
            readAvailable(connection)
        }
    }

    private func readAvailable(_ connection: Connection) {
        for attempt in 0..<2 {
            let result: IOResult<Int>
            do {
                result = try connection.fd.read(into: readBuffer)
            } catch {
                logger.debug(
                    "read failed; closing", metadata: ["error": "\(error)", "http.peer": "\(connection.peerText)"])
                close(connection)
                return
            }
            guard case .processed(let count) = result else { break }
            if count == 0 {
                peerFinished(connection)
                return
            }
            if connection.phase == .lingering { continue }  // discard
            connection.inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            connection.lastReadProgress = now
            if connection.phase == .reading && connection.parser.isIdle
                && connection.headStartedAt <= connection.idleSince
            {
                connection.headStartedAt = now
            }
            if count < readBuffer.count || attempt == 1 { break }
        }
        if connection.phase == .lingering {
            if now >= connection.lingerUntil { close(connection) }
            return
        }
        process(connection)
    }

    /// The peer sent EOF.
    private func peerFinished(_ connection: Connection) {
        connection.readClosed = true
        switch connection.phase {
        case .reading:
            // Idle: a normal close. Mid-request: the request is incomplete (RFC 9112 §6.3 item 5); close.
            if connection.bufferedCount > 0 || !connection.parser.isIdle {
                logger.debug("peer closed mid-request", metadata: ["http.peer": "\(connection.peerText)"])
            }
            if connection.hasPendingOutput {
                connection.phase = .closing
                refresh(connection)
            } else {
                close(connection)
            }
        case .awaitingResponse, .closing:
            refresh(connection)  // stop reading; answer, then close
        case .lingering:
            close(connection)
        }
    }

    // MARK: - Parsing and dispatch

    private func process(_ connection: Connection) {
        while connection.phase == .reading && connection.bufferedCount > 0 {
            let (consumed, step) = connection.inbound.withUnsafeBufferPointer { buffer in
                connection.parser.parse(UnsafeBufferPointer(rebasing: buffer[connection.inboundStart...]))
            }
            connection.inboundStart += consumed
            switch step {
            case .needMore:
                connection.compactInbound()
                refresh(connection)
                return
            case .headComplete(let expectsContinue):
                if expectsContinue && connection.bufferedCount == 0 {
                    connection.outbound.append(contentsOf: ResponseSerializer.continueResponse)
                }
            case .request(let request, let keepAlive):
                dispatch(request, keepAlive: keepAlive, on: connection)
                guard connections[Int(connection.fd.rawValue)] === connection else { return }
            case .failure(let error):
                reject(connection, error)
            }
        }
        connection.compactInbound()
        refresh(connection)
    }

    private func dispatch(_ parsed: HTTPRequest, keepAlive: Bool, on connection: Connection) {
        var request = parsed
        connection.serial &+= 1
        connection.requestsServed += 1
        let serial = connection.serial
        let keep =
            keepAlive && drainDeadline == nil && !connection.readClosed
            && connection.requestsServed < configuration.maxRequestsPerConnection
        connection.inFlight = .init(
            serial: serial, keepAlive: keep, omitBody: request.method == "HEAD", minorVersion: request.minorVersion)
        connection.phase = .awaitingResponse
        connection.dispatchedAt = now
        request.clientAddress = addresses.resolve(
            peer: connection.peer, peerText: connection.peerText, headers: request.headers)
        request.requestID = requestIDs.id(incoming: request.headers["X-Request-Id"])
        let fd = connection.fd
        let generation = connection.generation
        let responder = Responder { [self] response in
            self.deliver(fd: fd, generation: generation, serial: serial, response: response)
        }
        handling = (fd, serial)
        handler.handle(request, responder: responder)
        handling = nil
        if let response = connection.immediateResponse {
            connection.immediateResponse = nil
            complete(connection, serial: serial, with: response, thenProcess: false)
        }
    }

    /// Answers a parse error and closes after writing.
    private func reject(_ connection: Connection, _ error: HTTPParseError) {
        logger.debug(
            "request rejected",
            metadata: [
                "http.status": "\(error.status)", "http.error": "\(error.type)", "http.peer": "\(connection.peerText)",
            ])
        connection.inFlight = nil
        ResponseSerializer.append(
            error.response, context: .init(omitBody: false, keepAlive: false, minorVersion: 1),
            date: dateCache.current(),
            to: &connection.outbound)
        connection.phase = .closing
    }

    /// Queues the answer to request `serial` if it is the one awaited; ignores late or repeated answers.
    private func complete(
        _ connection: Connection, serial: UInt64, with response: HTTPResponse, thenProcess: Bool = true
    ) {
        guard connection.phase == .awaitingResponse, let inFlight = connection.inFlight, inFlight.serial == serial
        else { return }
        connection.inFlight = nil
        let keepAlive = inFlight.keepAlive && drainDeadline == nil && !connection.readClosed
        ResponseSerializer.append(
            response,
            context: .init(omitBody: inFlight.omitBody, keepAlive: keepAlive, minorVersion: inFlight.minorVersion),
            date: dateCache.current(), to: &connection.outbound)
        if keepAlive {
            connection.phase = .reading
            connection.idleSince = now
            connection.headStartedAt = 0
            if connection.bufferedCount > 0 { connection.headStartedAt = now }
        } else {
            connection.phase = .closing
        }
        if thenProcess { process(connection) }
    }

    // MARK: - Writing, interest and deadlines

    /// Sends pending output, then adjusts interest and deadline (or closes).
    private func refresh(_ connection: Connection) {
        if connection.hasPendingOutput {
            flush(connection)
            return
        }
        settle(connection)
    }

    private func flush(_ connection: Connection) {
        while connection.hasPendingOutput {
            let result: IOResult<Int>
            do {
                result = try connection.outbound.withUnsafeBytes { (bytes) throws(SystemCallError) in
                    try connection.fd.send(UnsafeRawBufferPointer(rebasing: bytes[connection.outboundSent...]))
                }
            } catch {
                logger.debug(
                    "write failed; closing", metadata: ["error": "\(error)", "http.peer": "\(connection.peerText)"])
                close(connection)
                return
            }
            guard case .processed(let sent) = result else { break }
            connection.outboundSent += sent
            connection.lastWriteProgress = now
        }
        if !connection.hasPendingOutput {
            connection.outbound.removeAll(keepingCapacity: connection.outbound.capacity <= 65536)
            connection.outboundSent = 0
        }
        settle(connection)
    }

    /// With output flushed as far as it goes: start lingering or close when due, else set interest and deadline.
    private func settle(_ connection: Connection) {
        if connection.phase == .closing && !connection.hasPendingOutput {
            if connection.readClosed {
                close(connection)
                return
            }
            try? connection.fd.shutdownWriting()
            connection.phase = .lingering
            connection.lingerUntil = now + configuration.lingerTimeout.nanoseconds
            connection.inbound = []
            connection.inboundStart = 0
        }
        if connection.phase == .reading && drainDeadline != nil && connection.isIdle {
            close(connection)
            return
        }
        var wanted: Epoll.Events = []
        let wantsBytes: Bool
        switch connection.phase {
        case .reading, .lingering: wantsBytes = true
        case .awaitingResponse: wantsBytes = connection.bufferedCount < limits.maxHeadBytes  // bounded pipelining
        case .closing: wantsBytes = false
        }
        if wantsBytes && !connection.readClosed { wanted.formUnion([.readable, .readHangup]) }
        if connection.hasPendingOutput { wanted.insert(.writable) }
        if wanted != connection.registeredEvents {
            do {
                try epoll.modify(
                    connection.fd, events: wanted,
                    data: UInt64(connection.generation) << 32 | UInt64(UInt32(bitPattern: connection.fd.rawValue)))
                connection.registeredEvents = wanted
            } catch {
                close(connection)
                return
            }
        }
        updateDeadline(connection)
    }

    private func updateDeadline(_ connection: Connection) {
        let deadline: UInt64?
        if connection.hasPendingOutput {
            deadline = connection.lastWriteProgress + configuration.writeTimeout.nanoseconds
        } else {
            switch connection.phase {
            case .lingering:
                deadline = connection.lingerUntil
            case .awaitingResponse:
                deadline = connection.dispatchedAt + configuration.responseTimeout.nanoseconds
            case .closing:
                deadline = nil
            case .reading:
                if connection.parser.isReadingBody {
                    deadline = min(
                        connection.lastReadProgress + configuration.bodyIdleTimeout.nanoseconds,
                        connection.headStartedAt + configuration.requestTimeout.nanoseconds)
                } else if connection.parser.isIdle && connection.bufferedCount == 0 {
                    let timeout =
                        connection.requestsServed == 0 ? configuration.headTimeout : configuration.keepAliveTimeout
                    deadline = connection.idleSince + timeout.nanoseconds
                } else {
                    deadline =
                        max(connection.headStartedAt, connection.idleSince) + configuration.headTimeout.nanoseconds
                }
            }
        }
        if let deadline {
            timers.set(connection.fd.rawValue, deadline: deadline)
        } else {
            timers.remove(connection.fd.rawValue)
        }
    }

    private func expireTimers() {
        while let fd = timers.popDue(now: now) {
            guard let connection = connections[Int(fd)] else { continue }
            if connection.hasPendingOutput || connection.phase == .lingering {
                logger.debug("write stalled or linger over; closing", metadata: ["http.peer": "\(connection.peerText)"])
                close(connection)
            } else if connection.phase == .reading && connection.isIdle {
                close(connection)
            } else if connection.phase == .reading {
                reject(connection, .requestTimeout)
                refresh(connection)
            } else if connection.phase == .awaitingResponse, let inFlight = connection.inFlight {
                logger.debug("handler did not answer in time", metadata: ["http.peer": "\(connection.peerText)"])
                connection.inFlight?.keepAlive = false
                complete(
                    connection, serial: inFlight.serial,
                    with: .error(
                        status: 503, type: "handler_timeout",
                        message: "The request was not answered in time; retry later.", headers: ["Retry-After": "1"]))
            }
        }
    }

    private func close(_ connection: Connection) {
        let fd = connection.fd
        let slot = Int(fd.rawValue)
        guard slot < connections.count, connections[slot] === connection else { return }
        connections[slot] = nil
        openConnections -= 1
        timers.remove(fd.rawValue)
        fd.close()
    }
}

/// Request ids: an incoming sane `X-Request-Id` (1–128 of `A-Z a-z 0-9 . _ : -`), else a process prefix and a
/// counter (`3f9a1c-1b`).
final class RequestIDGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    /// Creates a generator with a random process prefix.
    init() {
        prefix = String(UInt32.random(in: 0x10_0000...0xFF_FFFF), radix: 16)
    }

    /// The id for a request that sent `incoming` (its `X-Request-Id`, if any).
    func id(incoming: String?) -> String {
        if let incoming, (1...128).contains(incoming.utf8.count), incoming.utf8.allSatisfy(Self.isIDByte) {
            return incoming
        }
        let value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "-" + String(value, radix: 16)
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
            UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
