import SystemCalls
import Testing

@testable import HTTPServer

/// The connection's state machine on its own: no sockets, no clock, times in plain nanoseconds.
@Suite("ConnectionStateMachine")
struct ConnectionStateMachineTests {
    private static let second: UInt64 = 1_000_000_000

    private static func makeMachine(
        now: UInt64 = 0, _ configure: (inout HTTPServerConfiguration) -> Void = { _ in }
    ) -> ConnectionStateMachine {
        var configuration = HTTPServerConfiguration(port: 0)
        configure(&configuration)
        return ConnectionStateMachine(
            settings: .init(configuration), now: now, interest: .input)
    }

    private static func read(
        _ text: String, into machine: inout ConnectionStateMachine, now: UInt64 = 1, date: inout HTTPDateCache
    ) -> ConnectionStateMachine.Action {
        Array(text.utf8).withUnsafeBytes { machine.bytesRead($0, now: now) }
        return machine.readFinished(now: now, date: &date)
    }

    private static func request(_ action: ConnectionStateMachine.Action) -> HTTPRequest? {
        if case .callHandler(let request) = action { return request }
        return nil
    }

    private static func isSend(_ action: ConnectionStateMachine.Action) -> Bool {
        if case .send = action { return true }
        return false
    }

    private static func waits(_ action: ConnectionStateMachine.Action) -> Bool? {
        if case .wait(let changed) = action { return changed }
        return nil
    }

    private static func closes(_ action: ConnectionStateMachine.Action) -> ConnectionStateMachine.CloseReason? {
        if case .close(let reason) = action { return reason }
        return nil
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    private static let ok = HTTPResponse(status: 200, body: Array("ok".utf8))

    @Test("pipelined requests in one read are handed over one at a time, and both answers leave in one send")
    func pipelinedRequests_AreAnsweredInOrder_InOneSend() throws {
        var machine = Self.makeMachine()
        var date = HTTPDateCache()
        let both = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
        let first = try #require(Self.request(Self.read(both, into: &machine, date: &date)))
        #expect(first.path == "/a")
        #expect(machine.bufferedCount > 0, "the second request waits behind the first")
        let second = try #require(
            Self.request(machine.handlerReturned(immediateResponse: Self.ok, now: 2, date: &date)))
        #expect(second.path == "/b")
        #expect(machine.serial == 2)
        #expect(Self.isSend(machine.handlerReturned(immediateResponse: Self.ok, now: 3, date: &date)))
        let output = Self.text(machine.outbound)
        #expect(output.split(separator: "HTTP/1.1 200").count == 2)
        #expect(Self.waits(machine.wrote(machine.outbound.count, now: 4)) == false)
        #expect(machine.isIdle)
        #expect(machine.deadline == 3 + machine.settings.keepAliveTimeout)
    }

    @Test("keep-alive returns to reading; Connection: close shuts the write side, lingers, then closes")
    func keepAliveVersusClose() throws {
        var machine = Self.makeMachine()
        var date = HTTPDateCache()
        _ = try #require(Self.request(Self.read("GET / HTTP/1.1\r\nHost: x\r\n\r\n", into: &machine, date: &date)))
        #expect(Self.isSend(machine.handlerReturned(immediateResponse: Self.ok, now: 2, date: &date)))
        #expect(!Self.text(machine.outbound).contains("Connection: close"))
        _ = machine.wrote(machine.outbound.count, now: 2)
        #expect(machine.state == .reading)

        let request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        _ = try #require(Self.request(Self.read(request, into: &machine, now: 5, date: &date)))
        #expect(Self.isSend(machine.handlerReturned(immediateResponse: Self.ok, now: 6, date: &date)))
        #expect(Self.text(machine.outbound).contains("Connection: close"))
        guard case .shutdownWrite = machine.wrote(machine.outbound.count, now: 6) else {
            Issue.record("expected the write side to be shut")
            return
        }
        #expect(Self.waits(machine.writeSideShut(now: 7)) == false)
        #expect(machine.state == .lingering(until: 7 + machine.settings.lingerTimeout))
        #expect(Self.closes(machine.timedOut(now: 7 + machine.settings.lingerTimeout, date: &date)) == .stalled)
    }

    @Test("EOF after a request in flight still answers it, then closes without lingering")
    func peerClosedWhileAwaiting_AnswersThenCloses() throws {
        var machine = Self.makeMachine()
        var date = HTTPDateCache()
        _ = try #require(Self.request(Self.read("GET / HTTP/1.1\r\nHost: x\r\n\r\n", into: &machine, date: &date)))
        #expect(Self.waits(machine.handlerReturned(immediateResponse: nil, now: 2, date: &date)) == false)
        #expect(Self.waits(machine.peerClosed(now: 3, date: &date)) == true)
        #expect(machine.registeredInterest.isEmpty, "nothing more to read")
        #expect(Self.isSend(machine.responseArrived(Self.ok, serial: 1, now: 4, date: &date)))
        #expect(Self.text(machine.outbound).contains("Connection: close"))
        #expect(Self.closes(machine.wrote(machine.outbound.count, now: 5)) == .finished)
    }

    @Test("EOF in the middle of a head is reported, then closes")
    func peerClosedMidRequest_IsReportedThenCloses() {
        var machine = Self.makeMachine()
        var date = HTTPDateCache()
        #expect(Self.waits(Self.read("GET / HTTP/1.1\r\nHo", into: &machine, date: &date)) != nil)
        guard case .report(.peerClosedMidRequest) = machine.peerClosed(now: 2, date: &date) else {
            Issue.record("expected a report")
            return
        }
        #expect(Self.closes(machine.resume(now: 2, date: &date)) == .finished)
    }

