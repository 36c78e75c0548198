import Glibc
import Synchronization
import Testing

@testable import HTTPServer

/// Several event loops on one port (`HTTPServerConfiguration.eventLoops`).
@Suite struct EventLoopsTests {
    @Test("connections are spread over the loops' threads, and every one is answered")
    func connectionsSpreadOverLoops() throws {
        let threads = Mutex<Set<UInt>>([])
        let handler = ClosureHandler { request, responder in
            threads.withLock { _ = $0.insert(UInt(pthread_self())) }
            responder(HTTPResponse(status: 200, body: Array(request.target.utf8)))
        }
        try withServer(HTTPServerConfiguration(port: 0, eventLoops: 3), handler: handler) { server in
            let clients = try (0..<40).map { _ in try TestClient(port: server.port) }
            for (index, client) in clients.enumerated() { client.send(get("/c\(index)")) }
            for (index, client) in clients.enumerated() {
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.bodyText == "/c\(index)")
            }
        }
        // The kernel hashes each connection to one of the 3 sockets: 40 all on one is a (1/3)^39 chance.
        #expect(threads.withLock { $0.count } >= 2)
    }

    @Test("a shutdown stops every loop, and the port no longer accepts")
    func shutdownStopsEveryLoop() throws {
        var port = 0
        try withServer(HTTPServerConfiguration(port: 0, eventLoops: 2), handler: RecordingHandler()) { server in
            port = server.port
            let client = try TestClient(port: server.port)
            client.send(get("/"))
            #expect(try client.readResponse().status == 200)
        }
        // withServer has shut the server down and waited for it: nothing listens on the port any more.
        #expect(throws: ClientError.self) { try TestClient(port: port) }
    }

    @Test("the connection limit is shared out across the loops, every loop getting at least one")
    func connectionLimitIsShared() {
        #expect((0..<3).map { HTTPServer.share(of: 1024, loop: $0, loops: 3) } == [342, 341, 341])
        #expect((0..<2).map { HTTPServer.share(of: 1, loop: $0, loops: 2) } == [1, 1])
        #expect(HTTPServer.share(of: 10, loop: 0, loops: 1) == 10)
    }

    @Test("zero event loops is refused with the field's name")
    func zeroLoopsRefused() {
        #expect(throws: HTTPServerError.self) {
            try HTTPServerConfiguration(port: 0, eventLoops: 0).validate()
        }
    }
}
