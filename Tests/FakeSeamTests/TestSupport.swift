import Dispatch
import FakeSeam
import Foundation
import HTTPServer
import Synchronization

/// An answer as a test sees it.
struct Reply {
    let status: Int
    let headers: HTTPHeaders
    let json: JSONValue

    init(_ response: HTTPResponse) {
        status = response.status
        headers = response.headers
        json = (try? JSONValue.parse(response.body)) ?? .null
    }

    /// `error.type`, when this is an error envelope.
    var errorType: String? { json["error"]?["type"]?.stringValue }
}

/// The device ids of the default seed.
typealias Locks = FakeSeamSeed.DefaultDevice

/// A fake on a manual clock with its handler, and helpers to call it in-process.
struct Harness {
    let service: FakeSeamService
    let handler: any HTTPHandler

    init(configuration: FakeSeamConfiguration = .testing()) {
        self.init(service: FakeSeamService(configuration: configuration))
    }

    init(service: FakeSeamService) {
        self.service = service
        handler = service.handler
    }

    /// Sends one request and waits up to `waitMilliseconds` for the answer; `nil` when none came.
    func send(
        _ method: String, _ target: String, body: JSONValue? = nil, key: String? = "seam_test_key",
        rawBody: [UInt8]? = nil, waitMilliseconds: Int = 3000
    ) async -> Reply? {
        var headers = HTTPHeaders()
        if let key { headers.add(name: "Authorization", value: "Bearer \(key)") }
        if body != nil || rawBody != nil { headers.add(name: "Content-Type", value: "application/json") }
        let request = HTTPRequest(
            method: method, target: target, headers: headers, body: rawBody ?? body?.encoded ?? [])
        let response = await answer(handler, request, waitMilliseconds: waitMilliseconds)
        return response.map(Reply.init)
    }

    /// POSTs `body` to an API route and returns the answer (failing the test's expectations when none came).
    func post(_ path: String, _ body: JSONValue) async -> Reply {
        await send("POST", path, body: body) ?? Reply(HTTPResponse(status: 0))
    }

    /// Creates a linked group on `devices` and returns its codes.
    func createMultiple(_ devices: [String], extra: [String: JSONValue] = [:]) async -> [JSONValue] {
        var body: [String: JSONValue] = ["device_ids": .array(devices.map(JSONValue.string))]
        for (k, v) in extra { body[k] = v }
        return await post("/access_codes/create_multiple", .object(body)).json["access_codes"]?.arrayValue ?? []
    }

    /// Fetches one code, or the error answer.
    func get(_ id: String) async -> Reply {
        await send("GET", "/access_codes/get?access_code_id=\(id)") ?? Reply(HTTPResponse(status: 0))
    }
}

/// Hands `request` to `handler` and waits for the responder, up to `waitMilliseconds`.
func answer(_ handler: any HTTPHandler, _ request: HTTPRequest, waitMilliseconds: Int) async -> HTTPResponse? {
    let slot = Mutex<CheckedContinuation<HTTPResponse?, Never>?>(nil)
    return await withCheckedContinuation { continuation in
        slot.withLock { $0 = continuation }
        handler.handle(
            request,
            responder: Responder { response in
                slot.withLock { $0.take() }?.resume(returning: response)
            })
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(waitMilliseconds)) {
            slot.withLock { $0.take() }?.resume(returning: nil)
        }
    }
}

extension JSONValue {
    /// A string member, for brevity in expectations.
    func s(_ key: String) -> String? { self[key]?.stringValue }
}
