import Glibc
import Logging
import Synchronization
import SystemCalls
import Testing

@testable import HTTPServer

@Suite("TimerHeap")
struct TimerHeapTests {
    @Test("due keys come out in deadline order; moved and removed keys are honoured")
    func dueKeysComeOutInOrder() {
        var heap = TimerHeap()
        for (key, deadline) in [(Int32(5), UInt64(50)), (3, 30), (9, 90), (1, 10), (7, 70)] {
            heap.set(key, deadline: deadline)
        }
        heap.set(9, deadline: 5)  // moved earlier
        heap.set(1, deadline: 100)  // moved later
        heap.remove(7)
        #expect(heap.count == 4)
        #expect(heap.earliest == 5)
        var due: [Int32] = []
        while let key = heap.popDue(now: 60) { due.append(key) }
        #expect(due == [9, 3, 5])
        #expect(heap.earliest == 100)
        #expect(heap.popDue(now: 99) == nil)
    }
}

@Suite("Client address")
struct ClientAddressTests {
    private let resolver = try! ClientAddressResolver(trustedProxies: ["127.0.0.0/8", "::1/128", "10.0.0.0/8"])

    @Test("CIDR blocks match by prefix, IPv4-mapped IPv6 counts as IPv4")
    func blocksMatchByPrefix() throws {
        let block = try #require(AddressBlock("10.1.0.0/16"))
        #expect(block.contains(try #require(IPAddress("10.1.200.3"))))
        #expect(!block.contains(try #require(IPAddress("10.2.0.1"))))
        #expect(try #require(AddressBlock("::1/128")).contains(try #require(IPAddress("::1"))))
        #expect(try #require(AddressBlock("127.0.0.0/8")).contains(try #require(IPAddress("::ffff:127.0.0.9"))))
        #expect(AddressBlock("10.0.0.0/33") == nil)
        #expect(AddressBlock("example.com") == nil)
        #expect(IPAddress("2001:db8::1")?.description == "2001:db8::1")
    }

    @Test("the rightmost untrusted X-Forwarded-For hop is the client, from trusted peers only")
    func forwardedForRightmostUntrustedHop() throws {
        let loopback = try #require(IPAddress("127.0.0.1"))
        let outsider = try #require(IPAddress("198.51.100.1"))
        let headers: HTTPHeaders = ["X-Forwarded-For": "1.1.1.1, 2.2.2.2, 10.0.0.7"]
        #expect(resolver.resolve(peer: loopback, peerText: "127.0.0.1", headers: headers) == "2.2.2.2")
        #expect(resolver.resolve(peer: outsider, peerText: "198.51.100.1", headers: headers) == "198.51.100.1")
        let allTrusted: HTTPHeaders = ["X-Forwarded-For": "10.0.0.1, 10.0.0.2"]
        #expect(resolver.resolve(peer: loopback, peerText: "127.0.0.1", headers: allTrusted) == "10.0.0.1")
        let garbage: HTTPHeaders = ["X-Forwarded-For": "evil, 10.0.0.2"]
        #expect(resolver.resolve(peer: loopback, peerText: "127.0.0.1", headers: garbage) == "10.0.0.2")
        let real: HTTPHeaders = ["X-Real-IP": " 203.0.113.5 "]
        #expect(resolver.resolve(peer: loopback, peerText: "127.0.0.1", headers: real) == "203.0.113.5")
    }

    @Test("an invalid trusted proxy entry is a configuration error naming it")
    func invalidTrustedProxyIsRejected() {
        let error = #expect(throws: HTTPServerError.self) { try ClientAddressResolver(trustedProxies: ["10.0.0.0/99"]) }
        #expect(error?.message.contains("10.0.0.0/99") == true)
    }
}

@Suite("Router and responses")
struct RouterAndResponseTests {
    @Test("path captures are percent-decoded with + kept; queries read + as a space")
    func capturesKeepPlus() {
        var router = Router()
        let seen = Captured()
        router.add("GET", "/items/{id}") { request in
            seen.set(request.pathParameters["id"] ?? "", request.queryItems.first?.value ?? "")
            return HTTPResponse(status: 200)
        }
        router.handle(HTTPRequest(method: "GET", target: "/items/a+b%20c?q=x+y"), responder: Responder { _ in })
        #expect(seen.get() == ["a+b c", "x y"])
    }

    @Test("a response with CR or LF in a header value is replaced by a 500")
    func headerInjectionBecomes500() {
        var bytes: [UInt8] = []
        ResponseSerializer.append(
            HTTPResponse(status: 200, headers: ["X-Evil": "a\r\nSet-Cookie: x"]),
            context: .init(omitBody: false, keepAlive: true, minorVersion: 1), date: Array("d".utf8), to: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
        #expect(!text.contains("Set-Cookie"))
    }

    @Test("the Date field is an IMF-fixdate")
    func dateIsIMFFixdate() {
        var cache = HTTPDateCache()
        let text = String(decoding: cache.current(), as: UTF8.self)
        #expect(text.wholeMatch(of: /[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT/) != nil, "\(text)")
    }
}

/// Values a route saw, readable after it ran.
private final class Captured: Sendable {
    private let values = Mutex<[String]>([])
    func set(_ items: String...) { values.withLock { $0 = items } }
    func get() -> [String] { values.withLock { $0 } }
}

@Suite("Server configuration")
struct ConfigurationTests {
    @Test("unusable limits and an address in use are reported with what to change")
    func badConfigurationIsReported() throws {
        let logger = Logger(label: "test")
        let zero = #expect(throws: HTTPServerError.self) {
            try HTTPServer(
                configuration: .init(port: 0, maxConnections: 0), handler: RecordingHandler(), logger: logger)
        }
        #expect(zero?.message.contains("maxConnections") == true)
        let badHost = #expect(throws: HTTPServerError.self) {
            try HTTPServer(
                configuration: .init(host: "not-an-ip", port: 0), handler: RecordingHandler(), logger: logger)
        }
        #expect(badHost?.message.contains("not-an-ip") == true)
        let first = try HTTPServer(configuration: .init(port: 0), handler: RecordingHandler(), logger: logger)
        let inUse = #expect(throws: HTTPServerError.self) {
            try HTTPServer(configuration: .init(port: first.port), handler: RecordingHandler(), logger: logger)
        }
        #expect(inUse?.underlying?.errno == Errno(EADDRINUSE))
        #expect(inUse?.description.contains("another process holds the port") == true)
    }
}
