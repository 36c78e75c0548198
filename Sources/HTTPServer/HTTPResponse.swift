import Foundation

/// An HTTP response to be written by the server in one buffer (head and body together).
package struct HTTPResponse: Sendable {
    /// The status code, 100…599.
    package var status: Int
    /// Header fields; the server adds `Content-Length`, `Date` and `Connection` itself.
    package var headers: HTTPHeaders
    /// The body bytes.
    package var body: [UInt8]

    /// Creates a response.
    package init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response whose body is `value` encoded as JSON, with `Content-Type: application/json`.
    /// - Parameters:
    ///   - status: The status code.
    ///   - value: What to encode; keys are sorted so bodies are byte-stable.
    ///   - headers: Extra header fields.
    package static func json(status: Int, _ value: some Encodable, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body =
            (try? encoder.encode(value)).map { [UInt8]($0) }
            ?? Array(#"{"error":{"type":"internal","message":"response encoding failed"}}"#.utf8)
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// The error answer every failure uses: `{"error":{"type":…,"message":…}}`.
    /// - Parameters:
    ///   - status: The status code.
    ///   - type: A stable machine-readable name of the problem (`invalid_signature`, `body_too_large`, …).
    ///   - message: What was wrong and what to do, for a person. Never a secret.
    ///   - headers: Extra header fields (`Allow`, `Retry-After`, …).
    package static func error(status: Int, type: String, message: String, headers: HTTPHeaders = HTTPHeaders())
        -> HTTPResponse
    {
        json(status: status, ErrorBody(error: .init(type: type, message: message)), headers: headers)
    }

    /// The wire shape of an error body.
    package struct ErrorBody: Codable, Sendable, Equatable {
        /// The problem.
        package var error: Detail
        /// The problem's type and message.
        package struct Detail: Codable, Sendable, Equatable {
            /// A stable machine-readable name of the problem.
            package var type: String
            /// A message for a person.
            package var message: String
        }
    }
}

/// Delivers the response to one request, from any thread, exactly once.
///
/// The server hands one to each handler. A handler that answers at once calls it before returning;
/// one that waits (for a durable write, say) keeps it and calls it later from wherever the work finished.
package struct Responder: Sendable {
    private let deliver: @Sendable (HTTPResponse) -> Void

    /// Creates a responder around the server's (or a test's) delivery function.
    package init(_ deliver: @escaping @Sendable (HTTPResponse) -> Void) {
        self.deliver = deliver
    }

    /// Sends `response` as the answer to the request. Calling it more than once is a programming error;
    /// the server ignores every call after the first.
    package func callAsFunction(_ response: HTTPResponse) {
        deliver(response)
    }
}

/// Something that answers HTTP requests: a router, a whole application, or a test double.
package protocol HTTPHandler: Sendable {
    /// Handles one request and answers it through `responder`, now or later, exactly once.
    func handle(_ request: HTTPRequest, responder: Responder)
}
