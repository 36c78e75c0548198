import Glibc
import Logging
import Synchronization
import SystemCalls

/// One I/O thread of the server: accepts on its listening socket, reads and writes its connections' sockets,
/// calls the handler, and carries out what each connection's ``ConnectionStateMachine`` asks for.
///
/// The epoll side (registrations, wait, wakeups, signals, deadlines) is the ``Selector``; the HTTP side of a
/// connection is its state machine; this class does the system calls between them. Cross-thread answers and
/// shutdown requests arrive through a Mutex-guarded queue and the selector's eventfd.
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

    private let configuration: HTTPServerConfiguration
    private let settings: ConnectionStateMachine.Settings
    private let handler: any HTTPHandler
    private let logger: Logger
    private let addresses: ClientAddressResolver
    private let requestIDs = RequestIDGenerator()
    private let selector: Selector
    private var listener: Listener

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
    private var now: UInt64 = 0
    private var dateCache = HTTPDateCache()
    private var readBuffer: UnsafeMutableRawBufferPointer
    private var drainDeadline: UInt64?
    /// The request whose handler is running on this thread right now, and the answer it gave before returning.
    private var handling: (fd: FileDescriptor, serial: UInt64)?
    private var immediateResponse: HTTPResponse?
    private var isTornDown = false
    /// Written once by `run` before any responder exists; responders reach other threads only through the
    /// handler's own synchronisation, which orders this write before their reads.
    private var loopThread: pthread_t?

    /// Called (on the loop thread) after SIGTERM/SIGINT arrived through this loop's signalfd, so that a server
    /// with several loops can shut them all down.
    private let onShutdownSignal: (@Sendable () -> Void)?

    /// Sets up the selector (epoll, the wakeup eventfd and, when asked, the signalfd) around an already
    /// listening socket.
    init(
        listenFD: FileDescriptor, configuration: HTTPServerConfiguration, handler: any HTTPHandler, logger: Logger,
        onShutdownSignal: (@Sendable () -> Void)? = nil
    ) throws(HTTPServerError) {
        self.onShutdownSignal = onShutdownSignal
        self.configuration = configuration
        self.settings = ConnectionStateMachine.Settings(configuration)
        self.handler = handler
        self.logger = logger
        self.addresses = try ClientAddressResolver(trustedProxies: configuration.trustedProxies)
        self.listener = Listener(listenFD)
        do {
            selector = try Selector(listener: listenFD, handlesSignals: configuration.handlesSignals)
        } catch {
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
            if inbox.open { selector.wake() }
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
            var loopDeadline = listener.pausedUntil
            if let drainDeadline { loopDeadline = min(loopDeadline ?? drainDeadline, drainDeadline) }
            let count = try selector.wait(until: loopDeadline, now: now)
            now = MonotonicClock.nanoseconds()
            for index in 0..<count {
                switch selector.event(at: index) {
                case .listener: acceptConnections()
                case .wakeup: drainWakeups()
                case .signal: readSignals()
                case .connection(let data, let events): handle(events, data: data)
                }
            }
            expireTimers()
            listener.resumeIfDue(now: now, selector: selector)
        }
    }

    private func tearDown() {
        isTornDown = true
        for connection in connections.compactMap({ $0 }) { close(connection) }
        listener.close()
        inbox.withLock { inbox in
            inbox.open = false
            inbox.deliveries = []
            selector.closeWakeup()
        }
        selector.close()
    }

    // MARK: - Accepting

    private func acceptConnections() {
        for _ in 0..<64 {
            let fd: FileDescriptor
            let peer: IPAddress?
            switch listener.accept(now: now, selector: selector) {
            case .connection(let accepted, let address): (fd, peer) = (accepted, address)
            case .skipped: continue
            case .none: return
            case .paused(let error):
                logger.info("accept failed; pausing accepts for 100 ms", metadata: ["error": "\(error)"])
                return
            }
            if openConnections >= configuration.maxConnections || drainDeadline != nil {
                let reason = drainDeadline != nil ? "the server is shutting down" : "too many open connections"
                logger.debug("connection refused", metadata: ["reason": "\(reason)"])
                Listener.refuse(fd, reason: reason, date: &dateCache)
                continue
            }
            do {
                try fd.setOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
                nextGeneration &+= 1
                if nextGeneration == 0 { nextGeneration = 1 }
                let interest = Epoll.Events.input
                let connection = Connection(
                    fd: fd, generation: nextGeneration, peer: peer, peerText: peer?.description ?? "unknown",
                    machine: ConnectionStateMachine(settings: settings, now: now, interest: interest))
                try selector.register(fd, interest: interest, data: connection.selectorData)
                let slot = Int(fd.rawValue)
                if slot >= connections.count {
                    connections.append(contentsOf: repeatElement(nil, count: slot + 1 - connections.count))
                }
                connections[slot] = connection
                openConnections += 1
                selector.setDeadline(connection.machine.deadline, for: fd)
            } catch {
                logger.debug("could not set up an accepted connection", metadata: ["error": "\(error)"])
                fd.close()
            }
        }
    }

    // MARK: - Shutdown

    private func startDraining() {
        drainDeadline = now + configuration.drainTimeout.nanoseconds
        draining.store(true, ordering: .releasing)
        listener.close()  // also removes it from the epoll set
        logger.info("draining: listener closed", metadata: ["http.connections": "\(openConnections)"])
        for connection in connections.compactMap({ $0 }) {
            carryOut(connection.machine.shutdownBegan(), on: connection)
        }
    }

    private func readSignals() {
        if let signal = selector.readSignal() {
            logger.info("signal received; shutting down gracefully", metadata: ["signal": "\(signal)"])
            shutdownRequested.store(true, ordering: .releasing)
            onShutdownSignal?()
        }
    }

    // MARK: - Cross-thread answers

    private func drainWakeups() {
        selector.drainWakeups()
        let pending = inbox.withLock { inbox in
            let taken = inbox.deliveries
            inbox.deliveries.removeAll(keepingCapacity: true)
            return taken
        }
        for delivery in pending {
            guard let connection = lookup(fd: delivery.fd, generation: delivery.generation) else { continue }
            let action = connection.machine.responseArrived(
                delivery.response, serial: delivery.serial, now: now, date: &dateCache)
            carryOut(action, on: connection)
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
                if immediateResponse == nil { immediateResponse = response }
                return
            }
            carryOut(
                connection.machine.responseArrived(response, serial: serial, now: now, date: &dateCache),
                on: connection)
            return
        }
        inbox.withLock { inbox in
            guard inbox.open else { return }  // the server has stopped; nobody is waiting for this answer
            inbox.deliveries.append(Delivery(fd: fd, generation: generation, serial: serial, response: response))
            if inbox.deliveries.count == 1 { selector.wake() }
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

    private func isOpen(_ connection: Connection) -> Bool {
        connections[Int(connection.fd.rawValue)] === connection
    }

    // MARK: - Connection events

    private func handle(_ events: Epoll.Events, data: UInt64) {
        let fd = FileDescriptor(rawValue: Int32(bitPattern: UInt32(truncatingIfNeeded: data)))
        guard let connection = lookup(fd: fd, generation: UInt32(truncatingIfNeeded: data >> 32)) else { return }
        if events.containsAny(of: .failure) {
            close(connection)
            return
        }
        if events.containsAny(of: .writable) {
            carryOut(send(connection), on: connection)
            guard isOpen(connection) else { return }
        }
        if events.containsAny(of: .input) {
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
                carryOut(connection.machine.peerClosed(now: now, date: &dateCache), on: connection)
                return
            }
            connection.machine.bytesRead(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), now: now)
            if count < readBuffer.count || attempt == 1 { break }
        }
        carryOut(connection.machine.readFinished(now: now, date: &dateCache), on: connection)
    }

    private func expireTimers() {
        while let fd = selector.popDue(now: now) {
            guard let connection = connections[Int(fd.rawValue)] else { continue }
            carryOut(connection.machine.timedOut(now: now, date: &dateCache), on: connection)
        }
    }

    // MARK: - Carrying out the state machine's actions

    /// Does what `first` asks, reporting each outcome back to the machine, until it waits or closes.
    private func carryOut(_ first: ConnectionStateMachine.Action, on connection: Connection) {
        var action = first
        while true {
            switch consume action {
            case .callHandler(let request):
                let immediate = call(handlerWith: request, on: connection)
                guard isOpen(connection) else { return }
                action = connection.machine.handlerReturned(immediateResponse: immediate, now: now, date: &dateCache)
            case .send:
                action = send(connection)
            case .shutdownWrite:
                try? connection.fd.shutdownWriting()
                action = connection.machine.writeSideShut(now: now)
            case .report(let report):
                log(report, on: connection)
                action = connection.machine.resume(now: now, date: &dateCache)
            case .wait(let interestChanged):
                if interestChanged {
                    do {
                        try selector.reregister(
                            connection.fd, interest: connection.machine.registeredInterest,
                            data: connection.selectorData)
                    } catch {
                        close(connection)
                        return
                    }
                }
                selector.setDeadline(connection.machine.deadline, for: connection.fd)
                return
            case .close(let reason):
                if reason == .stalled {
                    logger.debug(
                        "write stalled or linger over; closing", metadata: ["http.peer": "\(connection.peerText)"])
                }
                close(connection)
                return
            case .nothing:
                return
            }
        }
    }

    /// Calls the handler; returns the answer it gave before returning, if it did.
    private func call(handlerWith request: consuming HTTPRequest, on connection: Connection) -> HTTPResponse? {
        request.clientAddress = addresses.resolve(
            peer: connection.peer, peerText: connection.peerText, headers: request.headers)
        request.requestID = requestIDs.id(incoming: request.headers["X-Request-Id"])
        let fd = connection.fd
        let generation = connection.generation
        let serial = connection.machine.serial
        let responder = Responder { [self] response in
            self.deliver(fd: fd, generation: generation, serial: serial, response: response)
        }
        // Saved and restored: a synchronous answer to another connection can run that connection's handler.
        let outer = (handling, immediateResponse)
        handling = (fd, serial)
        immediateResponse = nil
        handler.handle(request, responder: responder)
        let immediate = immediateResponse
        (handling, immediateResponse) = outer
        return immediate
    }

    /// Sends pending output until it is all sent or the socket is full.
    private func send(_ connection: Connection) -> ConnectionStateMachine.Action {
        var offset = connection.machine.outboundSent
        let end = connection.machine.outbound.count
        while offset < end {
            let result: IOResult<Int>
            do {
                result = try connection.machine.outbound.withUnsafeBytes { (bytes) throws(SystemCallError) in
                    try connection.fd.send(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                }
            } catch {
                logger.debug(
                    "write failed; closing", metadata: ["error": "\(error)", "http.peer": "\(connection.peerText)"])
                return .close(.finished)
            }
            guard case .processed(let sent) = result else { break }
            offset += sent
        }
        return connection.machine.wrote(offset - connection.machine.outboundSent, now: now)
    }

    private func log(_ report: ConnectionStateMachine.Report, on connection: Connection) {
        switch report {
        case .rejected(let error):
            logger.debug(
                "request rejected",
                metadata: [
                    "http.status": "\(error.status)", "http.error": "\(error.type)",
                    "http.peer": "\(connection.peerText)",
                ])
        case .handlerTimedOut:
            logger.debug("handler did not answer in time", metadata: ["http.peer": "\(connection.peerText)"])
        case .peerClosedMidRequest:
            logger.debug("peer closed mid-request", metadata: ["http.peer": "\(connection.peerText)"])
        }
    }

    private func close(_ connection: Connection) {
        let fd = connection.fd
        let slot = Int(fd.rawValue)
        guard slot < connections.count, connections[slot] === connection else { return }
        connections[slot] = nil
        openConnections -= 1
        selector.setDeadline(nil, for: fd)
        fd.close()
    }
}
