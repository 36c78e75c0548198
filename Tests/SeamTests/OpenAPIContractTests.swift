import Foundation
import LatchkeyTestSupport
import Seam
import Testing

/// `openapi/seam.yaml` must describe every route the client calls, as POST.
@Suite("openapi/seam.yaml covers the client")
struct OpenAPIContractTests {
    private static let specPath = RepositoryFiles.url("openapi/seam.yaml")

    private static let answers: [String: String] = [
        "/access_codes/create_multiple": SeamFixtures.createMultiple,
        "/access_codes/update_multiple": SeamFixtures.ok,
        "/access_codes/create": SeamFixtures.getOngoing,
        "/access_codes/update": SeamFixtures.deletePending,
        "/access_codes/delete": SeamFixtures.deletePending,
        "/access_codes/get": SeamFixtures.getOngoing,
        "/access_codes/list": SeamFixtures.listPage(ids: ["a"], next: nil),
        "/devices/get": SeamFixtures.device,
        "/devices/list": #"{"devices": [], "ok": true}"#,
        "/action_attempts/get": SeamFixtures.deletePending,
    ]

    @Test func everyRouteTheClientCalls_IsInTheSpecAsPOST() async throws {
        let transport = ScriptedTransport { request, _ in
            SeamHTTPResponse(status: 200, body: Data((Self.answers[request.route] ?? "{}").utf8))
        }
        let client = try SeamClient.testing(transport)
        let start = instant("2026-12-01T15:00:00Z")
        let end = instant("2026-12-05T11:00:00Z")
        _ = try await client.createMultiple(deviceIDs: ["d"], name: "n", startsAt: start, endsAt: end)
        try await client.updateMultiple(commonCodeKey: "k", startsAt: start, endsAt: end)
        _ = try await client.create(deviceID: "d", name: "n", code: "123456", startsAt: start, endsAt: end)
        try await client.update(accessCodeID: "a", name: "n", startsAt: start, endsAt: end)
        _ = try await client.delete(accessCodeID: "a")
        _ = try await client.get(accessCodeID: "a")
        _ = try await client.list(deviceID: "d")
        _ = try await client.list(accessCodeIDs: ["a"])
        _ = try await client.listDevices()
        _ = try await client.getDevice(deviceID: "d")
        _ = try await client.getActionAttempt(actionAttemptID: "x")

        let spec = try String(contentsOf: Self.specPath, encoding: .utf8)
        let routes = Set(transport.requests.map(\.route))
        #expect(routes == Set(Self.answers.keys))
        for route in routes.sorted() {
            #expect(spec.contains("\n  \(route):\n    post:\n"), "openapi/seam.yaml lacks POST \(route)")
        }
        #expect(transport.requests.allSatisfy { $0.method == "POST" })
    }
}
