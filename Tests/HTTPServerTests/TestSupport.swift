import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import HTTPServer

/// A handler made of a closure.
struct ClosureHandler: HTTPHandler {
    let body: @Sendable (HTTPRequest, Responder) -> Void
    func handle(_ request: HTTPRequest, responder: Responder) { body(request, responder) }
}

/// A handler that answers 200 with the request's method and target as the body, and records every request.
final class RecordingHandler: HTTPHandler {
    let requests = Mutex<[HTTPRequest]>([])

    func handle(_ request: HTTPRequest, responder: Responder) {
        requests.withLock { $0.append(request) }
        responder(HTTPResponse(status: 200, body: Array("\(request.method) \(request.target)".utf8)))
    }

    var count: Int { requests.withLock { $0.count } }
}

/// Runs `body` against a started server on loopback port 0, then shuts it down and waits for it.
func withServer<T>(
    _ configuration: HTTPServerConfiguration = HTTPServerConfiguration(port: 0),
    handler: any HTTPHandler,
    _ body: (HTTPServer) throws -> T
) throws -> T {
    var configuration = configuration
    configuration.port = 0
    var logger = Logger(label: "HTTPServerTests")
    logger.logLevel = .critical
    let server = try HTTPServer(configuration: configuration, handler: handler, logger: logger)
    server.start()
    defer {
        server.beginShutdown()
        server.waitUntilStopped()
    }
    return try body(server)
}

/// One parsed HTTP response as a test client sees it.
struct ClientResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The `type` of an error body.
    var errorType: String? {
        (try? JSONDecoder().decode(HTTPResponse.ErrorBody.self, from: Data(body)))?.error.type
    }
}

enum ClientError: Error {
    case timeout, closed
    case malformed(String)
    case connect(Int32)
}

/// A blocking loopback TCP client with a receive timeout.
final class TestClient {
    /// The socket; -1 once an unsuccessful init has closed it (deinit still runs after a throwing init of a fully
    /// initialized class, and closing the number twice would close another test's socket that reused it).
    private(set) var fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`.
    init(port: Int, timeout: Double = 3) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            let err = errno
            Glibc.close(fd)
            fd = -1
            throw ClientError.connect(err)
        }
        setTimeout(timeout)
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    func setTimeout(_ seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Reads more bytes into the buffer; false on EOF.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        if count == 0 { return false }
        if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError.timeout }
        if errno == ECONNRESET { return false }
        throw ClientError.malformed("recv errno \(errno)")
    }

    /// Reads one response; `head` says whether it answers a HEAD (no body follows).
    func readResponse(head: Bool = false) throws -> ClientResponse {
        let terminator: [UInt8] = [13, 10, 13, 10]
        var end: Int?
        while end == nil {
            end = buffer.firstRange(of: terminator)?.upperBound
            if end == nil, try !fill() { throw ClientError.closed }
        }
        let headText = String(decoding: buffer[0..<end!], as: UTF8.self)
        buffer.removeFirst(end!)
        var lines = headText.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw ClientError.malformed(headText) }
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : "")
        }
        var response = ClientResponse(status: status, headers: headers, body: [])
        if !head, status >= 200, let length = response.header("Content-Length").flatMap(Int.init) {
            while buffer.count < length {
                if try !fill() { throw ClientError.closed }
            }
            response.body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        }
        return response
    }

    /// Whether the server closes the connection (EOF or reset) within the receive timeout, ignoring bytes.
    func waitsForClose() -> Bool {
        do {
            while try fill() {}
            return true
        } catch {
            return false
        }
    }

    /// Bytes received but not yet consumed by `readResponse`.
    var unread: [UInt8] { buffer }
}

/// Raises this process's open-file soft limit to at least `wanted` (up to the hard limit); returns the result.
@discardableResult
func raiseOpenFileLimit(to wanted: Int) -> Int {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur < rlim_t(wanted) {
        limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(limit.rlim_cur)
}

/// A simple GET with Host.
func get(_ target: String, _ extra: String = "") -> String {
    "GET \(target) HTTP/1.1\r\nHost: test\r\n\(extra)\r\n"
}
