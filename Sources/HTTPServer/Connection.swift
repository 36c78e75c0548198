import SystemCalls

/// The state of one client connection. Owned by the event-loop thread; nothing else touches it.
final class Connection {
    /// Where the connection is in its request/response cycle.
    enum Phase {
        /// Parsing: between requests (idle) or inside a head or body.
        case reading
        /// A request was handed to the handler; its answer has not come yet.
        case awaitingResponse
        /// The last response is queued; once written, the write side is shut and the connection lingers.
        case closing
        /// Write side shut; unread client bytes are drained until EOF or the linger deadline, then closed.
        case lingering
    }

    /// The request being answered.
    struct InFlight {
        /// The request's number on this connection.
        var serial: UInt64
        /// Whether the connection stays open after the answer.
        var keepAlive: Bool
        /// Whether the request was HEAD.
        var omitBody: Bool
        /// The request's minor HTTP version.
        var minorVersion: Int
    }

    /// The socket.
    let fd: FileDescriptor
    /// Distinguishes this connection from earlier ones that had the same descriptor number.
    let generation: UInt32
    /// The peer's address, when it is IPv4 or IPv6.
    let peer: IPAddress?
    /// The peer's address as text, for logs and ``HTTPRequest/clientAddress``.
    let peerText: String

    /// Where the connection is in its request/response cycle.
    var phase: Phase = .reading
    /// The request parser, carrying state between reads.
    var parser: HTTPRequestParser
    /// Received bytes; `inbound[inboundStart...]` are not consumed yet.
    var inbound: [UInt8] = []
    var inboundStart = 0
    /// Bytes to send; `outbound[outboundSent...]` are not sent yet.
    var outbound: [UInt8] = []
    var outboundSent = 0

    /// The request being answered, while one is.
    var inFlight: InFlight?
    /// A response given on the loop thread while the handler was still running.
    var immediateResponse: HTTPResponse?
    /// The number of the latest request handed to the handler; answers carry it so stale ones are ignored.
    var serial: UInt64 = 0
    /// Requests handed to the handler so far.
    var requestsServed = 0
    /// The peer sent EOF: nothing more will be read.
    var readClosed = false
    /// The interest set registered with epoll.
    var registeredEvents: Epoll.Events

    /// Monotonic times (ns) that drive the deadlines.
    /// When the connection last became idle (accepted, or a response queued with keep-alive).
    var idleSince: UInt64
    /// When the first byte of the current head arrived.
    var headStartedAt: UInt64 = 0
    /// When the current request was handed to the handler.
    var dispatchedAt: UInt64 = 0
    /// When bytes were last read.
    var lastReadProgress: UInt64 = 0
    /// When bytes were last sent.
    var lastWriteProgress: UInt64 = 0
    /// When lingering ends.
    var lingerUntil: UInt64 = 0

    /// Creates the state of a just-accepted connection registered with `events`.
    init(
        fd: FileDescriptor, generation: UInt32, peer: IPAddress?, peerText: String, limits: HTTPRequestParser.Limits,
        now: UInt64, events: Epoll.Events
    ) {
        self.fd = fd
        self.generation = generation
        self.peer = peer
        self.peerText = peerText
        self.parser = HTTPRequestParser(limits: limits)
        self.idleSince = now
        self.registeredEvents = events
    }

    /// The unconsumed inbound byte count.
    var bufferedCount: Int { inbound.count - inboundStart }

    /// Whether bytes wait to be sent.
    var hasPendingOutput: Bool { outboundSent < outbound.count }

    /// Whether nothing of a request is in progress: no request bytes buffered, no answer pending.
    var isIdle: Bool { phase == .reading && parser.isIdle && bufferedCount == 0 && !hasPendingOutput }

    /// Drops consumed inbound bytes, keeping capacity.
    func compactInbound() {
        if inboundStart == inbound.count {
            inbound.removeAll(keepingCapacity: true)
            inboundStart = 0
        } else if inboundStart >= 4096 && inboundStart * 2 >= inbound.count {
            inbound.removeFirst(inboundStart)
            inboundStart = 0
        }
    }
}
