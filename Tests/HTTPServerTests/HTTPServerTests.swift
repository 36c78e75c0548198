import Dispatch
import Foundation
import Glibc
import Logging
import Synchronization
import Testing

@testable import HTTPServer

@Suite("HTTPServer over loopback sockets")
struct HTTPServerTests {
    @Test("pipelined requests in one write are answered in order")
    func pipelinedRequestsAreAnsweredInOrder() throws {
        let handler = RecordingHandler()
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.send(
                get("/one") + get("/two") + "POST /three HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                    + get("/four"))
            let bodies = try (0..<4).map { _ in try client.readResponse().bodyText }
            #expect(bodies == ["GET /one", "GET /two", "POST /three", "GET /four"])
            #expect(handler.requests.withLock { $0[2].body } == Array("abc".utf8))
        }
    }

    @Test("Content-Length with Transfer-Encoding is 400, closes, and the smuggled request never reaches the handler")
    func contentLengthWithTransferEncodingClosesBeforeTheNextRequest() throws {
        let handler = RecordingHandler()
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.send(
                "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                    + get("/smuggled"))
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response.errorType == "ambiguous_framing")
            #expect(response.header("Connection") == "close")
            #expect(client.waitsForClose())
            #expect(handler.count == 0)
        }
    }

    @Test("a head that arrives too slowly gets 408 and a close within the deadline")
    func slowHeadGets408WithinTheDeadline() throws {
        let configuration = HTTPServerConfiguration(headTimeout: .milliseconds(300))
        try withServer(configuration, handler: RecordingHandler()) { server in
            let client = try TestClient(port: server.port, timeout: 2)
            let start = Date()
            client.send("GET / HTTP/1.1\r\nHo")
            let response = try client.readResponse()
            let elapsed = Date().timeIntervalSince(start)
            #expect(response.status == 408)
            #expect(elapsed >= 0.25 && elapsed < 1.5, "408 after \(elapsed) s")
            #expect(client.waitsForClose())
        }
    }

    @Test("a body that stalls gets 408")
    func stalledBodyGets408() throws {
        let configuration = HTTPServerConfiguration(bodyIdleTimeout: .milliseconds(300))
        try withServer(configuration, handler: RecordingHandler()) { server in
            let client = try TestClient(port: server.port, timeout: 2)
            client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            let response = try client.readResponse()
            #expect(response.status == 408)
        }
    }

    @Test("a body trickled a byte at a time gets 408 at the request deadline, though no gap is long")
    func trickledBodyGets408AtTheRequestDeadline() throws {
        let configuration = HTTPServerConfiguration(
            bodyIdleTimeout: .milliseconds(500), requestTimeout: .milliseconds(800))
        let handler = RecordingHandler()
        try withServer(configuration, handler: handler) { server in
            let client = try TestClient(port: server.port, timeout: 5)
            client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
            let started = Date()
            let fd = client.fd
            // The trickler stops, and is waited for, before the client closes its socket: once closed, the fd
            // number may belong to another test's socket, which stray bytes would corrupt.
            let stop = Atomic<Bool>(false)
            let trickled = DispatchSemaphore(value: 0)
            let trickler = Thread {
                defer { trickled.signal() }
                // 40 bytes, 100 ms apart: each gap is well under the idle timeout
                for _ in 0..<40 where !stop.load(ordering: .acquiring) {
                    var byte = UInt8(ascii: "x")
                    guard Glibc.send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
            trickler.start()
            let status = try? client.readResponse().status
            let elapsed = Date().timeIntervalSince(started)
            stop.store(true, ordering: .releasing)
            trickled.wait()
            #expect(elapsed < 3.5, "answered after \(elapsed) s; the trickle alone lasts 4 s")
            #expect(status == 408)
            #expect(handler.count == 0)
        }
    }

    @Test("an idle keep-alive connection is closed after the keep-alive timeout")
    func idleKeepAliveConnectionIsClosed() throws {
        let configuration = HTTPServerConfiguration(keepAliveTimeout: .milliseconds(200))
        try withServer(configuration, handler: RecordingHandler()) { server in
            let client = try TestClient(port: server.port, timeout: 2)
            client.send(get("/"))
            #expect(try client.readResponse().status == 200)
            let start = Date()
            #expect(client.waitsForClose())
            #expect(Date().timeIntervalSince(start) < 1.5)
        }
    }

    @Test("an oversize head gets 431")
    func oversizeHeadGets431() throws {
        let configuration = HTTPServerConfiguration(maxHeadBytes: 1024)
        try withServer(configuration, handler: RecordingHandler()) { server in
            let client = try TestClient(port: server.port)
            client.send(get("/", "X-Big: \(String(repeating: "a", count: 2000))\r\n"))
            let response = try client.readResponse()
            #expect(response.status == 431)
            #expect(response.errorType == "header_too_large")
        }
    }

    @Test("too many header fields get 431")
    func tooManyHeadersGet431() throws {
        let configuration = HTTPServerConfiguration(maxHeaderCount: 5)
        try withServer(configuration, handler: RecordingHandler()) { server in
            let client = try TestClient(port: server.port)
            client.send(get("/", (0..<6).map { "X-\($0): v\r\n" }.joined()))
            #expect(try client.readResponse().status == 431)
        }
    }

    @Test("an oversize body gets 413 from Content-Length, before any body byte is sent")
    func oversizeBodyGets413BeforeTheBody() throws {
        let configuration = HTTPServerConfiguration(maxBodyBytes: 100)
        let handler = RecordingHandler()
        try withServer(configuration, handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(response.errorType == "body_too_large")
            #expect(handler.count == 0)
        }
    }

    @Test("a chunked body past the limit gets 413")
    func oversizeChunkedBodyGets413() throws {
        let configuration = HTTPServerConfiguration(maxBodyBytes: 10)
        try withServer(configuration, handler: RecordingHandler()) { server in
            let client = try TestClient(port: server.port)
            client.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n")
            #expect(try client.readResponse().status == 413)
        }
    }

    @Test("a chunked body is de-chunked for the handler")
    func chunkedBodyIsDechunked() throws {
        let handler = RecordingHandler()
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.send(
                "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
            )
            #expect(try client.readResponse().status == 200)
            #expect(handler.requests.withLock { $0.first?.body } == Array("hello world".utf8))
        }
    }

    @Test("Expect: 100-continue gets a 100 before the body is read, and an oversize one gets 413 without it")
    func expectContinueIsAnswered() throws {
        let configuration = HTTPServerConfiguration(maxBodyBytes: 100)
        let handler = RecordingHandler()
        try withServer(configuration, handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            #expect(try client.readResponse().status == 100)
            client.send("body")
            #expect(try client.readResponse().status == 200)
            #expect(handler.requests.withLock { $0.first?.body } == Array("body".utf8))

            let large = try TestClient(port: server.port)
            large.send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 400\r\nExpect: 100-continue\r\n\r\n")
            #expect(try large.readResponse().status == 413)
        }
    }

    @Test("a handler may answer later from another thread, and the connection stays usable")
    func handlerAnswersLaterFromAnotherThread() throws {
        let handler = ClosureHandler { request, responder in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) {
                responder(HTTPResponse(status: 202, body: Array(request.path.utf8)))
                responder(HTTPResponse(status: 500))  // ignored: only the first answer counts
            }
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.send(get("/late"))
            let first = try client.readResponse()
            #expect(first.status == 202)
            #expect(first.bodyText == "/late")
            client.send(get("/again"))
            let second = try client.readResponse()
            #expect(second.status == 202)
            #expect(second.bodyText == "/again")
        }
    }

    @Test("HEAD gets the GET route's Content-Length and no body")
    func headGetsNoBody() throws {
        var router = Router()
        router.add("GET", "/thing") { _ in HTTPResponse(status: 200, body: Array("twelve bytes".utf8)) }
        try withServer(handler: router) { server in
            let client = try TestClient(port: server.port)
            client.send("HEAD /thing HTTP/1.1\r\nHost: t\r\n\r\n" + get("/thing"))
            let head = try client.readResponse(head: true)
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "12")
            let get = try client.readResponse()
            #expect(get.bodyText == "twelve bytes")
        }
    }

    @Test("the router answers 404, and 405 with Allow")
    func routerAnswers404And405WithAllow() throws {
        var router = Router()
        router.add("POST", "/webhooks/{source}") { request in
            HTTPResponse(status: 202, body: Array((request.pathParameters["source"] ?? "").utf8))
        }
        try withServer(handler: router) { server in
            let client = try TestClient(port: server.port)
            client.send(get("/nowhere"))
            let notFound = try client.readResponse()
            #expect(notFound.status == 404)
            #expect(notFound.errorType == "not_found")
            client.send(get("/webhooks/guesty"))
            let notAllowed = try client.readResponse()
            #expect(notAllowed.status == 405)
            #expect(notAllowed.header("Allow") == "POST")
            client.send("POST /webhooks/a+b%2Fc HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
            #expect(try client.readResponse().bodyText == "a+b/c")
        }
    }

    @Test("past the connection cap a new connection gets 503 and is closed; served ones keep working")
    func connectionCapRefusesExtraConnections() throws {
        let configuration = HTTPServerConfiguration(maxConnections: 2)
        try withServer(configuration, handler: RecordingHandler()) { server in
            let clients = try (0..<2).map { _ in try TestClient(port: server.port) }
            for client in clients {
                client.send(get("/"))
                #expect(try client.readResponse().status == 200)
            }
            let extra = try TestClient(port: server.port)
            let refused = try extra.readResponse()
            #expect(refused.status == 503)
            #expect(extra.waitsForClose())
            clients[0].send(get("/still"))
            #expect(try clients[0].readResponse().status == 200)
        }
    }

    @Test("graceful shutdown: the in-flight request is answered with Connection: close, then run() returns")
    func shutdownAnswersTheInFlightRequestThenStops() throws {
        let held = Mutex<Responder?>(nil)
        let handler = ClosureHandler { _, responder in held.withLock { $0 = responder } }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = try HTTPServer(configuration: .init(port: 0), handler: handler, logger: logger)
        server.start()
        let client = try TestClient(port: server.port)
        let idle = try TestClient(port: server.port)
        client.send(get("/slow"))
        while held.withLock({ $0 == nil }) { usleep(1000) }
        #expect(!server.isDraining)
        server.beginShutdown()
        while !server.isDraining { usleep(1000) }
        #expect(idle.waitsForClose(), "an idle connection is closed at once")
        #expect(throws: ClientError.self) { _ = try TestClient(port: server.port) }
        held.withLock { $0?(HTTPResponse(status: 200, body: Array("done".utf8))) }
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.bodyText == "done")
        #expect(response.header("Connection") == "close")
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            server.waitUntilStopped()
            stopped.signal()
        }.start()
        #expect(stopped.wait(timeout: .now() + 5) == .success)
    }

    @Test("the drain timeout cuts a request that is never answered")
    func drainTimeoutCutsUnansweredRequests() throws {
        let handler = ClosureHandler { _, _ in }  // never answers
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = try HTTPServer(
            configuration: .init(port: 0, drainTimeout: .milliseconds(200)), handler: handler, logger: logger)
        server.start()
        let client = try TestClient(port: server.port)
        client.send(get("/never"))
        usleep(50_000)
        server.beginShutdown()
        #expect(client.waitsForClose())
        server.waitUntilStopped()
    }

    @Test("HTTP/1.0 closes by default and keeps alive when asked; Connection: close closes")
    func persistenceFollowsVersionAndConnection() throws {
        try withServer(handler: RecordingHandler()) { server in
            let plain = try TestClient(port: server.port)
            plain.send("GET / HTTP/1.0\r\n\r\n")
            #expect(try plain.readResponse().header("Connection") == "close")
            #expect(plain.waitsForClose())

            let keepAlive = try TestClient(port: server.port)
            keepAlive.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try keepAlive.readResponse().header("Connection") == "keep-alive")
            keepAlive.send("GET /2 HTTP/1.0\r\n\r\n")
            #expect(try keepAlive.readResponse().status == 200)

            let close = try TestClient(port: server.port)
            close.send(get("/", "Connection: close\r\n") + get("/ignored"))
            #expect(try close.readResponse().header("Connection") == "close")
            #expect(close.waitsForClose())
        }
    }

    @Test("the last request allowed on a connection is answered with Connection: close")
    func requestsPerConnectionAreCapped() throws {
        let configuration = HTTPServerConfiguration(maxRequestsPerConnection: 2)
        try withServer(configuration, handler: RecordingHandler()) { server in
            let client = try TestClient(port: server.port)
            client.send(get("/1") + get("/2"))
            #expect(try client.readResponse().header("Connection") == "keep-alive")
            #expect(try client.readResponse().header("Connection") == "close")
            #expect(client.waitsForClose())
        }
    }

    @Test("responses carry Date, Content-Length and a request id; an incoming X-Request-Id is kept")
    func responsesCarryServerFields() throws {
        let handler = ClosureHandler { request, responder in
            responder(HTTPResponse(status: 200, headers: ["X-Request-Id": request.requestID, "Content-Length": "999"]))
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.send(get("/", "X-Request-Id: abc-123\r\n"))
            let response = try client.readResponse()
            #expect(response.header("X-Request-Id") == "abc-123")
            #expect(response.header("Content-Length") == "0")
            #expect(response.header("Date")?.hasSuffix("GMT") == true)
            client.send(get("/", "X-Request-Id: bad id with spaces\r\n"))
            let generated = try client.readResponse().header("X-Request-Id") ?? ""
            #expect(!generated.isEmpty && generated != "bad id with spaces")
        }
    }

    @Test("X-Forwarded-For is believed from a trusted proxy only")
    func forwardedForIsBelievedFromTrustedPeersOnly() throws {
        let handler = ClosureHandler { request, responder in
            responder(HTTPResponse(status: 200, body: Array(request.clientAddress.utf8)))
        }
        try withServer(handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.send(get("/", "X-Forwarded-For: 203.0.113.9, 198.51.100.7, 127.0.0.2\r\n"))
            #expect(try client.readResponse().bodyText == "198.51.100.7")
            client.send(get("/", "X-Real-IP: 192.0.2.1\r\n"))
            #expect(try client.readResponse().bodyText == "192.0.2.1")
        }
        try withServer(.init(trustedProxies: []), handler: handler) { server in
            let client = try TestClient(port: server.port)
            client.send(get("/", "X-Forwarded-For: 203.0.113.9\r\n"))
            #expect(try client.readResponse().bodyText == "127.0.0.1")
        }
    }

    @Test("Upgrade and CONNECT are refused")
    func upgradeAndConnectAreRefused() throws {
        try withServer(handler: RecordingHandler()) { server in
            let upgrade = try TestClient(port: server.port)
            upgrade.send(get("/", "Connection: Upgrade\r\nUpgrade: websocket\r\n"))
            #expect(try upgrade.readResponse().status == 400)
            let connect = try TestClient(port: server.port)
            connect.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
            #expect(try connect.readResponse().status == 405)
        }
    }

    @Test("with 1,000 slow connections open, a normal client is still served")
    func normalClientIsServedBesideManySlowConnections() throws {
        let slowCount = 1000
        let limit = raiseOpenFileLimit(to: 2 * slowCount + 200)
        try #require(limit >= slowCount + 100, "RLIMIT_NOFILE is \(limit); cannot open \(slowCount) sockets")
        let configuration = HTTPServerConfiguration(maxConnections: slowCount + 50)
        try withServer(configuration, handler: RecordingHandler()) { server in
            var slow: [TestClient] = []
            for index in 0..<slowCount {
                let client = try TestClient(port: server.port)
                client.send(
                    index.isMultiple(of: 2)
                        ? "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: "
                        : "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nab")
                slow.append(client)
            }
            let start = Date()
            let client = try TestClient(port: server.port)
            for index in 0..<20 {
                client.send(get("/normal/\(index)"))
                #expect(try client.readResponse().status == 200)
            }
            let elapsed = Date().timeIntervalSince(start)
            #expect(elapsed < 2, "20 requests took \(elapsed) s beside \(slowCount) slow connections")
            // The slow ones are still open (no deadline passed): the server did not drop them to cope.
            slow[0].setTimeout(0.05)
            #expect(!slow[0].waitsForClose())
        }
    }
}

