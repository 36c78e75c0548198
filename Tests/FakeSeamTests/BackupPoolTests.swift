import FakeSeam
import Foundation
import Testing

@Suite("Backup code pool, offline locks and a time-bound code's statuses")
struct BackupPoolTests {
    /// A time-bound code on `device`, starting in `startIn` seconds, for two days, with the pool when asked.
    private func create(_ fake: Harness, on device: String, startIn: TimeInterval, pool: Bool) async throws -> String {
        let now = fake.service.now
        let created = await fake.post(
            "/access_codes/create",
            [
                "device_id": .string(device), "name": "Stay",
                "starts_at": .string(SeamTime.format(now.addingTimeInterval(startIn))),
                "ends_at": .string(SeamTime.format(now.addingTimeInterval(startIn + 2 * 86400))),
                "use_backup_access_code_pool": .bool(pool),
            ])
        let code = try #require(created.json["access_code"])
        // Only on a lock that has a pool (the built-in Garage has none).
        #expect(code["is_backup_access_code_available"] == .bool(pool && device != Locks.garage))
        return try #require(code.s("access_code_id"))
    }

    private func pull(_ fake: Harness, _ id: String) async -> Reply {
        await fake.post("/access_codes/pull_backup_access_code", ["access_code_id": .string(id)])
    }

    @Test func aCodeFailingOnAnOfflineLockGetsABackupCodeThatWorksAtOnceAndTheSameOneTwice() async throws {
        let fake = Harness()
        let id = try await create(fake, on: Locks.shed, startIn: 3600, pool: true)
        fake.service.advanceClock(by: 10)
        let failing = try #require(await fake.get(id).json["access_code"])
        #expect(failing.s("status") == "setting")
        #expect(
            failing["errors"]?.arrayValue?.map { $0.s("error_code") } == ["failed_to_set_on_device", "device_offline"])

        let reply = await pull(fake, id)
        #expect(reply.status == 200)
        let backup = try #require(reply.json["backup_access_code"])
        let backupID = try #require(backup.s("access_code_id"))
        #expect(reply.json["access_code"]?.s("pulled_backup_access_code_id") == backupID)
        #expect(reply.json["access_code"]?["is_backup_access_code_available"] == false)
        #expect(backup["is_backup"] == true)
        #expect(backup.s("status") == "set", "preloaded: it works on the offline lock at once")
        #expect(backup.s("ends_at") == failing.s("ends_at"))
        #expect(backup.s("code") != failing.s("code"))
        #expect(fake.service.events.last?.type == "access_code.backup_access_code_pulled")

        fake.service.advanceClock(by: 10)
        let later = try #require(await fake.get(backupID).json["access_code"])
        #expect(later.s("status") == "set")
        #expect(later["errors"]?.arrayValue?.isEmpty == true, "nothing to programme on the offline lock")

        let again = await pull(fake, id)
        #expect(again.json["backup_access_code"]?.s("access_code_id") == backupID)
        #expect(fake.service.events.count { $0.type == "access_code.backup_access_code_pulled" } == 1)

        fake.service.advanceClock(by: 3600 + 2 * 86400 + 10)  // past ends_at: the backup goes with the original
        #expect(await fake.get(backupID).status == 404)
    }

    @Test func noBackupCodeWithoutThePoolOnALockWithoutOneOrForAnOngoingCode() async throws {
        let fake = Harness()
        let plain = try await create(fake, on: Locks.frontDoor, startIn: 3600, pool: false)
        #expect(await pull(fake, plain).json["error"]?.s("type") == "backup_access_code_pool_not_enabled")
        let noPool = try await create(fake, on: Locks.garage, startIn: 3600, pool: true)
        #expect(await pull(fake, noPool).status == 400)
        let ongoing = await fake.post(
            "/access_codes/create", ["device_id": .string(Locks.frontDoor), "use_backup_access_code_pool": true])
        let ongoingID = try #require(ongoing.json["access_code"]?.s("access_code_id"))
        #expect(await pull(fake, ongoingID).json["error"]?.s("type") == "access_code_not_time_bound")
        #expect(await pull(fake, "6b0c1b9e-3f0a-4b8e-9a56-1d2c3b4a5f60").status == 404)
    }

    @Test func aLockTakenOfflineMakesANewCodeFailThenOnlineAgainItIsSet() async throws {
        let fake = Harness()
        let offline = await fake.send(
            "POST", "/_fake/devices/set_online", body: ["device_id": .string(Locks.backDoor), "online": false], key: nil
        )
        #expect(offline?.status == 200)
        let id = try #require(await fake.createMultiple([Locks.backDoor]).first?.s("access_code_id"))
        fake.service.advanceClock(by: 10)
        #expect(await fake.get(id).json["access_code"]?["errors"]?.arrayValue?.count == 2)
        #expect(fake.service.events.last?.type == "access_code.failed_to_set_on_device")
        _ = await fake.send(
            "POST", "/_fake/devices/set_online", body: ["device_id": .string(Locks.backDoor), "online": true], key: nil)
        fake.service.advanceClock(by: 10)
        let code = try #require(await fake.get(id).json["access_code"])
        #expect(code.s("status") == "set")
        #expect(code["errors"]?.arrayValue?.isEmpty == true)
    }

    @Test func aFarOffCodeIsUnsetThenProgrammedSeventyTwoHoursAheadThenScheduledThenSet() async throws {
        let fake = Harness()
        let id = try await create(fake, on: Locks.frontDoor, startIn: 4 * 86400, pool: false)
        fake.service.advanceClock(by: 3600)
        var code = try #require(await fake.get(id).json["access_code"])
        #expect(code.s("status") == "unset")
        #expect(code["is_scheduled_on_device"] == false)
        fake.service.advanceClock(by: 86400 - 3600 + 2)
        #expect(await fake.get(id).json["access_code"]?.s("status") == "setting")
        fake.service.advanceClock(by: 5)
        code = try #require(await fake.get(id).json["access_code"])
        #expect(code.s("status") == "unset")
        #expect(code["is_scheduled_on_device"] == true)
        fake.service.advanceClock(by: 3 * 86400)
        #expect(await fake.get(id).json["access_code"]?.s("status") == "set")
        #expect(
            fake.service.events.map(\.type) == [
                "access_code.created", "access_code.scheduled_on_device", "access_code.set_on_device",
            ])
    }

    @Test func aSingleUpdateOfTheWindowEmitsTimeFrameChangedButARenameDoesNot() async throws {
        let fake = Harness()
        let id = try await create(fake, on: Locks.backDoor, startIn: 3600, pool: false)
        _ = await fake.post("/access_codes/update", ["access_code_id": .string(id), "name": "Renamed"])
        #expect(!fake.service.events.contains { $0.type == "access_code.time_frame_changed" })
        let later = SeamTime.format(fake.service.now.addingTimeInterval(5 * 86400))
        _ = await fake.post("/access_codes/update", ["access_code_id": .string(id), "ends_at": .string(later)])
        let event = try #require(fake.service.events.last)
        #expect(event.type == "access_code.time_frame_changed")
        #expect(event.json["to"]?.s("ends_at") == later)
        #expect(event.json["description"]?.stringValue?.contains("/access_codes/update)") == true)
    }
}
