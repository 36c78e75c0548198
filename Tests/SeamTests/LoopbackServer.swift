import Foundation
import Glibc
import Synchronization

/// A minimal HTTP/1.1 server on 127.0.0.1, port 0, for testing the URLSession transport against real sockets.
/// One thread accepts connections one at a time; `respond` turns a request into raw response bytes, or nil to
/// keep the connection open without answering (to provoke timeouts).
final class LoopbackServer: Sendable {
    struct Request: Sendable {
        var head: String
        var body: Data
        var requestLine: String { head.components(separatedBy: "\r\n").first ?? "" }
        func header(_ name: String) -> String? {
            for line in head.components(separatedBy: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[..<colon].lowercased() == name.lowercased() {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    let port: UInt16
    private let listener: Int32
    private let received = Mutex<[Request]>([])
    private let held = Mutex<[Int32]>([])

    var requests: [Request] { received.withLock { $0 } }

    init(respond: @escaping @Sendable (Request) -> String?) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        let thread = Thread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }  // the listener was shut down
                guard let request = Self.read(client) else {
                    close(client)
                    continue
                }
                self.received.withLock { $0.append(request) }
                if let response = respond(request) {
                    Self.write(client, response)
                    close(client)
                } else {
                    self.held.withLock { $0.append(client) }
                }
            }
        }
        thread.start()
    }

    /// A base URL for clients.
    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        held.withLock { fds in
            for fd in fds { close(fd) }
            fds.removeAll()
        }
    }

    /// A complete response with `Connection: close`.
    static func response(status: Int, reason: String = "OK", headers: [String: String] = [:], body: String) -> String {
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json\r\nConnection: close\r\n"
        head += "Content-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return head + "\r\n" + body
    }

    private static func read(_ fd: Int32) -> Request? {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let end = buffer.firstRange(of: separator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                let request = Request(head: head, body: Data())
                let length = Int(request.header("content-length") ?? "0") ?? 0
                while buffer.count - end.upperBound < length {
                    let count = Glibc.read(fd, &chunk, chunk.count)
                    guard count > 0 else { return nil }
                    buffer += chunk[..<count]
                }
                return Request(head: head, body: Data(buffer[end.upperBound..<(end.upperBound + length)]))
            }
            let count = Glibc.read(fd, &chunk, chunk.count)
            guard count > 0 else { return nil }
            buffer += chunk[..<count]
        }
    }

    private static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