@Suite("HTTPServer deadlines and signals")
struct HTTPServerLifecycleTests {
    @Test("a handler that never answers gets a 503 from the server after the response timeout")
    func unansweredRequestGets503() throws {
        let configuration = HTTPServerConfiguration(responseTimeout: .milliseconds(200))
        try withServer(configuration, handler: ClosureHandler { _, _ in }) { server in
            let client = try TestClient(port: server.port)
            client.send(get("/hang"))
            let response = try client.readResponse()
            #expect(response.status == 503)
            #expect(response.errorType == "handler_timeout")
            #expect(response.header("Connection") == "close")
        }
    }

    @Test("a client that stops reading a large response is cut after the write timeout")
    func stalledWriteIsCut() throws {
        let size = 64 << 20
        let body = [UInt8](repeating: 0x61, count: size)
        let handler = ClosureHandler { _, responder in responder(HTTPResponse(status: 200, body: body)) }
        let configuration = HTTPServerConfiguration(writeTimeout: .milliseconds(300))
        try withServer(configuration, handler: handler) { server in
            let client = try TestClient(port: server.port, timeout: 3)
            client.send(get("/big"))
            usleep(1_000_000)  // read nothing while the deadline passes
            var received = 0
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                received += count
            }
            #expect(received > 0 && received < size, "received \(received) of \(size) bytes before the close")
        }
    }

    @Test("SIGTERM through the signalfd starts a graceful shutdown when handlesSignals is on")
    func sigtermShutsDownGracefully() throws {
        let loopThread = Mutex<pthread_t?>(nil)
        let port = Mutex<Int?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            do {
                let server = try HTTPServer(
                    configuration: .init(port: 0, handlesSignals: true), handler: RecordingHandler(), logger: logger)
                port.withLock { $0 = server.port }
                loopThread.withLock { $0 = pthread_self() }  // signals are blocked on this thread from here on
                try server.run()
            } catch {
                Issue.record("server failed: \(error)")
            }
            done.signal()
        }
        thread.start()
        while loopThread.withLock({ $0 == nil }) { usleep(1000) }
        let client = try TestClient(port: try #require(port.withLock { $0 }))
        client.send(get("/"))
        #expect(try client.readResponse().status == 200)
        // Directed at the server's thread, where SIGTERM is blocked: it stays pending for the signalfd.
        #expect(pthread_kill(try #require(loopThread.withLock { $0 }), SIGTERM) == 0)
        #expect(done.wait(timeout: .now() + 5) == .success, "run() returned after SIGTERM")
        #expect(client.waitsForClose())
    }
}
