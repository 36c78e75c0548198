import Glibc

/// Writes responses as bytes: status line, the handler's fields, then the fields the server owns
/// (`Content-Length`, `Date`, `Connection`), the blank line and the body, into one buffer sent with one call.
enum ResponseSerializer {
    /// How the request being answered shapes its response.
    struct Context {
        /// True for HEAD: `Content-Length` says what a GET would send, and no body is written.
        var omitBody: Bool
        /// Whether the connection stays open after this response.
        var keepAlive: Bool
        /// The request's minor version: HTTP/1.0 keep-alive must be announced.
        var minorVersion: Int
    }

    /// Appends `response` to `buffer`. A response whose fields could split the head (CR, LF or NUL in a value, a
    /// name that is not a token) is replaced by a 500, because writing it would let a handler smuggle a response.
    static func append(_ response: HTTPResponse, context: Context, date: [UInt8], to buffer: inout [UInt8]) {
        guard isWritable(response.headers) else {
            let replacement = HTTPResponse.error(
                status: 500, type: "internal",
                message: "The handler produced an invalid header field; this is a server bug.")
            append(replacement, context: context, date: date, to: &buffer)
            return
        }
        let status = (100...599).contains(response.status) ? response.status : 500
        let bodyAllowed = status >= 200 && status != 204 && status != 304
        buffer.reserveCapacity(buffer.count + 160 + response.body.count)
        appendASCII("HTTP/1.1 ", to: &buffer)
        appendDecimal(status, to: &buffer)
        buffer.append(.space)
        appendASCII(reasonPhrase(status), to: &buffer)
        appendCRLF(to: &buffer)
        for field in response.headers.fields where !isServerOwned(field.name) {
            appendASCII(field.name, to: &buffer)
            buffer.append(.colon)
            buffer.append(.space)
            appendASCII(field.value, to: &buffer)
            appendCRLF(to: &buffer)
        }
        if bodyAllowed {
            appendASCII("Content-Length: ", to: &buffer)
            appendDecimal(response.body.count, to: &buffer)
            appendCRLF(to: &buffer)
        }
        appendASCII("Date: ", to: &buffer)
        buffer.append(contentsOf: date)
        appendCRLF(to: &buffer)
        if !context.keepAlive {
            appendASCII("Connection: close\r\n", to: &buffer)
        } else {
            appendASCII("Connection: keep-alive\r\n", to: &buffer)
        }
        appendCRLF(to: &buffer)
        if bodyAllowed && !context.omitBody { buffer.append(contentsOf: response.body) }
    }

    /// The interim `100 Continue` answer to `Expect: 100-continue`.
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private static func isServerOwned(_ name: String) -> Bool {
        name.caseInsensitiveEquals("Content-Length") || name.caseInsensitiveEquals("Date")
            || name.caseInsensitiveEquals("Connection") || name.caseInsensitiveEquals("Transfer-Encoding")
    }

    private static func isWritable(_ headers: HTTPHeaders) -> Bool {
        for field in headers.fields {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(isTokenByte) else { return false }
            guard field.value.utf8.allSatisfy({ $0 == .tab || ($0 >= .space && $0 != 0x7F) }) else { return false }
        }
        return true
    }

    private static func appendASCII(_ string: String, to buffer: inout [UInt8]) {
        var string = string
        string.withUTF8 { buffer.append(contentsOf: $0) }
    }

    private static func appendCRLF(to buffer: inout [UInt8]) {
        buffer.append(.cr)
        buffer.append(.lf)
    }

    private static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        appendASCII(String(value), to: &buffer)  // a small string: no allocation
    }

    /// The reason phrase of `status` (RFC 9110 §15), or an empty one for codes without a registered phrase.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}

/// The `Date` field value (IMF-fixdate, RFC 9110 §5.6.7), formatted at most once per second.
struct HTTPDateCache {
    private var second: Int = -1
    private(set) var bytes: [UInt8] = []

    /// The date for now, reformatted when the wall-clock second changed.
    mutating func current() -> [UInt8] {
        var now = time(nil)
        if now == second { return bytes }
        second = now
        var parts = tm()
        gmtime_r(&now, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text =
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        bytes = Array(text.utf8)
        return bytes
    }
}
