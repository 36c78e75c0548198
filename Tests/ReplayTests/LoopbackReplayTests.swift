import Configuration
import Foundation
import Gateway
import HTTPServer
import LatchkeyTestSupport
import Logging
import Synchronization
import Testing

@testable import Replay

/// An intake stand-in and a Seam stand-in behind Latchkey's own HTTP listener on loopback, port 0: the harness's
/// URLSession transport and both state readers are exercised over real sockets.
final class LoopbackStandIn: HTTPHandler {
    private let intake: InMemoryLatchkey
    private let codes: [[String: String]]
    private let listCalls = Mutex(0)

    init(configuration: LatchkeyConfiguration, codes: [[String: String]]) {
        intake = InMemoryLatchkey(configuration: configuration)
        self.codes = codes
    }

    var seamListCalls: Int { listCalls.withLock { $0 } }

    func handle(_ request: HTTPRequest, responder: Responder) {
        switch (request.method, request.path) {
        case ("GET", "/_fake/state"):
            responder(Self.json(["access_codes": codes, "devices": []]))
        case ("POST", "/access_codes/list"):
            listCalls.withLock { $0 += 1 }
            // One code per page, to exercise page_cursor.
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
            let device = body["device_id"] as? String ?? ""
            let page = Int(body["page_cursor"] as? String ?? "0") ?? 0
            let mine = codes.filter { $0["device_id"] == device }
            let slice = page < mine.count ? [mine[page]] : []
            let hasNext = page + 1 < mine.count
            let pagination: [String: Any] = [
                "has_next_page": hasNext, "next_page_cursor": hasNext ? String(page + 1) : NSNull(),
            ]
            responder(Self.json(["access_codes": slice, "pagination": pagination, "ok": true]))
        default:
            let outgoing = OutgoingRequest(
                path: request.path, headers: request.headers.map { ($0.name, $0.value) }, body: request.body)
            let intake = intake
            Task {
                switch await intake.send(outgoing) {
                case .response(let status, let replayed, let body):
                    var headers: HTTPHeaders = ["Content-Type": "application/json"]
                    if replayed { headers.add(name: "Idempotent-Replayed", value: "true") }
                    responder(HTTPResponse(status: status, headers: headers, body: body))
                case .failure: responder(HTTPResponse(status: 500))
                }
            }
        }
    }

    private static func json(_ object: [String: Any]) -> HTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Array(data))
    }
}

@Suite("Replaying over loopback HTTP")
struct LoopbackReplayTests {
    static let front = "22222222-2222-4222-8222-000000000110"
    static let back = "22222222-2222-4222-8222-000000000111"

    /// Two codes of one reservation, and a third code of another on the front door (two pages there).
    static func codes() -> [[String: String]] {
        [(Self.front, "res_000001"), (Self.back, "res_000001"), (Self.front, "res_000003")].enumerated().map {
            index, code in
            [
                "access_code_id": "ac\(index)", "device_id": code.0, "name": "Ada [lk:native:\(code.1)]",
                "code": "4821",
                "common_code_key": "ck", "starts_at": "2030-07-14T13:00:00.000Z", "ends_at": "2030-07-17T09:00:00Z",
                "status": "unset",
            ]
        }
    }

    static func withServer(_ body: (URL, LoopbackStandIn, LatchkeyConfiguration) async throws -> Void) async throws {
        let configuration = try ScenarioFiles.configuration()
        let standIn = LoopbackStandIn(configuration: configuration, codes: codes())
        try await withLoopbackServer(handler: standIn, logger: Logger(label: "replay-test")) { server in
            try await body(URL(string: "http://127.0.0.1:\(server.port)")!, standIn, configuration)
        }
    }

    @Test(
        "all committed scenarios go over HTTP with the expected statuses, in order and with concurrency",
        arguments: [1, 8])
    func corpusOverHTTP(concurrency: Int) async throws {
        try await Self.withServer { url, _, configuration in
            let scenarios = try ScenarioDirectory.load(ScenarioFiles.directory)
            let options = ReplayOptions(duplicateRate: 0.2, concurrency: concurrency)
            let replayer = try Replayer(
                configuration: configuration, transport: URLSessionTransport(baseURL: url, timeoutSeconds: 30),
                state: nil, options: options, environment: [:])
            let report = try await replayer.run(scenarios)
            let unexpected = report.statusMismatches.filter { !($0.expected.contains("404") && $0.received == "401") }
            #expect(unexpected.isEmpty, "\(report.render())")
            #expect(report.transportErrors == 0)
            #expect(report.sent == scenarios.reduce(0) { $0 + $1.deliveries.count } + report.injectedDuplicates)
            #expect(report.duplicates >= report.injectedDuplicates)
        }
    }

    @Test("the fake Seam's state is read and compared, times with or without fractions")
    func fakeSeamState() async throws {
        try await Self.withServer { url, _, _ in
            let codes = try await FakeSeamStateReader(baseURL: url).accessCodes()
            #expect(codes.count == 3)
            let expected = ReservationExpectation(
                source: "native", reservationID: "res_000001", group: .present, deviceIDs: [Self.front, Self.back],
                startsAt: RFC3339.parse("2030-07-14T13:00:00Z"), endsAt: RFC3339.parse("2030-07-17T09:00:00Z"),
                samePinOnAllLocks: true)
            let verdict = StateComparison.compare([expected], with: codes)[0]
            #expect(verdict.matches, "\(verdict.differences)")
        }
    }

    @Test("a real Seam is read with /access_codes/list per device, following page cursors")
    func seamAPIState() async throws {
        try await Self.withServer { url, standIn, configuration in
            var seam = configuration
            seam.seam.endpoint = url.absoluteString
            seam.seam.apiKey = .inline("seam_test_key")
            let reader = try SeamAPIStateReader(configuration: seam, environment: [:])
            #expect(reader.deviceIDs.count == 25)
            let codes = try await reader.accessCodes()
            #expect(Set(codes.map(\.id)) == ["ac0", "ac1", "ac2"])
            #expect(standIn.seamListCalls == 26)
        }
    }

    @Test("an unreachable fake Seam is reported as a state error, not a pass")
    func unreachableState() async throws {
        let reader = FakeSeamStateReader(baseURL: URL(string: "http://127.0.0.1:9")!, timeoutSeconds: 2)
        await #expect(throws: ReplayError.self) { try await reader.accessCodes() }
    }
}
