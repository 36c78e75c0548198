import Foundation
import LatchkeyTestSupport
import Logging
import Seam
import Testing

@Suite("Seam client calls")
struct SeamClientTests {
    private let start = instant("2026-12-01T15:00:00Z")
    private let end = instant("2026-12-05T11:00:00Z")

    @Test func createMultiple_PostsSeamsWireShapeWithTheKey() async throws {
        let transport = ScriptedTransport(json: SeamFixtures.createMultiple)
        let client = try SeamClient.testing(transport)
        _ = try await client.createMultiple(
            deviceIDs: ["d1", "d2"], name: "latchkey:guesty:HMX-4411", startsAt: start, endsAt: end,
            preferredCodeLength: 6, behaviorWhenCodeCannotBeShared: .createRandomCode)

        let request = try #require(transport.requests.first)
        #expect(request.method == "POST")
        #expect(request.url.absoluteString == "https://seam.test/access_codes/create_multiple")
        #expect(request.header("authorization") == "Bearer \(TestKeys.apiKey)")
        #expect(request.header("content-type") == "application/json")
        #expect(request.header("seam-workspace") == nil)
        let body = request.json
        #expect(body["device_ids"] as? [String] == ["d1", "d2"])
        #expect(body["name"] as? String == "latchkey:guesty:HMX-4411")
        #expect(body["starts_at"] as? String == "2026-12-01T15:00:00Z")
        #expect(body["ends_at"] as? String == "2026-12-05T11:00:00Z")
        #expect(body["preferred_code_length"] as? Int == 6)
        #expect(body["behavior_when_code_cannot_be_shared"] as? String == "create_random_code")
        #expect(body["code"] == nil)
        #expect(body.count == 6)
    }

    @Test func personalAccessToken_SendsTheWorkspaceHeader() async throws {
        let transport = ScriptedTransport(json: SeamFixtures.ok)
        let client = SeamClient(
            configuration: SeamConfiguration(endpoint: URL(string: "https://seam.test")!),
            credentials: try SeamCredentials(personalAccessToken: "seam_at1_longtoken", workspaceID: "ws_1"),
            transport: transport, logger: .init(label: "t"))
        try await client.updateMultiple(commonCodeKey: "k", startsAt: start, endsAt: end)
        let request = try #require(transport.requests.first)
        #expect(request.header("Authorization") == "Bearer seam_at1_longtoken")
        #expect(request.header("seam-workspace") == "ws_1")
    }

    @Test func updateMultiple_SendsKeyWindowAndOptionalName() async throws {
        let transport = ScriptedTransport(json: SeamFixtures.ok)
        let client = try SeamClient.testing(transport)
        try await client.updateMultiple(commonCodeKey: "auto_set_by_create_multiple_x", startsAt: start, endsAt: end)
        try await client.updateMultiple(
            commonCodeKey: "auto_set_by_create_multiple_x", name: "renamed", startsAt: start, endsAt: end)
        let bodies = transport.requests.map(\.json)
        #expect(transport.requests.map(\.route) == ["/access_codes/update_multiple", "/access_codes/update_multiple"])
        #expect(bodies[0]["common_code_key"] as? String == "auto_set_by_create_multiple_x")
        #expect(bodies[0]["name"] == nil)
        #expect(bodies[0].count == 3)
        #expect(bodies[1]["name"] as? String == "renamed")
    }

    @Test func createAndUpdateOfOneCode_SendSeamsWireShape() async throws {
        let transport = ScriptedTransport { request, _ in
            let body = request.route == "/access_codes/create" ? SeamFixtures.getOngoing : SeamFixtures.deletePending
            return SeamHTTPResponse(status: 200, body: Data(body.utf8))
        }
        let client = try SeamClient.testing(transport)
        let code = try await client.create(
            deviceID: "lock1", name: "latchkey:r1", code: "482193", startsAt: start, endsAt: end)
        #expect(code.accessCodeID == "26d6138c-6524-4f3c-ac96-43cc3bea0a8d")
        try await client.update(accessCodeID: "ac_1", name: "latchkey:r1", startsAt: start, endsAt: end)

        let bodies = transport.requests.map(\.json)
        #expect(transport.requests.map(\.route) == ["/access_codes/create", "/access_codes/update"])
        #expect(bodies[0]["device_id"] as? String == "lock1")
        #expect(bodies[0]["code"] as? String == "482193")
        #expect(bodies[0]["starts_at"] as? String == "2026-12-01T15:00:00Z")
        #expect(bodies[0].count == 5)
        #expect(bodies[1]["access_code_id"] as? String == "ac_1")
        #expect(bodies[1]["ends_at"] as? String == "2026-12-05T11:00:00Z")
        #expect(bodies[1]["type"] as? String == "time_bound")
        #expect(bodies[1].count == 5)
    }

    @Test func delete_ReturnsTheActionAttempt() async throws {
        let transport = ScriptedTransport(json: SeamFixtures.deletePending)
        let outcome = try await SeamClient.testing(transport).delete(accessCodeID: "ac_1")
        guard case .deleted(let attempt) = outcome else {
            Issue.record("expected .deleted, got \(outcome)")
            return
        }
        #expect(attempt?.actionType == "DELETE_ACCESS_CODE")
        #expect(attempt?.status == "pending")
        #expect(transport.requests.first?.json["access_code_id"] as? String == "ac_1")
    }

