/// Routes requests by method and path to handlers; answers 404 and 405 (with `Allow`) itself.
///
/// Patterns are literal segments and `{name}` captures, e.g. `/webhooks/{source}`. A capture matches one
/// non-empty segment and is handed to the handler in ``HTTPRequest/pathParameters``. Routes are tried in the
/// order added; the first match wins. `HEAD` is served by a `GET` route when no `HEAD` route exists (the
/// server drops the body).
package struct Router: HTTPHandler {
    /// A handler of one route: answers through the responder, now or later, exactly once.
    package typealias Handler = @Sendable (HTTPRequest, Responder) -> Void

    private struct Route: Sendable {
        let method: String
        let segments: [Segment]
        let handler: Handler
    }

    private enum Segment: Sendable, Equatable {
        case literal(String)
        case capture(String)
    }

    private var routes: [Route] = []

    /// Creates an empty router.
    package init() {}

    /// Adds a route whose handler answers through a responder (for work that finishes later).
    /// - Parameters:
    ///   - method: The method, e.g. `POST`.
    ///   - pattern: The path pattern, e.g. `/webhooks/{source}`.
    ///   - handler: The handler.
    package mutating func add(_ method: String, _ pattern: String, handler: @escaping Handler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: true).map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") {
                return .capture(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    /// Adds a route answered at once, on the calling thread.
    package mutating func add(
        _ method: String, _ pattern: String, answer: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) {
        add(method, pattern) { request, responder in responder(answer(request)) }
    }

    /// Adds a route answered by async work; the answer is sent when the work returns.
    package mutating func add(
        _ method: String, _ pattern: String, async work: @escaping @Sendable (HTTPRequest) async -> HTTPResponse
    ) {
        add(method, pattern) { request, responder in
            Task { responder(await work(request)) }
        }
    }

    /// Routes `request`: to the matching handler, or a 405 with `Allow`, or a 404.
    package func handle(_ request: HTTPRequest, responder: Responder) {
        let pathSegments = request.path.utf8.split(separator: UInt8(ascii: "/")).map { Substring($0) }
        var allowed: [String] = []
        var getMatch: (Route, [String: String])?
        for route in routes {
            guard let parameters = match(route.segments, pathSegments) else { continue }
            if route.method == request.method {
                var routed = request
                routed.pathParameters = parameters
                route.handler(routed, responder)
                return
            }
            if route.method == "GET" && getMatch == nil { getMatch = (route, parameters) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        if request.method == "HEAD", let (route, parameters) = getMatch {
            var routed = request
            routed.pathParameters = parameters
            route.handler(routed, responder)
            return
        }
        if allowed.isEmpty {
            responder(.error(status: 404, type: "not_found", message: "No route for \(request.path)."))
        } else {
            if allowed.contains("GET") && !allowed.contains("HEAD") { allowed.append("HEAD") }
            let allow = allowed.joined(separator: ", ")
            responder(
                .error(
                    status: 405,
                    type: "method_not_allowed",
                    message: "\(request.method) is not allowed on \(request.path); use \(allow).",
                    headers: ["Allow": allow]
                )
            )
        }
    }

    private func match(_ segments: [Segment], _ path: [Substring]) -> [String: String]? {
        guard segments.count == path.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let literal): if literal != part { return nil }
            case .capture(let name): parameters[name] = String(part).percentDecodedPathComponent
            }
        }
        return parameters
    }
}
