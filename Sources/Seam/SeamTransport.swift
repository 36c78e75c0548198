import Foundation

/// One HTTP request to Seam, as the client builds it.
public struct SeamHTTPRequest: Sendable {
    /// The method; Latchkey sends `POST` for every route.
    public var method: String
    /// The absolute URL (endpoint + route).
    public var url: URL
    /// Header fields in the order they are sent. Includes `Authorization`: never log them.
    public var headers: [(name: String, value: String)]
    /// The JSON body.
    public var body: Data

    /// Creates a request.
    public init(method: String, url: URL, headers: [(name: String, value: String)], body: Data) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The value of the first header named `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// One HTTP response from Seam.
public struct SeamHTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields, names lower-cased.
    public var headers: [String: String]
    /// The body bytes.
    public var body: Data

    /// Creates a response; header names are lower-cased.
    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.body = body
    }

    /// The value of the header named `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why an exchange produced no HTTP response at all.
public enum SeamTransportError: Error, Sendable, Equatable {
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
public protocol SeamTransport: Sendable {
    /// Sends `request`.
    /// - Returns: The response, for any status (4xx and 5xx are responses, not errors).
    /// - Throws: ``SeamTransportError`` when no response arrived.
    func send(_ request: SeamHTTPRequest) async throws(SeamTransportError) -> SeamHTTPResponse
}