    @Test(arguments: [SeamFixtures.accessCodeNotFound, #"{"error":{"type":"not_found","message":"Not found"}}"#, ""])
    func delete_OfACodeSeamNoLongerKnows_CountsAsDone(body: String) async throws {
        let outcome = try await SeamClient.testing(ScriptedTransport(status: 404, json: body)).delete(
            accessCodeID: "gone")
        #expect(outcome == .alreadyGone)
    }

    @Test func delete_RethrowsOtherFailures() async throws {
        let client = try SeamClient.testing(ScriptedTransport(status: 500, json: ""))
        await #expect(throws: SeamError.self) { _ = try await client.delete(accessCodeID: "x") }
    }

    @Test func list_FollowsPageCursorsToTheEnd() async throws {
        let transport = ScriptedTransport { request, index in
            let next: String? = index < 2 ? "cursor_\(index + 1)" : nil
            return SeamHTTPResponse(
                status: 200,
                body: Data(SeamFixtures.listPage(ids: ["p\(index)a", "p\(index)b"], next: next).utf8))
        }
        let client = try SeamClient.testing(
            transport, configuration: SeamConfiguration(endpoint: URL(string: "https://seam.test")!, pageLimit: 2))
        let codes = try await client.list(deviceID: "c3b0b0a4-4a2e-4a43-9d2d-0d9b3f7f2a11")

        #expect(codes.map(\.accessCodeID) == ["p0a", "p0b", "p1a", "p1b", "p2a", "p2b"])
        let bodies = transport.requests.map(\.json)
        #expect(bodies.count == 3)
        #expect(bodies.map { $0["page_cursor"] as? String } == [nil, "cursor_1", "cursor_2"])
        #expect(bodies.allSatisfy { $0["device_id"] as? String == "c3b0b0a4-4a2e-4a43-9d2d-0d9b3f7f2a11" })
        #expect(bodies.allSatisfy { $0["limit"] as? Int == 2 })
    }

    @Test func list_StopsOnARepeatedCursor() async throws {
        let transport = ScriptedTransport(json: SeamFixtures.listPage(ids: ["a"], next: "same"))
        let client = try SeamClient.testing(transport)
        do {
            _ = try await client.list(deviceID: "c3b0b0a4-4a2e-4a43-9d2d-0d9b3f7f2a11")
            Issue.record("expected a pagination error")
        } catch {
            #expect(error.kind == .paginationRunaway(pages: 2))
            #expect(error.failureClass == .permanent)
        }
        #expect(transport.requests.count == 2)
    }

    @Test func list_ByIDs_SendsTheIDsAndSkipsTheCallWhenEmpty() async throws {
        let transport = ScriptedTransport(json: SeamFixtures.listPage(ids: ["x", "y", "stranger"], next: nil))
        let client = try SeamClient.testing(transport)
        #expect(try await client.list(accessCodeIDs: []).isEmpty)
        #expect(transport.requests.isEmpty)
        let codes = try await client.list(accessCodeIDs: ["x", "y"])
        #expect(codes.map(\.accessCodeID) == ["x", "y"])
        #expect(transport.requests.first?.json["access_code_ids"] as? [String] == ["x", "y"])
    }

    @Test func list_ByDevice_DropsCodesOfOtherDevices() async throws {
        let transport = ScriptedTransport(json: SeamFixtures.listPage(ids: ["x"], deviceID: "other", next: nil))
        #expect(try await SeamClient.testing(transport).list(deviceID: "mine").isEmpty)
    }

    @Test func listDevices_FollowsPagination() async throws {
        let transport = ScriptedTransport { _, index in
            let device = #"{"device_id": "dev\#(index)", "device_type": "august_lock"}"#
            let pagination =
                index == 0 ? #"{"has_next_page": true, "next_page_cursor": "c1"}"# : #"{"has_next_page": false}"#
            return SeamHTTPResponse(
                status: 200, body: Data(#"{"devices": [\#(device)], "pagination": \#(pagination), "ok": true}"#.utf8))
        }
        let devices = try await SeamClient.testing(transport).listDevices()
        #expect(devices.map(\.deviceID) == ["dev0", "dev1"])
        #expect(transport.requests.map(\.route) == ["/devices/list", "/devices/list"])
    }

    @Test func arguments_SeamWouldRefuse_FailBeforeAnyCall() async throws {
        let transport = ScriptedTransport(json: SeamFixtures.ok)
        let client = try SeamClient.testing(transport)
        try await expectRefused {
            _ = try await client.createMultiple(deviceIDs: [], name: "n", startsAt: start, endsAt: end)
        }
        try await expectRefused {
            _ = try await client.createMultiple(deviceIDs: ["d"], name: "n", startsAt: end, endsAt: start)
        }
        try await expectRefused {
            _ = try await client.createMultiple(deviceIDs: ["d"], name: "n", startsAt: start, endsAt: end, code: "12a4")
        }
        try await expectRefused {
            _ = try await client.createMultiple(deviceIDs: ["d"], name: "n", startsAt: start, endsAt: end, code: "123")
        }
        try await expectRefused { try await client.updateMultiple(commonCodeKey: "", startsAt: start, endsAt: end) }
        try await expectRefused {
            _ = try await client.create(deviceID: "d", name: "n", code: "１２３４", startsAt: start, endsAt: end)
        }
        try await expectRefused { try await client.update(accessCodeID: "a", startsAt: end, endsAt: end) }
        #expect(transport.requests.isEmpty)
    }

    private func expectRefused(_ body: () async throws -> Void) async throws {
        do {
            try await body()
            Issue.record("expected a refusal")
        } catch let error as SeamError {
            guard case .invalidRequest = error.kind else {
                Issue.record("expected .invalidRequest, got \(error)")
                return
            }
            #expect(error.failureClass == .permanent)
        }
    }

    @Test func transportTimeout_BecomesARetryableErrorNamingTheRoute() async throws {
        let client = try SeamClient.testing(ScriptedTransport { _, _ throws(SeamTransportError) in throw .timedOut })
        do {
            _ = try await client.get(accessCodeID: "a")
            Issue.record("expected a failure")
        } catch {
            #expect(error.kind == .transport(.timedOut))
            #expect(error.route == "/access_codes/get")
            #expect(error.failureClass == .retryable)
        }
    }

    @Test func successWithAnUnexpectedBody_IsPermanentWithUnknownOutcome() async throws {
        let client = try SeamClient.testing(ScriptedTransport(json: #"{"access_codes": [{"access_code_id": 7}]}"#))
        do {
            _ = try await client.createMultiple(deviceIDs: ["d"], name: "n", startsAt: start, endsAt: end)
            Issue.record("expected a failure")
        } catch {
            guard case .undecodableResponse(let detail) = error.kind else {
                Issue.record("expected .undecodableResponse, got \(error)")
                return
            }
            #expect(detail.contains("access_codes"))
            #expect(error.failureClass == .permanent)
            #expect(error.outcomeIsUnknown)
        }
    }

    @Test func calls_AreLoggedWithRouteStatusAndRequestID_NeverThePINOrKey() async throws {
        let logs = LogCapture()
        let transport = ScriptedTransport { _, index in
            index == 0
                ? SeamHTTPResponse(
                    status: 200, headers: ["seam-request-id": "req_ok"], body: Data(SeamFixtures.createMultiple.utf8))
                : SeamHTTPResponse(
                    status: 409, headers: ["seam-request-id": "req_dup"],
                    body: Data(#"{"error":{"type":"duplicate_access_code","message":"code 4821 already exists"}}"#.utf8)
                )
        }
        let client = try SeamClient.testing(transport, logger: logs.logger)
        _ = try await client.createMultiple(deviceIDs: ["d"], name: "n", startsAt: start, endsAt: end, code: "4821")
        do {
            _ = try await client.createMultiple(deviceIDs: ["d"], name: "n", startsAt: start, endsAt: end, code: "4821")
            Issue.record("expected the duplicate to fail")
        } catch {
            #expect(error.message == "code •••• already exists")
            #expect(!error.description.contains("4821"))
        }

        let text = logs.text
        #expect(text.contains("seam.route=/access_codes/create_multiple"))
        #expect(text.contains("http.status=200"))
        #expect(text.contains("seam.request_id=req_ok"))
        #expect(text.contains("http.status=409"))
        #expect(text.contains("seam.error_type=duplicate_access_code"))
        #expect(text.contains("duration_ms="))
        #expect(!text.contains("4821"))
        #expect(!text.contains(TestKeys.apiKey))
    }
}

@Suite("Finding a group again after a crash")
struct FindCodesTests {
    @Test func findCodes_ListsEachDeviceAndKeepsTheNamedCodes() async throws {
        let transport = ScriptedTransport { request, _ in
            let device = request.json["device_id"] as? String ?? ""
            let body = """
                {"access_codes": [
                  {"access_code_id": "\(device)-mine", "device_id": "\(device)", "name": "latchkey:r1", "type": "time_bound",
                   "status": "set", "created_at": "2026-01-01T00:00:00Z", "common_code_key": "k1"},
                  {"access_code_id": "\(device)-other", "device_id": "\(device)", "name": "someone else", "type": "ongoing",
                   "status": "set", "created_at": "2026-01-01T00:00:00Z"}
                ], "ok": true}
                """
            return SeamHTTPResponse(status: 200, body: Data(body.utf8))
        }
        let codes = try await SeamClient.testing(transport).findCodes(
            named: "latchkey:r1", onDevices: ["lock1", "lock2"])
        #expect(codes.map(\.accessCodeID) == ["lock1-mine", "lock2-mine"])
        #expect(Set(codes.compactMap(\.commonCodeKey)) == ["k1"])
        #expect(transport.requests.map { $0.json["device_id"] as? String } == ["lock1", "lock2"])
    }
}
