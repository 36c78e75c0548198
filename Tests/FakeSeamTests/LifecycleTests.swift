import FakeSeam
import Foundation
import HTTPServer
import Testing

@Suite("Access-code lifecycle on the fake's clock")
struct LifecycleTests {
    @Test func ongoingCodeGoesFromSettingToSetWhenTheClockPassesTheProgrammingDelay() async throws {
        let fake = Harness()
        let id = try #require(await fake.createMultiple([Locks.frontDoor]).first?.s("access_code_id"))
        fake.service.advanceClock(by: 4)
        #expect(await fake.get(id).json["access_code"]?.s("status") == "setting")
        fake.service.advanceClock(by: 1)
        #expect(await fake.get(id).json["access_code"]?.s("status") == "set")
        #expect(fake.service.events.map(\.type) == ["access_code.created", "access_code.set_on_device"])
    }

    @Test func timeBoundCodeIsUnsetThenScheduledThenSetAtStartsAtAndGoneAfterEndsAt() async throws {
        let fake = Harness()
        let now = fake.service.now
        let codes = await fake.createMultiple(
            [Locks.frontDoor],
            extra: [
                "starts_at": .string(SeamTime.format(now.addingTimeInterval(3600))),
                "ends_at": .string(SeamTime.format(now.addingTimeInterval(7200))),
            ])
        let id = try #require(codes.first?.s("access_code_id"))
        #expect(codes.first?.s("type") == "time_bound")
        #expect(codes.first?.s("status") == "unset")
        fake.service.advanceClock(by: 10)
        let scheduled = await fake.get(id).json["access_code"]
        #expect(scheduled?.s("status") == "unset")
        #expect(scheduled?["is_scheduled_on_device"] == true)
        fake.service.advanceClock(by: 3600)
        #expect(await fake.get(id).json["access_code"]?.s("status") == "set")
        fake.service.advanceClock(by: 3592)  // 2 s past ends_at: removal takes 5 s
        #expect(await fake.get(id).json["access_code"]?.s("status") == "removing")
        fake.service.advanceClock(by: 3)
        #expect(await fake.get(id).status == 404)
        #expect(
            fake.service.events.map(\.type) == [
                "access_code.created", "access_code.scheduled_on_device", "access_code.set_on_device",
                "access_code.removed_from_device",
            ])
    }

    @Test func deleteMovesTheCodeToRemovingWithBeingDeletedThenItIsGone() async throws {
        let fake = Harness()
        let id = try #require(await fake.createMultiple([Locks.frontDoor]).first?.s("access_code_id"))
        fake.service.advanceClock(by: 5)
        let reply = await fake.send("DELETE", "/access_codes/delete?access_code_id=\(id)&_strict=true")
        #expect(reply?.status == 200)
        let attempt = try #require(reply?.json["action_attempt"])
        #expect(attempt.s("action_type") == "DELETE_ACCESS_CODE")
        #expect(attempt.s("status") == "pending")
        let removing = await fake.get(id).json["access_code"]
        #expect(removing?.s("status") == "removing")
        #expect(removing?["warnings"]?.arrayValue?.first?.s("warning_code") == "being_deleted")
        fake.service.advanceClock(by: 5)
        let gone = await fake.get(id)
        #expect(gone.status == 404)
        #expect(gone.errorType == "access_code_not_found")
        let finished = await fake.send(
            "GET", "/action_attempts/get?action_attempt_id=\(attempt.s("action_attempt_id") ?? "")")
        #expect(finished?.json["action_attempt"]?.s("status") == "success")
        #expect(finished?.json["action_attempt"]?["result"] == [:])
        #expect(
            fake.service.events.map(\.type).suffix(2) == ["access_code.deleted", "access_code.removed_from_device"])
    }

    @Test func deletingANeverProgrammedCodeEmitsNoRemovedFromDevice() async throws {
        let fake = Harness()
        let id = try #require(await fake.createMultiple([Locks.frontDoor]).first?.s("access_code_id"))
        _ = await fake.post("/access_codes/delete", ["access_code_id": .string(id)])
        fake.service.advanceClock(by: 10)
        #expect(fake.service.events.map(\.type) == ["access_code.created", "access_code.deleted"])
    }

    @Test func codeOnAnOfflineLockFailsToSetWithSeamErrorCodes() async throws {
        let fake = Harness()
        let reply = await fake.post("/access_codes/create", ["device_id": .string(Locks.shed), "code": "5831"])
        let id = try #require(reply.json["access_code"]?.s("access_code_id"))
        let attemptID = try #require(reply.json["action_attempt"]?.s("action_attempt_id"))
        fake.service.advanceClock(by: 5)
        let code = try #require(await fake.get(id).json["access_code"])
        #expect(code.s("status") == "setting")
        let errors = code["errors"]?.arrayValue ?? []
        #expect(errors.map { $0.s("error_code") } == ["failed_to_set_on_device", "device_offline"])
        #expect(errors.first?["is_access_code_error"] == true)
        #expect(errors.last?["is_device_error"] == true)
        let attempt = await fake.send("POST", "/action_attempts/get", body: ["action_attempt_id": .string(attemptID)])
        #expect(attempt?.json["action_attempt"]?.s("status") == "error")
        #expect(attempt?.json["action_attempt"]?["error"]?.s("type") == "device_offline")
        let failed = try #require(fake.service.events.last)
        #expect(failed.type == "access_code.failed_to_set_on_device")
        #expect(failed.json["device_errors"]?.arrayValue?.first?.s("error_code") == "device_offline")
        #expect(failed.json["connected_account_errors"] == [])
    }

    @Test func offlineLockCodeSetsOnceTheLockComesBackOnline() async throws {
        let fake = Harness()
        let id = try #require(await fake.createMultiple([Locks.shed]).first?.s("access_code_id"))
        fake.service.advanceClock(by: 5)
        try fake.service.setDeviceOnline(true, deviceID: Locks.shed)
        fake.service.advanceClock(by: 5)
        let code = await fake.get(id).json["access_code"]
        #expect(code?.s("status") == "set")
        #expect(code?["errors"] == [])
    }

    @Test func attemptForOfflineDeviceFalseRefusesAtOnce() async {
        let fake = Harness()
        let reply = await fake.post(
            "/access_codes/create", ["device_id": .string(Locks.shed), "attempt_for_offline_device": false])
        #expect(reply.status == 400)
        #expect(reply.errorType == "device_offline")
    }

    @Test func createReturnsTheCodeAndACreateAttemptThatSucceedsWithTheCode() async throws {
        let fake = Harness()
        let reply = await fake.post("/access_codes/create", ["device_id": .string(Locks.garage), "name": "Cleaner"])
        #expect(reply.status == 200)
        let code = try #require(reply.json["access_code"])
        #expect(code.s("code")?.count == 4)
        #expect(code["common_code_key"] == .null)
        let attempt = try #require(reply.json["action_attempt"])
        #expect(attempt.s("action_type") == "CREATE_ACCESS_CODE")
        fake.service.advanceClock(by: 5)
        let done = await fake.send(
            "GET", "/action_attempts/get?action_attempt_id=\(attempt.s("action_attempt_id") ?? "")")
        #expect(done?.json["action_attempt"]?.s("status") == "success")
        #expect(done?.json["action_attempt"]?["result"]?["access_code"]?.s("status") == "set")
    }

    @Test func duplicatePINOnTheSameLockIsAConflict() async {
        let fake = Harness()
        _ = await fake.post("/access_codes/create", ["device_id": .string(Locks.frontDoor), "code": "7351"])
        let again = await fake.post("/access_codes/create", ["device_id": .string(Locks.frontDoor), "code": "7351"])
        #expect(again.status == 409)
        #expect(again.errorType == "duplicate_access_code")
    }

    @Test func updateChangesNameAndPINAndReprogrammesTheCode() async throws {
        let fake = Harness()
        let id = try #require(await fake.createMultiple([Locks.frontDoor]).first?.s("access_code_id"))
        fake.service.advanceClock(by: 5)
        let reply = await fake.send(
            "PATCH", "/access_codes/update", body: ["access_code_id": .string(id), "name": "Owner", "code": "918273"])
        #expect(reply?.status == 200)
        #expect(reply?.json["action_attempt"]?.s("action_type") == "UPDATE_ACCESS_CODE")
        let code = await fake.get(id).json["access_code"]
        #expect(code?.s("name") == "Owner")
        #expect(code?.s("code") == "918273")
        #expect(code?.s("status") == "setting")
        let put = await fake.send(
            "PUT", "/access_codes/update", body: ["access_code_id": .string(id), "name": "Owner 2"])
        #expect(put?.status == 200)
    }

    @Test func updateToOngoingClearsTheWindow() async throws {
        let fake = Harness()
        let now = fake.service.now
        let id = try #require(
            await fake.createMultiple(
                [Locks.frontDoor],
                extra: [
                    "starts_at": .string(SeamTime.format(now.addingTimeInterval(60))),
                    "ends_at": .string(SeamTime.format(now.addingTimeInterval(600))),
                ]
            ).first?.s("access_code_id"))
        _ = await fake.post("/access_codes/update", ["access_code_id": .string(id), "type": "ongoing"])
        let code = await fake.get(id).json["access_code"]
        #expect(code?.s("type") == "ongoing")
        #expect(code?["ends_at"] == .null)
    }

    @Test func getByDeviceAndCodeFindsTheCode() async throws {
        let fake = Harness()
        _ = await fake.post("/access_codes/create", ["device_id": .string(Locks.frontDoor), "code": "6402"])
        let found = await fake.send("GET", "/access_codes/get?device_id=\(Locks.frontDoor)&code=6402")
        #expect(found?.json["access_code"]?.s("code") == "6402")
        let missing = await fake.send("GET", "/access_codes/get?device_id=\(Locks.frontDoor)&code=0000")
        #expect(missing?.status == 404)
        #expect(missing?.errorType == "not_found")
    }

    @Test func clockTickerSetsCodesOnASystemClockWithoutAnyRequest() async throws {
        var configuration = FakeSeamConfiguration()
        configuration.timing = FakeSeamTiming(programmingDelay: 0.05, removalDelay: 0.05)
        let fake = Harness(configuration: configuration)
        _ = await fake.createMultiple([Locks.frontDoor])
        let ticker = fake.service.startClockTicker(every: .milliseconds(20))
        defer { ticker.cancel() }
        for _ in 0..<200 where fake.service.events.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(fake.service.events.map(\.type) == ["access_code.created", "access_code.set_on_device"])
    }
}
