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
        var serial: UInt64
        var keepAlive: Bool
        var omitBody: Bool
        var minorVersion: Int
    }

    let fd: Int32
    let generation: UInt32
    let peer: IPAddress?
    let peerText: String

    var phase: Phase = .reading
    var parser: HTTPRequestParser
    /// Received bytes; `inbound[inboundStart...]` are not consumed yet.
    var inbound: [UInt8] = []
    var inboundStart = 0
    /// Bytes to send; `outbound[outboundSent...]` are not sent yet.
    var outbound: [UInt8] = []
    var outboundSent = 0

    var inFlight: InFlight?
    /// A response given on the loop thread while the handler was still running.
    var immediateResponse: HTTPResponse?
    var serial: UInt64 = 0
    var requestsServed = 0
    /// The peer sent EOF: nothing more will be read.
    var readClosed = false
    /// The interest set registered with epoll.
    var registeredEvents: UInt32

    /// Monotonic times (ns) that drive the deadlines.
    var idleSince: UInt64
    var headStartedAt: UInt64 = 0
    var lastReadProgress: UInt64 = 0
    var lastWriteProgress: UInt64 = 0
    var lingerUntil: UInt64 = 0

    init(fd: Int32, generation: UInt32, peer: IPAddress?, peerText: String, limits: HTTPRequestParser.Limits, now: UInt64, events: UInt32) {
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
