/// What ``ConnectionStateMachine``'s transitions return, and the settings it runs on.
extension ConnectionStateMachine {
    /// What the loop does next.
    enum Action {
        /// Hand `request` to the handler, then report with ``handlerReturned(immediateResponse:now:date:)``.
        case callHandler(HTTPRequest)
        /// Send `outbound[outboundSent...]` until done or the socket is full, then report with ``wrote(_:now:)``.
        case send
        /// Shut the socket's write side, then report with ``writeSideShut(now:)``.
        case shutdownWrite
        /// Log `report`, then continue with ``resume(now:date:)``.
        case report(Report)
        /// Wait for the next event: re-register ``registeredInterest`` when `interestChanged`, and arm the timer
        /// at ``deadline``.
        case wait(interestChanged: Bool)
        /// Close the socket; the connection is over.
        case close(CloseReason)
        /// Nothing changed (a stale answer, a connection that stays as it is).
        case nothing
    }

    /// Something worth a debug log line, reported before the machine goes on.
    enum Report: Equatable {
        /// A request was refused with `error`'s status; the connection closes after the answer.
        case rejected(HTTPParseError)
        /// The handler did not answer within the response timeout; a 503 was queued.
        case handlerTimedOut
        /// The peer sent EOF in the middle of a request.
        case peerClosedMidRequest
    }

    /// Why a connection is closed.
    enum CloseReason: Equatable {
        /// The exchange ended normally (EOF after the last answer, or lingering ended by EOF).
        case finished
        /// Idle past its deadline, or idle when a shutdown began.
        case idle
        /// Output stalled past the write timeout, or the linger period is over.
        case stalled
    }

    /// The limits and deadlines, in nanoseconds, from ``HTTPServerConfiguration``.
    struct Settings {
        /// ``HTTPServerConfiguration/headTimeout``.
        var headTimeout: UInt64
        /// ``HTTPServerConfiguration/keepAliveTimeout``.
        var keepAliveTimeout: UInt64
        /// ``HTTPServerConfiguration/bodyIdleTimeout``.
        var bodyIdleTimeout: UInt64
        /// ``HTTPServerConfiguration/requestTimeout``.
        var requestTimeout: UInt64
        /// ``HTTPServerConfiguration/responseTimeout``.
        var responseTimeout: UInt64
        /// ``HTTPServerConfiguration/writeTimeout``.
        var writeTimeout: UInt64
        /// ``HTTPServerConfiguration/lingerTimeout``.
        var lingerTimeout: UInt64
        /// ``HTTPServerConfiguration/maxRequestsPerConnection``.
        var maxRequestsPerConnection: Int
        /// The parser's limits; `maxHeadBytes` also bounds the bytes buffered behind a request in flight.
        var limits: HTTPRequestParser.Limits

        /// The settings of `configuration`.
        /// - Parameter configuration: The server's configuration.
        init(_ configuration: HTTPServerConfiguration) {
            headTimeout = configuration.headTimeout.nanoseconds
            keepAliveTimeout = configuration.keepAliveTimeout.nanoseconds
            bodyIdleTimeout = configuration.bodyIdleTimeout.nanoseconds
            requestTimeout = configuration.requestTimeout.nanoseconds
            responseTimeout = configuration.responseTimeout.nanoseconds
            writeTimeout = configuration.writeTimeout.nanoseconds
            lingerTimeout = configuration.lingerTimeout.nanoseconds
            maxRequestsPerConnection = configuration.maxRequestsPerConnection
            limits = configuration.parserLimits
        }
    }
}
