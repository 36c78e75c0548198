import FakeSeam
import Foundation
import HTTPServer
import Testing

@Suite("Linked access codes (create_multiple / update_multiple)")
struct LinkedCodeTests {
    @Test func createMultipleSetsOnePINAndOneAutoCommonCodeKeyOnEveryDevice() async throws {
        let fake = Harness()
        let codes = await fake.createMultiple(
            [Locks.frontDoor, Locks.backDoor], extra: ["name": "Jane's reservation", "preferred_code_length": 6])
        try #require(codes.count == 2)
        let pin = try #require(codes[0].s("code"))
        #expect(pin.count == 6)
        #expect(codes[1].s("code") == pin)
        let key = try #require(codes[0].s("common_code_key"))
        #expect(key.hasPrefix("auto_set_by_create_multiple_"))
        #expect(UUID(uuidString: String(key.dropFirst("auto_set_by_create_multiple_".count))) != nil)
        #expect(codes[1].s("common_code_key") == key)
        #expect(codes.map { $0.s("device_id") } == [Locks.frontDoor, Locks.backDoor])
        #expect(
            codes.allSatisfy {
                $0.s("name") == "Jane's reservation" && $0.s("type") == "ongoing" && $0.s("status") == "setting"
            })
        #expect(codes.allSatisfy { UUID(uuidString: $0.s("access_code_id") ?? "") != nil })
    }

    @Test func createMultipleAnswersOkTrueWithTheAccessCodesKeyAndNoActionAttempt() async {
        let fake = Harness()
        let reply = await fake.post("/access_codes/create_multiple", ["device_ids": [.string(Locks.frontDoor)]])
        #expect(reply.status == 200)
        #expect(reply.json["ok"] == true)
        #expect(reply.json["access_codes"]?.arrayValue?.count == 1)
        #expect(reply.json["action_attempt"] == nil)
    }

    @Test func lengthFallsBackToTheShortestLengthEveryDeviceSupports() async throws {
        let fake = Harness()
        // The Schlage takes exactly 4 digits, so a preferred 6 cannot be shared; 4 is the common length.
        let codes = await fake.createMultiple([Locks.frontDoor, Locks.garage], extra: ["preferred_code_length": 6])
        try #require(codes.count == 2)
        #expect(codes[0].s("code")?.count == 4)
        #expect(codes[0].s("code") == codes[1].s("code"))
        #expect(codes[0].s("common_code_key") != nil)
    }

    @Test func throwBehaviourRefusesTheWholeGroupWhenOneDeviceCannotShare() async {
        let fake = Harness()
        let reply = await fake.post(
            "/access_codes/create_multiple", ["device_ids": [.string(Locks.frontDoor), .string(Locks.poolGate)]])
        #expect(reply.status == 400)
        #expect(reply.errorType == "cannot_share_code")
        #expect(reply.json["error"]?["data"]?["device_ids"] == [.string(Locks.poolGate)])
        #expect(fake.service.accessCodes.isEmpty)
    }

    @Test func createRandomCodeGivesTheUnshareableDeviceItsOwnPINOutsideTheGroup() async throws {
        let fake = Harness()
        let codes = await fake.createMultiple(
            [Locks.frontDoor, Locks.backDoor, Locks.poolGate],
            extra: ["behavior_when_code_cannot_be_shared": "create_random_code", "preferred_code_length": 4])
        try #require(codes.count == 3)
        let shared = try #require(codes[0].s("code"))
        #expect(codes[1].s("code") == shared)
        let own = try #require(codes[2].s("code"))
        #expect(own.count == 6)
        #expect(own != shared)
        #expect(codes[2]["common_code_key"] == .null)
        #expect(codes[0].s("common_code_key") != nil)
    }

    @Test func customCodeIsUsedEverywhereWithoutACommonCodeKey() async throws {
        let fake = Harness()
        let codes = await fake.createMultiple([Locks.frontDoor, Locks.backDoor], extra: ["code": "4821"])
        try #require(codes.count == 2)
        #expect(codes.allSatisfy { $0.s("code") == "4821" && $0["common_code_key"] == .null })
    }

    @Test func customCodeOfAnUnsupportedLengthThrowsByDefault() async {
        let fake = Harness()
        let reply = await fake.post(
            "/access_codes/create_multiple",
            ["device_ids": [.string(Locks.frontDoor), .string(Locks.garage)], "code": "482193"])
        #expect(reply.status == 400)
        #expect(reply.errorType == "cannot_share_code")
    }

    @Test func generatedPINAvoidsOneAlreadyOnTheDevice() async throws {
        let fake = Harness()
        let first = await fake.createMultiple([Locks.garage])
        let pin = try #require(first.first?.s("code"))
        let duplicate = await fake.post(
            "/access_codes/create_multiple", ["device_ids": [.string(Locks.garage)], "code": .string(pin)])
        #expect(duplicate.errorType == "cannot_share_code")
        let second = await fake.createMultiple([Locks.garage])
        #expect(second.first?.s("code") != pin)
    }

    @Test func createMultipleRejectsParametersOnlyCreateAccepts() async {
        let fake = Harness()
        let reply = await fake.post(
            "/access_codes/create_multiple", ["device_ids": [.string(Locks.frontDoor)], "common_code_key": "mine"])
        #expect(reply.status == 400)
        #expect(reply.errorType == "invalid_input")
        #expect(reply.json["error"]?["validation_errors"]?["common_code_key"]?["_errors"]?.arrayValue?.isEmpty == false)
    }

    @Test func unknownDeviceIsDeviceNotFoundAndCreatesNothing() async {
        let fake = Harness()
        let reply = await fake.post(
            "/access_codes/create_multiple",
            ["device_ids": [.string(Locks.frontDoor), "9a0c1e7a-5b54-4a38-9b86-000000000999"]])
        #expect(reply.status == 404)
        #expect(reply.errorType == "device_not_found")
        #expect(fake.service.accessCodes.isEmpty)
    }

    @Test func updateMultipleMovesTheWindowAndNameOfEveryCodeOfTheGroup() async throws {
        let fake = Harness()
        let start = fake.service.now.addingTimeInterval(86_400)
        let codes = await fake.createMultiple(
            [Locks.frontDoor, Locks.backDoor],
            extra: [
                "starts_at": .string(SeamTime.format(start)),
                "ends_at": .string(SeamTime.format(start.addingTimeInterval(86_400))),
            ])
        let key = try #require(codes.first?.s("common_code_key"))
        let newStart = SeamTime.format(start.addingTimeInterval(-3600))
        let newEnd = SeamTime.format(start.addingTimeInterval(2 * 86_400))
        let reply = await fake.send(
            "PATCH", "/access_codes/update_multiple",
            body: [
                "common_code_key": .string(key), "starts_at": .string(newStart), "ends_at": .string(newEnd),
                "name": "Late checkout",
            ])
        #expect(reply?.status == 200)
        #expect(reply?.json == ["ok": true])
        let stored = fake.service.accessCodes
        #expect(stored.count == 2)
        #expect(
            stored.allSatisfy {
                $0.startsAt.map(SeamTime.format) == newStart && $0.endsAt.map(SeamTime.format) == newEnd
                    && $0.name == "Late checkout"
            })
        #expect(Set(stored.map(\.code)).count == 1)
    }

    @Test func updateMultipleOfAnUnknownKeyIsNotFound() async {
        let fake = Harness()
        let reply = await fake.post(
            "/access_codes/update_multiple", ["common_code_key": "auto_set_by_create_multiple_nothing"])
        #expect(reply.status == 404)
        #expect(reply.errorType == "not_found")
    }

    @Test func updateMultipleRefusesACodeChange() async {
        let fake = Harness()
        let reply = await fake.post("/access_codes/update_multiple", ["common_code_key": "k", "code": "1234"])
        #expect(reply.status == 400)
        #expect(reply.errorType == "invalid_input")
    }

    @Test func windowNeedsBothEndsAndEndsAtAfterStartsAt() async {
        let fake = Harness()
        let now = fake.service.now
        let onlyOne = await fake.post(
            "/access_codes/create_multiple",
            [
                "device_ids": [.string(Locks.frontDoor)],
                "starts_at": .string(SeamTime.format(now.addingTimeInterval(60))),
            ])
        #expect(onlyOne.errorType == "invalid_input")
        let backwards = await fake.post(
            "/access_codes/create_multiple",
            [
                "device_ids": [.string(Locks.frontDoor)],
                "starts_at": .string(SeamTime.format(now.addingTimeInterval(600))),
                "ends_at": .string(SeamTime.format(now.addingTimeInterval(60))),
            ])
        #expect(backwards.errorType == "invalid_input")
        #expect(backwards.json["error"]?.s("message")?.contains("ends_at must be after starts_at") == true)
    }

    @Test func createWithACommonCodeKeyJoinsTheGroupAndMovesWithIt() async throws {
        let fake = Harness()
        let group = await fake.createMultiple([Locks.frontDoor])
        let key = try #require(group.first?.s("common_code_key"))
        let joined = await fake.post(
            "/access_codes/create", ["device_id": .string(Locks.backDoor), "common_code_key": .string(key)])
        #expect(joined.json["access_code"]?.s("code") == group.first?.s("code"))
        let now = fake.service.now
        _ = await fake.post(
            "/access_codes/update_multiple",
            [
                "common_code_key": .string(key), "starts_at": .string(SeamTime.format(now.addingTimeInterval(60))),
                "ends_at": .string(SeamTime.format(now.addingTimeInterval(120))),
            ])
        #expect(fake.service.accessCodes.allSatisfy { $0.type == "time_bound" })
    }

    @Test func generatedAndCustomPINsRespectTheDevicesCodeConstraints() async throws {
        let picky = FakeDevice(
            deviceID: "9a0c1e7a-5b54-4a38-9b86-0000000000aa", supportedCodeLengths: [4],
            codeConstraints: ["no_zeros", "cannot_contain_089", "cannot_start_with_12"])
        let seed = FakeSeamSeed(
            workspaceID: FakeSeamSeed.defaultWorkspaceID, connectedAccountID: FakeSeamSeed.defaultConnectedAccountID,
            devices: [picky])
        var faults = FaultConfiguration()
        faults.enforceDeviceRateLimits = false
        let fake = Harness(configuration: .testing(seed: seed, faults: faults))
        for _ in 0..<30 {
            let pin = try #require(await fake.createMultiple([picky.deviceID]).first?.s("code"))
            #expect(!pin.contains(where: { "089".contains($0) }) && !pin.hasPrefix("12"), "generated \(pin)")
        }
        let custom = await fake.post("/access_codes/create", ["device_id": .string(picky.deviceID), "code": "1234"])
        #expect(custom.errorType == "invalid_input")
        #expect(custom.json["error"]?.s("message")?.contains("cannot_start_with_12") == true)
        let shared = await fake.post(
            "/access_codes/create_multiple", ["device_ids": [.string(picky.deviceID)], "code": "4508"])
        #expect(shared.errorType == "cannot_share_code")
    }
}
