import Foundation

/// One HTTP request to Seam, as the client builds it.
package struct SeamHTTPRequest: Sendable {
    /// The method; Latchkey sends `POST` for every route.
    package var method: String
    /// The absolute URL (endpoint + route).
    package var url: URL
    /// Header fields in the order they are sent. Includes `Authorization`: never log them.
    package var headers: [(name: String, value: String)]
    /// The JSON body.
    package var body: Data

    /// Creates a request.
    package init(method: String, url: URL, headers: [(name: String, value: String)], body: Data) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The value of the first header named `name` (case-insensitive), if any.
    package func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// One HTTP response from Seam.
package struct SeamHTTPResponse: Sendable {
    /// The status code.
    package var status: Int
    /// Header fields, names lower-cased.
    package var headers: [String: String]
    /// The body bytes.
    package var body: Data

    /// Creates a response; header names are lower-cased.
    package init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(
            headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.body = body
    }

    /// The value of the header named `name` (case-insensitive), if any.
    package func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why an exchange produced no HTTP response at all.
package enum SeamTransportError: Error, Sendable, Equatable {
    /// The connection or the response did not come within the configured timeout. The call may have reached Seam.
    case timedOut
    /// The connection could not be made (refused, DNS, TLS, network down) or broke; `reason` says how.
    case connectionFailed(reason: String)
    /// The calling task was cancelled.
    case cancelled
}

/// Sends one request and returns Seam's response, whatever its status.
///
/// The only test seam of the client: the product uses ``URLSessionSeamTransport``; unit tests of the paging
/// loop and error mapping plug in a transport that answers from memory.
package protocol SeamTransport: Sendable {
    /// Sends `request`.
    /// - Returns: The response, for any status (4xx and 5xx are responses, not errors).
    /// - Throws: ``SeamTransportError`` when no response arrived.
    func send(_ request: SeamHTTPRequest) async throws(SeamTransportError) -> SeamHTTPResponse
}
