import SystemCalls

/// One client connection: its socket and identity, and the one mutable thing about it, its
/// ``ConnectionStateMachine``. Owned by the event-loop thread; nothing else touches it.
final class Connection {
    /// The socket.
    let fd: FileDescriptor
    /// Distinguishes this connection from earlier ones that had the same descriptor number.
    let generation: UInt32
    /// The peer's address, when it is IPv4 or IPv6.
    let peer: IPAddress?
    /// The peer's address as text, for logs and ``HTTPRequest/clientAddress``.
    let peerText: String
    /// The protocol state; changed only through its transitions.
    var machine: ConnectionStateMachine

    /// Creates a just-accepted connection.
    /// - Parameters:
    ///   - fd: The socket.
    ///   - generation: Tells it apart from earlier connections on the same descriptor number.
    ///   - peer: The peer's address, if IPv4 or IPv6.
    ///   - peerText: The peer's address as text.
    ///   - machine: Its initial state.
    init(
        fd: FileDescriptor, generation: UInt32, peer: IPAddress?, peerText: String, machine: ConnectionStateMachine
    ) {
        self.fd = fd
        self.generation = generation
        self.peer = peer
        self.peerText = peerText
        self.machine = machine
    }

    /// The tag the connection's epoll registration carries: generation and descriptor number.
    var selectorData: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd.rawValue)) }
}