    @Test("timeouts: idle closes, a slow head gets 408, a slow handler gets 503 and the connection closes")
    func timeouts() throws {
        var date = HTTPDateCache()
        var idle = Self.makeMachine()
        #expect(idle.deadline == idle.settings.headTimeout)
        #expect(Self.closes(idle.timedOut(now: idle.settings.headTimeout, date: &date)) == .idle)

        var slowHead = Self.makeMachine()
        _ = Self.read("GET / HTTP/1.1\r\n", into: &slowHead, now: 5, date: &date)
        #expect(slowHead.deadline == 5 + slowHead.settings.headTimeout)
        guard case .report(.rejected(let error)) = slowHead.timedOut(now: 99 * Self.second, date: &date) else {
            Issue.record("expected a 408")
            return
        }
        #expect(error.status == 408)
        #expect(Self.isSend(slowHead.resume(now: 99 * Self.second, date: &date)))
        #expect(Self.text(slowHead.outbound).hasPrefix("HTTP/1.1 408"))

        var slowHandler = Self.makeMachine()
        _ = try #require(
            Self.request(Self.read("GET / HTTP/1.1\r\nHost: x\r\n\r\n", into: &slowHandler, now: 10, date: &date)))
        _ = slowHandler.handlerReturned(immediateResponse: nil, now: 10, date: &date)
        #expect(slowHandler.deadline == 10 + slowHandler.settings.responseTimeout)
        guard case .report(.handlerTimedOut) = slowHandler.timedOut(now: 99 * Self.second, date: &date) else {
            Issue.record("expected a handler timeout")
            return
        }
        #expect(Self.isSend(slowHandler.resume(now: 99 * Self.second, date: &date)))
        let output = Self.text(slowHandler.outbound)
        #expect(output.hasPrefix("HTTP/1.1 503"))
        #expect(output.contains("Connection: close"))
        #expect(Self.isSend(slowHandler.responseArrived(Self.ok, serial: 1, now: 100, date: &date)) == false)
    }

    @Test("an oversized head is answered 431 and the connection closes after the answer")
    func oversizedHead_Is431ThenClose() {
        var machine = Self.makeMachine { $0.maxHeadBytes = 1024 }
        var date = HTTPDateCache()
        let head = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 2000) + "\r\n\r\n"
        guard case .report(.rejected(let error)) = Self.read(head, into: &machine, date: &date) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(error.status == 431)
        #expect(Self.isSend(machine.resume(now: 2, date: &date)))
        #expect(Self.text(machine.outbound).hasPrefix("HTTP/1.1 431"))
        guard case .shutdownWrite = machine.wrote(machine.outbound.count, now: 3) else {
            Issue.record("expected the write side to be shut")
            return
        }
    }

    @Test("write back-pressure: a partial send waits for writability under the write deadline, then stalls out")
    func partialWrite_WaitsForWritable_ThenStalls() throws {
        var machine = Self.makeMachine()
        var date = HTTPDateCache()
        _ = try #require(Self.request(Self.read("GET / HTTP/1.1\r\nHost: x\r\n\r\n", into: &machine, date: &date)))
        let big = HTTPResponse(status: 200, body: [UInt8](repeating: 0x61, count: 100_000))
        #expect(Self.isSend(machine.handlerReturned(immediateResponse: big, now: 2, date: &date)))
        #expect(Self.waits(machine.wrote(4096, now: 3)) == true)
        #expect(machine.registeredInterest.contains(.writable))
        #expect(machine.outboundSent == 4096)
        #expect(machine.deadline == 3 + machine.settings.writeTimeout)
        #expect(Self.waits(machine.wrote(0, now: 4)) == false, "a full socket changes nothing")
        #expect(machine.deadline == 3 + machine.settings.writeTimeout, "no progress, no new deadline")
        #expect(Self.closes(machine.timedOut(now: 3 + machine.settings.writeTimeout, date: &date)) == .stalled)
    }

    @Test("pipelined bytes behind a request in flight are bounded: reading pauses at maxHeadBytes")
    func pipelinedBytesWhileAwaiting_AreBounded() throws {
        var machine = Self.makeMachine { $0.maxHeadBytes = 1024 }
        var date = HTTPDateCache()
        _ = try #require(Self.request(Self.read("GET / HTTP/1.1\r\nHost: x\r\n\r\n", into: &machine, date: &date)))
        #expect(Self.waits(machine.handlerReturned(immediateResponse: nil, now: 2, date: &date)) == false)
        let more = String(repeating: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", count: 60)
        #expect(Self.waits(Self.read(more, into: &machine, now: 3, date: &date)) == true)
        #expect(!machine.registeredInterest.contains(.readable))
        #expect(Self.request(machine.responseArrived(Self.ok, serial: 1, now: 4, date: &date)) != nil)
    }

    @Test("a stale answer is ignored; a shutdown closes an idle connection and ends keep-alive for a busy one")
    func staleAnswersAndShutdown() throws {
        var date = HTTPDateCache()
        var idle = Self.makeMachine()
        #expect(Self.closes(idle.shutdownBegan()) == .idle)

        var busy = Self.makeMachine()
        _ = try #require(Self.request(Self.read("GET / HTTP/1.1\r\nHost: x\r\n\r\n", into: &busy, date: &date)))
        _ = busy.handlerReturned(immediateResponse: nil, now: 2, date: &date)
        guard case .nothing = busy.responseArrived(Self.ok, serial: 7, now: 3, date: &date) else {
            Issue.record("a stale answer must change nothing")
            return
        }
        guard case .nothing = busy.shutdownBegan() else {
            Issue.record("a busy connection stays until answered")
            return
        }
        #expect(Self.isSend(busy.responseArrived(Self.ok, serial: 1, now: 4, date: &date)))
        #expect(Self.text(busy.outbound).contains("Connection: close"))
    }
}
