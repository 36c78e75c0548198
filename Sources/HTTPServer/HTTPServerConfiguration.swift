import SystemCalls

/// Everything the HTTP listener can be told: where to listen, its limits and its deadlines.
///
/// Every limit answers a client that exceeds it with the status named on the field, then closes the connection.
/// Defaults suit a webhook sink on loopback behind nginx (which already bounds the public side).
package struct HTTPServerConfiguration: Sendable {
    /// The address to listen on, an IPv4 or IPv6 literal. Default `"127.0.0.1"`.
    package var host: String
    /// The TCP port to listen on; 0 picks a free one (read it back from ``HTTPServer/port``). Default 8080.
    package var port: Int
    /// The listen backlog, in connections. Default 1024.
    package var backlog: Int

    /// The largest request head (request line, header fields and the blank line), in bytes; larger gets 431.
    /// Also bounds a chunked body's trailer section. Default 16384 (16 KiB).
    package var maxHeadBytes: Int
    /// The most header fields in one request; more gets 431. Also bounds trailer fields. Default 100.
    package var maxHeaderCount: Int
    /// The largest request body, in bytes, after de-chunking; larger gets 413 (decided from `Content-Length`
    /// before any body byte is read). Default 1048576 (1 MiB).
    package var maxBodyBytes: Int
    /// The longest chunk extension on one chunk-size line, in bytes; longer gets 400. Default 256.
    package var maxChunkExtensionBytes: Int
    /// The most open client connections; a connection accepted past it is answered 503 and closed at once.
    /// Default 1024. Keep it below the process's file-descriptor limit.
    package var maxConnections: Int
    /// The most requests served on one connection; the last is answered with `Connection: close`. Default 1000.
    package var maxRequestsPerConnection: Int

    /// How long a client has to send a whole request head, from its first byte (or from connect); then 408 and
    /// close. Default 10 seconds.
    package var headTimeout: Duration
    /// The longest gap between two reads of a request body; then 408 and close. Default 10 seconds.
    package var bodyIdleTimeout: Duration
    /// How long a client has to send a whole request, head and body, from its first byte; then 408 and close.
    /// Bounds a body trickled a byte at a time, which ``bodyIdleTimeout`` alone would let run forever.
    /// Default 30 seconds.
    package var requestTimeout: Duration
    /// How long an idle keep-alive connection is kept between requests; then it is closed silently.
    /// Default 30 seconds (below nginx's upstream `keepalive_timeout` of 60 s, so nginx never reuses a
    /// connection this server is closing).
    package var keepAliveTimeout: Duration
    /// How long the handler has to answer a request; then the server answers 503 (`handler_timeout`,
    /// `Retry-After: 1`) with `Connection: close` and ignores the late answer. Default 30 seconds.
    package var responseTimeout: Duration
    /// How long a response may sit unwritten because the client does not read; then the connection is closed.
    /// Default 10 seconds.
    package var writeTimeout: Duration
    /// After the last response on a closing connection, how long unread client bytes are drained before the
    /// close (RFC 9112 §9.6 lingering close, so a reset does not destroy the response). Default 2 seconds.
    package var lingerTimeout: Duration
    /// How long a graceful shutdown waits for in-flight requests before cutting their connections.
    /// Default 10 seconds.
    package var drainTimeout: Duration

    /// Peers (CIDR blocks or single addresses) whose `X-Forwarded-For` / `X-Real-IP` are believed.
    /// Default `["127.0.0.0/8", "::1/128"]` (loopback: nginx on the same host).
    package var trustedProxies: [String]
    /// Whether this server turns SIGTERM and SIGINT into a graceful shutdown (through a signalfd; the signals are
    /// blocked on the thread that creates the server, so create it from the main thread before others start).
    /// Only one server per process should. Default `false`.
    package var handlesSignals: Bool
    /// How many event-loop threads serve connections, each with its own listening socket on the same port
    /// (`SO_REUSEPORT`: the kernel spreads new connections across them) and its share of ``maxConnections``.
    /// Handlers then run on several threads at once. Another process of the same user that also sets
    /// `SO_REUSEPORT` could then bind the port too; with 1 (no `SO_REUSEPORT`) it gets `EADDRINUSE`. Default 1.
    package var eventLoops: Int

    /// Creates a configuration; every parameter has the default documented on its property.
    package init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        backlog: Int = 1024,
        maxHeadBytes: Int = 16384,
        maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 1_048_576,
        maxChunkExtensionBytes: Int = 256,
        maxConnections: Int = 1024,
        maxRequestsPerConnection: Int = 1000,
        headTimeout: Duration = .seconds(10),
        bodyIdleTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(30),
        keepAliveTimeout: Duration = .seconds(30),
        responseTimeout: Duration = .seconds(30),
        writeTimeout: Duration = .seconds(10),
        lingerTimeout: Duration = .seconds(2),
        drainTimeout: Duration = .seconds(10),
        trustedProxies: [String] = ["127.0.0.0/8", "::1/128"],
        handlesSignals: Bool = false,
        eventLoops: Int = 1
    ) {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkExtensionBytes = maxChunkExtensionBytes
        self.maxConnections = maxConnections
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.headTimeout = headTimeout
        self.bodyIdleTimeout = bodyIdleTimeout
        self.requestTimeout = requestTimeout
        self.keepAliveTimeout = keepAliveTimeout
        self.responseTimeout = responseTimeout
        self.writeTimeout = writeTimeout
        self.lingerTimeout = lingerTimeout
        self.drainTimeout = drainTimeout
        self.trustedProxies = trustedProxies
        self.handlesSignals = handlesSignals
        self.eventLoops = eventLoops
    }

    /// Checks that every limit and deadline is usable.
    /// - Throws: ``HTTPServerError`` naming the first field that is not, and what it must be.
    package func validate() throws(HTTPServerError) {
        let counts: [(String, Int, Int)] = [
            ("backlog", backlog, 1), ("maxHeadBytes", maxHeadBytes, 64), ("maxHeaderCount", maxHeaderCount, 1),
            ("maxBodyBytes", maxBodyBytes, 0), ("maxChunkExtensionBytes", maxChunkExtensionBytes, 0),
            ("maxConnections", maxConnections, 1), ("eventLoops", eventLoops, 1),
            ("maxRequestsPerConnection", maxRequestsPerConnection, 1),
        ]
        for (name, value, minimum) in counts where value < minimum {
            throw HTTPServerError("\(name) is \(value); it must be at least \(minimum)")
        }
        let durations: [(String, Duration)] = [
            ("headTimeout", headTimeout), ("bodyIdleTimeout", bodyIdleTimeout), ("requestTimeout", requestTimeout),
            ("keepAliveTimeout", keepAliveTimeout),
            ("responseTimeout", responseTimeout),
            ("writeTimeout", writeTimeout), ("lingerTimeout", lingerTimeout), ("drainTimeout", drainTimeout),
        ]
        for (name, value) in durations where value <= .zero {
            throw HTTPServerError("\(name) is \(value); it must be positive")
        }
    }

    /// The parser's share of the limits.
    var parserLimits: HTTPRequestParser.Limits {
        HTTPRequestParser.Limits(
            maxHeadBytes: maxHeadBytes,
            maxHeaderCount: maxHeaderCount,
            maxBodyBytes: maxBodyBytes,
            maxChunkExtensionBytes: maxChunkExtensionBytes
        )
    }
}

/// A configuration or startup problem, with what to change.
package struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// What was wrong and what to do.
    package let message: String
    /// The failed system call, when there was one.
    package let underlying: SystemCallError?

    /// Creates the error.
    package init(_ message: String, underlying: SystemCallError? = nil) {
        self.message = message
        self.underlying = underlying
    }

    /// The message, followed by the failed call.
    package var description: String {
        underlying.map { "\(message) (\($0))" } ?? message
    }
}

extension Duration {
    /// This duration in whole nanoseconds, clamped to 0…UInt64.max.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (product, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product &+ UInt64(attoseconds / 1_000_000_000)
    }
}
