import FakeSeam
import Foundation
import HTTPServer
import LatchkeyTestSupport
import Testing

@Suite("Wire: auth, envelopes, verbs, listing and pagination")
struct WireTests {
    @Test func missingOrWrongBearerKeyIsUnauthorizedInSeamsEnvelope() async throws {
        let fake = Harness()
        for key in [nil, "seam_wrong"] as [String?] {
            let reply = try #require(await fake.send("GET", "/devices/list", key: key))
            #expect(reply.status == 401)
            #expect(reply.errorType == "unauthorized")
            #expect(reply.json["ok"] == false)
            let requestID = try #require(reply.headers["seam-request-id"])
            #expect(reply.json["error"]?.s("request_id") == requestID)
        }
    }

    @Test func everyAnswerCarriesASeamRequestIdHeaderAndJSONContentType() async throws {
        let fake = Harness()
        let reply = try #require(await fake.send("GET", "/devices/list"))
        #expect(reply.status == 200)
        #expect(UUID(uuidString: reply.headers["seam-request-id"] ?? "") != nil)
        #expect(reply.headers["Content-Type"]?.hasPrefix("application/json") == true)
        let other = try #require(await fake.send("GET", "/devices/list"))
        #expect(other.headers["seam-request-id"] != reply.headers["seam-request-id"])
    }

    @Test func invalidInputListsEachParameterInZodFormat() async throws {
        let fake = Harness()
        let reply = await fake.post(
            "/access_codes/create", ["device_id": "not-a-uuid", "code": "12ab", "starts_at": "yesterday"])
        #expect(reply.status == 400)
        #expect(reply.errorType == "invalid_input")
        let errors = try #require(reply.json["error"]?["validation_errors"])
        #expect(errors["_errors"] == [])
        for key in ["device_id", "code", "starts_at"] {
            #expect(errors[key]?["_errors"]?.arrayValue?.isEmpty == false, "no message for \(key)")
        }
        #expect(reply.json["error"]?.s("message")?.hasPrefix("3 Input Errors") == true)
    }

    @Test func missingRequiredParameterSaysRequired() async {
        let fake = Harness()
        let reply = await fake.post("/access_codes/delete", [:])
        #expect(reply.errorType == "invalid_input")
        #expect(reply.json["error"]?["validation_errors"]?["access_code_id"]?["_errors"] == ["Required"])
    }

    @Test func bodyThatIsNotJSONIsInvalidInput() async {
        let fake = Harness()
        let reply = await fake.send("POST", "/access_codes/create", rawBody: Array("device_id=1".utf8))
        #expect(reply?.status == 400)
        #expect(reply?.errorType == "invalid_input")
    }

    @Test func routesAcceptTheVerbsSeamsSpecListsAndNoOthers() async throws {
        let fake = Harness()
        let allowed: [(String, String)] = [
            ("PUT", "/access_codes/create_multiple"), ("POST", "/access_codes/create_multiple"),
            ("PATCH", "/access_codes/update_multiple"), ("GET", "/access_codes/list"), ("POST", "/access_codes/list"),
            ("GET", "/devices/get"), ("POST", "/devices/get"), ("GET", "/action_attempts/get"),
        ]
        for (method, path) in allowed {
            let reply = try #require(await fake.send(method, path, body: method == "GET" ? nil : [:]))
            #expect(reply.status != 405 && reply.status != 404, "\(method) \(path) gave \(reply.status)")
        }
        let refused = try #require(await fake.send("GET", "/access_codes/create"))
        #expect(refused.status == 405)
        #expect(refused.headers["Allow"] == "POST")
        let deleteGet = try #require(await fake.send("PUT", "/access_codes/delete"))
        #expect(deleteGet.status == 405)
        #expect(deleteGet.json["ok"] == false)
        #expect(deleteGet.json["error"]?.s("request_id") == deleteGet.headers["seam-request-id"])
        let unknown = try #require(await fake.send("GET", "/access_codes/nothing_here"))
        #expect(unknown.status == 404)
        #expect(unknown.errorType == "not_found")
    }

