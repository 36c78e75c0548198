import HTTPServer
import Logging

/// Runs `body` against Latchkey's HTTP listener serving `handler` on 127.0.0.1, on a port the kernel picks, then
/// shuts the listener down and waits until it has stopped, also when `body` throws.
/// - Parameters:
///   - handler: What answers the requests.
///   - logger: The listener's logger; ``quietLogger`` unless the test wants the log on its output.
///   - body: The test, given the started listener (its `port`).
/// - Returns: What `body` returns.
/// - Throws: ``HTTPServerError`` when the listener cannot start, or what `body` throws.
package func withLoopbackServer<Result>(
    handler: any HTTPHandler, logger: Logger = quietLogger, _ body: (HTTPServer) async throws -> Result
) async throws -> Result {
    let server = try HTTPServer(configuration: HTTPServerConfiguration(port: 0), handler: handler, logger: logger)
    server.start()
    defer {
        server.beginShutdown()
        server.waitUntilStopped()
    }
    return try await body(server)
}
