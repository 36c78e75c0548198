import SystemCalls

/// One HTTP/1.1 connection's protocol state, and the only code that changes it.
///
/// Pure: no sockets, no logging, no clock of its own (the loop passes the time in, and the `Date` header cache it
/// serializes with). The event loop reports what happened (bytes read, the peer's EOF, a handler's answer, write
/// progress, a deadline passing, a shutdown starting) by calling a transition; each transition returns the ``Action`` the loop must carry out next. Actions that need an outcome reported back
/// (``Action/callHandler(_:)``, ``Action/send``, ``Action/shutdownWrite``, ``Action/report(_:)``) are followed
/// by the matching transition, until the machine answers ``Action/wait(interestChanged:)`` or
/// ``Action/close(_:)``. After the pattern of swift-nio's `HTTPServerPipelineHandler`.
///
/// Buffers are stored properties of the machine, never enum payloads, so a transition mutates them in place:
/// the machine is a value kept in its ``Connection`` and changed through `connection.machine.transition(…)`.
struct ConnectionStateMachine {
    /// Where the connection is in its request/response cycle.
    enum State: Equatable {
        /// Parsing: between requests (idle) or inside a head or a body; ``HTTPRequestParser`` knows which.
        case reading
        /// A request was handed to the handler; its answer has not come yet.
        case awaitingResponse(InFlight)
        /// The last response is queued; once written, the write side is shut and the connection lingers.
        case closing
        /// Write side shut; unread client bytes are drained until EOF or the deadline, then the socket closes.
        case lingering(until: UInt64)
    }

    /// The request being answered.
    struct InFlight: Equatable {
        /// The request's number on this connection.
        var serial: UInt64
        /// Whether the connection stays open after the answer.
        var keepAlive: Bool
        /// Whether the request was HEAD.
        var omitBody: Bool
        /// The request's minor HTTP version.
        var minorVersion: Int
        /// When the request was handed to the handler (monotonic ns).
        var dispatchedAt: UInt64
    }

    /// The limits and deadlines.
    let settings: Settings

    // MARK: - The state; changed only by the transitions below

    /// Where the connection is in its request/response cycle.
    private(set) var state: State = .reading
    /// The request parser, carrying state between reads.
    private(set) var parser: HTTPRequestParser
    /// Received bytes; `inbound[inboundStart...]` are not consumed yet.
    private(set) var inbound: [UInt8] = []
    /// The first unconsumed byte of ``inbound``.
    private(set) var inboundStart = 0
    /// Bytes to send; `outbound[outboundSent...]` are not sent yet.
    private(set) var outbound: [UInt8] = []
    /// How much of ``outbound`` was sent.
    private(set) var outboundSent = 0
    /// The number of the latest request handed to the handler; answers carry it so stale ones are ignored.
    private(set) var serial: UInt64 = 0
    /// Requests handed to the handler so far.
    private(set) var requestsServed = 0
    /// The peer sent EOF: nothing more will be read.
    private(set) var readClosed = false
    /// A graceful shutdown began: no more keep-alive, idle means closed.
    private(set) var isDraining = false
    /// The interest set the loop registered with epoll (as of the last ``Action/wait(interestChanged:)``).
    private(set) var registeredInterest: Epoll.Events
    /// When the connection last became idle (accepted, or a response queued with keep-alive), monotonic ns.
    private(set) var idleSince: UInt64
    /// When the first byte of the current head arrived.
    private(set) var headStartedAt: UInt64 = 0
    /// When bytes were last read.
    private(set) var lastReadProgress: UInt64 = 0
    /// When bytes were last sent.
    private(set) var lastWriteProgress: UInt64 = 0

    /// The state of a connection accepted at `now` and registered with `interest`.
    /// - Parameters:
    ///   - settings: Limits and deadlines.
    ///   - now: The monotonic time of the accept, in ns.
    ///   - interest: What the loop registered the socket for.
    init(settings: Settings, now: UInt64, interest: Epoll.Events) {
        self.settings = settings
        self.parser = HTTPRequestParser(limits: settings.limits)
        self.idleSince = now
        self.registeredInterest = interest
    }

    // MARK: - Derived facts

    /// The unconsumed inbound byte count.
    var bufferedCount: Int { inbound.count - inboundStart }

    /// Whether bytes wait to be sent.
    var hasPendingOutput: Bool { outboundSent < outbound.count }

    /// Whether nothing of a request is in progress: no request bytes buffered, no answer pending.
    var isIdle: Bool { state == .reading && parser.isIdle && bufferedCount == 0 && !hasPendingOutput }

    /// The interest set the state calls for: bytes while reading (bounded while a request is in flight), room
    /// to write while output waits.
    var wantedInterest: Epoll.Events {
        var wanted = Epoll.Events.none
        let wantsBytes: Bool
        switch state {
        case .reading, .lingering: wantsBytes = true
        case .awaitingResponse: wantsBytes = bufferedCount < settings.limits.maxHeadBytes  // bounded pipelining
        case .closing: wantsBytes = false
        }
        if wantsBytes && !readClosed { wanted = wanted.adding(.input) }
        if hasPendingOutput { wanted = wanted.adding(.writable) }
        return wanted
    }