    @Test func listByDeviceIdReturnsOnlyThatDevicesCodesWithAPaginationObject() async throws {
        let fake = Harness()
        _ = await fake.createMultiple([Locks.frontDoor, Locks.backDoor])
        _ = await fake.createMultiple([Locks.backDoor])
        let reply = try #require(await fake.send("GET", "/access_codes/list?device_id=\(Locks.backDoor)&_strict=true"))
        #expect(reply.json["access_codes"]?.arrayValue?.count == 2)
        #expect(reply.json["access_codes"]?.arrayValue?.allSatisfy { $0.s("device_id") == Locks.backDoor } == true)
        #expect(reply.json["pagination"] == ["has_next_page": false, "next_page_cursor": nil, "next_page_url": nil])
    }

    @Test func listByAccessCodeIdsTakesRepeatedQueryKeysAndJSONArrays() async throws {
        let fake = Harness()
        let ids = await fake.createMultiple([Locks.frontDoor, Locks.backDoor, Locks.garage]).compactMap {
            $0.s("access_code_id")
        }
        try #require(ids.count == 3)
        let query = try #require(
            await fake.send("GET", "/access_codes/list?access_code_ids=\(ids[0])&access_code_ids=\(ids[2])"))
        #expect(query.json["access_codes"]?.arrayValue?.compactMap { $0.s("access_code_id") } == [ids[0], ids[2]])
        let body = await fake.post("/access_codes/list", ["access_code_ids": [.string(ids[1])]])
        #expect(body.json["access_codes"]?.arrayValue?.compactMap { $0.s("access_code_id") } == [ids[1]])
    }

    @Test func listPagesWithLimitAndPageCursorUntilTheLastPage() async throws {
        let fake = Harness()
        for _ in 0..<5 { _ = await fake.createMultiple([Locks.frontDoor]) }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let target =
                "/access_codes/list?device_id=\(Locks.frontDoor)&limit=2" + (cursor.map { "&page_cursor=\($0)" } ?? "")
            let reply = try #require(await fake.send("GET", target))
            seen += reply.json["access_codes"]?.arrayValue?.compactMap { $0.s("access_code_id") } ?? []
            cursor = reply.json["pagination"]?.s("next_page_cursor")
            #expect(reply.json["pagination"]?["has_next_page"] == .bool(cursor != nil))
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(seen.count == 5)
        #expect(Set(seen).count == 5)
        let bad = await fake.send("GET", "/access_codes/list?device_id=\(Locks.frontDoor)&page_cursor=nonsense")
        #expect(bad?.errorType == "invalid_input")
    }

    @Test func generateCodeSuggestsAPINTheDeviceAccepts() async throws {
        let fake = Harness()
        let reply = try #require(await fake.send("GET", "/access_codes/generate_code?device_id=\(Locks.garage)"))
        #expect(reply.json["generated_code"]?.s("code")?.count == 4)
        // Seam's OpenAPI document answers an access code object, not a bare {device_id, code}.
        #expect(reply.json["generated_code"]?.s("device_id") == Locks.garage)
        #expect(reply.json["generated_code"]?.s("status") == "unset")
        #expect(reply.json["generated_code"]?.s("access_code_id") != nil)
        #expect(fake.service.accessCodes.isEmpty)
    }

    @Test func devicesListAndGetDescribeTheSeededLocks() async throws {
        let fake = Harness()
        let list = try #require(await fake.send("GET", "/devices/list"))
        let devices = try #require(list.json["devices"]?.arrayValue)
        #expect(devices.count == FakeSeamSeed.defaultSeed.devices.count)
        let garage = try #require(await fake.send("GET", "/devices/get?device_id=\(Locks.garage)")?.json["device"])
        #expect(garage.s("device_type") == "schlage_lock")
        #expect(garage["properties"]?["supported_code_lengths"] == [4])
        #expect(garage["properties"]?["online"] == true)
        let shed = try #require(
            await fake.send("POST", "/devices/get", body: ["device_id": .string(Locks.shed)])?.json["device"])
        #expect(shed["properties"]?["online"] == false)
        #expect(shed["errors"]?.arrayValue?.first?.s("error_code") == "device_offline")
        let missing = await fake.send("GET", "/devices/get?device_id=9a0c1e7a-5b54-4a38-9b86-000000000999")
        #expect(missing?.status == 404)
        #expect(missing?.errorType == "device_not_found")
    }

    @Test func seedFileIsReadWithDefaultsAndBadIdsAreRefused() throws {
        let temporary = TemporaryDirectory(prefix: "fakeseam")
        defer { temporary.remove() }
        let dir = temporary.url
        let good = dir.appendingPathComponent("seed.json")
        try Data(
            #"{"devices":[{"device_id":"9A0C1E7A-5B54-4A38-9B86-000000000001","display_name":"Loft","supported_code_lengths":[6]}]}"#
                .utf8
        ).write(to: good)
        let seed = try FakeSeamSeed.load(contentsOf: good.path)
        #expect(seed.devices.first?.deviceID == "9a0c1e7a-5b54-4a38-9b86-000000000001")
        #expect(seed.devices.first?.online == true)
        #expect(seed.devices.first?.supportedCodeLengths == [6])
        #expect(seed.workspaceID == FakeSeamSeed.defaultWorkspaceID)
        let bad = dir.appendingPathComponent("bad.json")
        try Data(#"{"devices":[{"device_id":"front-door"}]}"#.utf8).write(to: bad)
        #expect(throws: FakeSeamSeedError.self) { try FakeSeamSeed.load(contentsOf: bad.path) }
    }

    @Test func controlStateShowsCodesWithPINsAndResetEmptiesThem() async throws {
        let fake = Harness()
        let pin = try #require(await fake.createMultiple([Locks.frontDoor]).first?.s("code"))
        let state = try #require(await fake.send("GET", "/_fake/state", key: nil))
        #expect(state.json["access_codes"]?.arrayValue?.first?.s("code") == pin)
        #expect(state.json["devices"]?.arrayValue?.count == 5)
        #expect(state.json["calls"]?.arrayValue?.isEmpty == false)
        _ = await fake.send("POST", "/_fake/reset", key: nil)
        #expect(fake.service.accessCodes.isEmpty)
    }

    @Test func controlClockAdvancesAndRefusesToGoBack() async throws {
        let fake = Harness()
        let before = fake.service.now
        let reply = try #require(await fake.send("POST", "/_fake/clock", body: ["advance_seconds": 90], key: nil))
        #expect(reply.status == 200)
        #expect(fake.service.now == before.addingTimeInterval(90))
        let set = try #require(
            await fake.send(
                "POST", "/_fake/clock", body: ["set": .string(SeamTime.format(before.addingTimeInterval(3600)))],
                key: nil))
        #expect(set.json.s("now") == SeamTime.format(before.addingTimeInterval(3600)))
        let back = try #require(
            await fake.send("POST", "/_fake/clock", body: ["set": .string(SeamTime.format(before))], key: nil))
        #expect(back.status == 400)
    }
}

