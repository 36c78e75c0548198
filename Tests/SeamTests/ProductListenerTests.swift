import Foundation
import HTTPServer
import LatchkeyTestSupport
import Logging
import Seam
import Testing

/// The client's URLSession against Latchkey's own listener on loopback: many sequential keep-alive calls on one
/// connection all decode. (Their latency — the 40 ms delayed-ACK stall DESIGN.md measured for servers that write
/// head and body separately — is a benchmark figure, see scripts/bench, not a timed test.)
@Suite("URLSession client against the product listener")
struct ProductListenerTests {
    @Test func sequentialKeepAliveCalls_AllDecode() async throws {
        var router = Router()
        router.add("POST", "/access_codes/get") { _ in
            HTTPResponse(
                status: 200, headers: ["Content-Type": "application/json", "seam-request-id": "r"],
                body: Array(SeamFixtures.getOngoing.utf8))
        }
        try await withLoopbackServer(handler: router) { server in
            let client = SeamClient(
                configuration: SeamConfiguration(endpoint: URL(string: "http://127.0.0.1:\(server.port)")!),
                credentials: try SeamCredentials(apiKey: TestKeys.apiKey), logger: quietLogger)

            _ = try await client.get(accessCodeID: "warm-up")
            for _ in 0..<50 {
                let code = try await client.get(accessCodeID: "26d6138c-6524-4f3c-ac96-43cc3bea0a8d")
                #expect(code.status == .setting)
            }
        }
    }
}