    /// The one deadline the state calls for, in monotonic ns, or `nil` for none.
    var deadline: UInt64? {
        if hasPendingOutput { return lastWriteProgress + settings.writeTimeout }
        switch state {
        case .lingering(let until):
            return until
        case .awaitingResponse(let inFlight):
            return inFlight.dispatchedAt + settings.responseTimeout
        case .closing:
            return nil
        case .reading:
            if parser.isReadingBody {
                return min(lastReadProgress + settings.bodyIdleTimeout, headStartedAt + settings.requestTimeout)
            }
            if parser.isIdle && bufferedCount == 0 {
                return idleSince + (requestsServed == 0 ? settings.headTimeout : settings.keepAliveTimeout)
            }
            return max(headStartedAt, idleSince) + settings.headTimeout
        }
    }
}

// MARK: - Transitions

extension ConnectionStateMachine {
    /// On bytes read: buffers them (or drops them while lingering) and notes the progress. Follow a run of reads
    /// with ``readFinished(now:date:)``.
    /// - Parameters:
    ///   - bytes: What `read` returned (not empty).
    ///   - now: The monotonic time, in ns.
    mutating func bytesRead(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        if case .lingering = state { return }  // discarded
        inbound.append(contentsOf: bytes)
        lastReadProgress = now
        if state == .reading && parser.isIdle && headStartedAt <= idleSince { headStartedAt = now }
    }

    /// After a run of reads: parses what is buffered, or ends lingering when its time is up.
    /// - Parameters:
    ///   - now: The monotonic time, in ns.
    ///   - date: The `Date` header cache, for an error answer.
    /// - Returns: What to do.
    mutating func readFinished(now: UInt64, date: inout HTTPDateCache) -> Action {
        if case .lingering(let until) = state { return now >= until ? .close(.stalled) : .nothing }
        return resume(now: now, date: &date)
    }

    /// On the peer's EOF: nothing more will be read. A request in flight is still answered, then the connection
    /// closes; one cut short is dropped (RFC 9112 §6.3 item 5).
    /// - Parameters:
    ///   - now: The monotonic time, in ns.
    ///   - date: The `Date` header cache.
    /// - Returns: What to do.
    mutating func peerClosed(now: UInt64, date: inout HTTPDateCache) -> Action {
        readClosed = true
        switch state {
        case .reading:
            let midRequest = bufferedCount > 0 || !parser.isIdle
            state = .closing  // whatever is queued is sent; with nothing queued, settling closes
            return midRequest ? .report(.peerClosedMidRequest) : resume(now: now, date: &date)
        case .awaitingResponse, .closing:
            return resume(now: now, date: &date)  // stop reading; answer, then close
        case .lingering:
            return .close(.finished)
        }
    }

    /// After the handler returned from ``Action/callHandler(_:)``.
    /// - Parameters:
    ///   - immediateResponse: The answer it gave before returning, if any.
    ///   - now: The monotonic time, in ns.
    ///   - date: The `Date` header cache.
    /// - Returns: What to do.
    mutating func handlerReturned(immediateResponse: HTTPResponse?, now: UInt64, date: inout HTTPDateCache)
        -> Action
    {
        if let immediateResponse { queue(immediateResponse, answering: serial, now: now, date: &date) }
        return resume(now: now, date: &date)
    }

    /// On an answer arriving after the handler returned (from another thread, or later on the loop thread).
    /// - Parameters:
    ///   - response: The answer.
    ///   - serial: The number of the request it answers; a stale or repeated answer is ignored.
    ///   - now: The monotonic time, in ns.
    ///   - date: The `Date` header cache.
    /// - Returns: What to do; ``Action/nothing`` for an answer nobody waits for.
    mutating func responseArrived(_ response: HTTPResponse, serial: UInt64, now: UInt64, date: inout HTTPDateCache)
        -> Action
    {
        guard queue(response, answering: serial, now: now, date: &date) else { return .nothing }
        return resume(now: now, date: &date)
    }

    /// On write progress: `count` more bytes of `outbound[outboundSent...]` were sent (0 when the socket was full).
    /// - Parameters:
    ///   - count: How many bytes `send` took in all.
    ///   - now: The monotonic time, in ns.
    /// - Returns: What to do.
    mutating func wrote(_ count: Int, now: UInt64) -> Action {
        if count > 0 {
            outboundSent += count
            lastWriteProgress = now
        }
        if !hasPendingOutput {
            outbound.removeAll(keepingCapacity: outbound.capacity <= 65536)
            outboundSent = 0
        }
        return settle()
    }

    /// After the write side was shut: linger, reading and dropping what the client still sends.
    /// - Parameter now: The monotonic time, in ns.
    /// - Returns: What to do.
    mutating func writeSideShut(now: UInt64) -> Action {
        state = .lingering(until: now + settings.lingerTimeout)
        inbound = []
        inboundStart = 0
        return settle()
    }