@Suite("Command-line configuration")
struct OptionsTests {
    @Test func optionsBuildAConfigurationAndWrongOnesNameTheOption() throws {
        let temporary = TemporaryDirectory(prefix: "fakeseam-opts")
        defer { temporary.remove() }
        let dir = temporary.url
        let faults = dir.appendingPathComponent("faults.json")
        try Data(#"{"seed": 7, "server_error_rate": 0.25}"#.utf8).write(to: faults)
        let configuration = try FakeSeamConfiguration.fromOptions(
            faultsFile: faults.path, apiKeys: ["seam_other"], webhookURL: "http://127.0.0.1:9/seam",
            webhookSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", manualClockStart: Date(timeIntervalSince1970: 0))
        #expect(configuration.faults.seed == 7)
        #expect(configuration.faults.serverErrorRate == 0.25)
        #expect(configuration.apiKeys == ["seam_other"])
        #expect(configuration.webhook?.url.port == 9)
        #expect(configuration.clock == .manual(start: Date(timeIntervalSince1970: 0)))
        #expect(configuration.seed == .defaultSeed)
        do {
            _ = try FakeSeamConfiguration.fromOptions(webhookURL: "http://127.0.0.1:9/seam")
            Issue.record("a webhook URL without a secret was accepted")
        } catch {
            #expect(error.option == "--webhook-secret")
        }
        let badFaults = dir.appendingPathComponent("bad.json")
        try Data(#"{"timeout_rate": 3}"#.utf8).write(to: badFaults)
        #expect(throws: FakeSeamConfigurationError.self) {
            try FakeSeamConfiguration.fromOptions(faultsFile: badFaults.path)
        }
    }
}
