/// A complete HTTP/1.1 request, parsed strictly and with its whole body read.
package struct HTTPRequest: Sendable {
    /// The method token as received (`GET`, `POST`, …). Methods are case-sensitive (RFC 9110 §9.1).
    package var method: String
    /// The request target as received (origin form: path and optional query).
    package var target: String
    /// The path part of the target, without the query, percent-encoding kept.
    package var path: String
    /// The query part of the target after `?`, or `nil` when there is none.
    package var query: String?
    /// The protocol minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    package var minorVersion: Int
    /// The header fields in the order received.
    package var headers: HTTPHeaders
    /// The body, de-chunked when it came chunked. Empty when there was none.
    package var body: [UInt8]
    /// The client's address: the peer's, or the one a trusted proxy forwarded (`X-Forwarded-For`, `X-Real-IP`).
    package var clientAddress: String
    /// Parameters captured by the router from `{name}` segments of the matched route.
    package var pathParameters: [String: String]
    /// A process-unique id of this request, for logs and error bodies.
    package var requestID: String

    /// Creates a request; the server and tests build these.
    package init(
        method: String,
        target: String,
        minorVersion: Int = 1,
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = [],
        clientAddress: String = "127.0.0.1",
        requestID: String = "test"
    ) {
        self.method = method
        self.target = target
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.path = String(target[..<q])
            self.query = String(target[target.utf8.index(after: q)...])
        } else {
            self.path = target
            self.query = nil
        }
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
        self.pathParameters = [:]
        self.requestID = requestID
    }

    /// The query's parameters, percent-decoded (`+` read as a space), in order; repeats kept.
    package var queryItems: [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).percentDecodedFormComponent
            let value = parts.count > 1 ? String(parts[1]).percentDecodedFormComponent : ""
            return (name, value)
        }
    }
}

extension String {
    /// This string with `+` read as a space and `%XX` escapes decoded; invalid escapes are kept as they are.
    /// For query components (`application/x-www-form-urlencoded`).
    package var percentDecodedFormComponent: String { percentDecoded(plusIsSpace: true) }

    /// This string with `%XX` escapes decoded and `+` kept; invalid escapes are kept as they are.
    /// For path segments, where `+` is an ordinary character (RFC 3986 §3.3).
    package var percentDecodedPathComponent: String { percentDecoded(plusIsSpace: false) }

    private func percentDecoded(plusIsSpace: Bool) -> String {
        guard utf8.contains(UInt8(ascii: "%")) || (plusIsSpace && utf8.contains(UInt8(ascii: "+"))) else { return self }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var iterator = Array(utf8)[...]
        while let byte = iterator.popFirst() {
            if plusIsSpace && byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let hi = hexValue(iterator[iterator.startIndex]),
                let lo = hexValue(iterator[iterator.startIndex + 1])
            {
                bytes.append(hi << 4 | lo)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