    /// On ``deadline`` passing.
    /// - Parameters:
    ///   - now: The monotonic time, in ns.
    ///   - date: The `Date` header cache, for the 408 or 503.
    /// - Returns: What to do.
    mutating func timedOut(now: UInt64, date: inout HTTPDateCache) -> Action {
        if hasPendingOutput { return .close(.stalled) }
        switch state {
        case .lingering:
            return .close(.stalled)
        case .reading where isIdle:
            return .close(.idle)
        case .reading:
            reject(.requestTimeout, date: &date)
            return .report(.rejected(.requestTimeout))
        case .awaitingResponse(var inFlight):
            inFlight.keepAlive = false
            state = .awaitingResponse(inFlight)
            queue(
                .error(
                    status: 503, type: "handler_timeout", message: "The request was not answered in time; retry later.",
                    headers: ["Retry-After": "1"]),
                answering: inFlight.serial, now: now, date: &date)
            return .report(.handlerTimedOut)
        case .closing:
            return settle()
        }
    }

    /// On a graceful shutdown beginning: no more keep-alive; an idle connection closes now.
    /// - Returns: ``Action/close(_:)`` when idle, else ``Action/nothing``.
    mutating func shutdownBegan() -> Action {
        isDraining = true
        return isIdle ? .close(.idle) : .nothing
    }

    /// Goes on after a reported event: parses buffered requests while reading, then sends or settles.
    /// - Parameters:
    ///   - now: The monotonic time, in ns.
    ///   - date: The `Date` header cache, for an error answer.
    /// - Returns: What to do.
    mutating func resume(now: UInt64, date: inout HTTPDateCache) -> Action {
        while state == .reading && bufferedCount > 0 {
            let consumed: Int
            let step: HTTPRequestParser.Step
            do {
                let bytes = inbound  // a second reference, dropped before `inbound` is changed again
                (consumed, step) = bytes.withUnsafeBufferPointer { buffer in
                    parser.parse(UnsafeBufferPointer(rebasing: buffer[inboundStart...]))
                }
            }
            inboundStart += consumed
            switch consume step {
            case .needMore:
                compactInbound()
                return hasPendingOutput ? .send : settle()
            case .headComplete(let expectsContinue):
                if expectsContinue && bufferedCount == 0 {
                    outbound.append(contentsOf: ResponseSerializer.continueResponse)
                }
            case .request(let request, let keepAlive):
                serial &+= 1
                requestsServed += 1
                let keep = keepAlive && !isDraining && !readClosed && requestsServed < settings.maxRequestsPerConnection
                state = .awaitingResponse(
                    InFlight(
                        serial: serial, keepAlive: keep, omitBody: request.method == "HEAD",
                        minorVersion: request.minorVersion, dispatchedAt: now))
                return .callHandler(request)
            case .failure(let error):
                reject(error, date: &date)
                return .report(.rejected(error))
            }
        }
        compactInbound()
        return hasPendingOutput ? .send : settle()
    }

    // MARK: - Steps shared by the transitions

    /// With output flushed as far as it goes: shut the write side or close when due, else wait.
    private mutating func settle() -> Action {
        if state == .closing && !hasPendingOutput { return readClosed ? .close(.finished) : .shutdownWrite }
        if state == .reading && isDraining && isIdle { return .close(.idle) }
        let wanted = wantedInterest
        let changed = wanted.rawValue != registeredInterest.rawValue
        registeredInterest = wanted
        return .wait(interestChanged: changed)
    }

    /// Queues the answer to request `serial` if it is the one awaited.
    /// - Returns: Whether it was queued; late or repeated answers are not.
    @discardableResult
    private mutating func queue(
        _ response: HTTPResponse, answering serial: UInt64, now: UInt64, date: inout HTTPDateCache
    )
        -> Bool
    {
        guard case .awaitingResponse(let inFlight) = state, inFlight.serial == serial else { return false }
        let keepAlive = inFlight.keepAlive && !isDraining && !readClosed
        ResponseSerializer.append(
            response,
            context: .init(omitBody: inFlight.omitBody, keepAlive: keepAlive, minorVersion: inFlight.minorVersion),
            date: date.current(), to: &outbound)
        if keepAlive {
            state = .reading
            idleSince = now
            headStartedAt = bufferedCount > 0 ? now : 0
        } else {
            state = .closing
        }
        return true
    }

    /// Queues the answer to a parse error (or a request timeout); the connection closes after writing it.
    private mutating func reject(_ error: HTTPParseError, date: inout HTTPDateCache) {
        ResponseSerializer.append(
            error.response, context: .init(omitBody: false, keepAlive: false, minorVersion: 1), date: date.current(),
            to: &outbound)
        state = .closing
    }

    /// Drops consumed inbound bytes, keeping capacity.
    private mutating func compactInbound() {
        if inboundStart == inbound.count {
            inbound.removeAll(keepingCapacity: true)
            inboundStart = 0
        } else if inboundStart >= 4096 && inboundStart * 2 >= inbound.count {
            inbound.removeFirst(inboundStart)
            inboundStart = 0
        }
    }
}
