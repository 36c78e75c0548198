import FakeSeam
import Foundation
import Testing

@Suite("Control: a code changed or removed at the lock, outside Seam")
struct ChangeAtLockTests {
    /// Creates a code with `pin` on the front door and lets it reach the lock.
    private func codeOnTheLock(_ fake: Harness, pin: String) async throws -> String {
        let created = await fake.post(
            "/access_codes/create", ["device_id": .string(Locks.frontDoor), "code": .string(pin)])
        let id = try #require(created.json["access_code"]?.s("access_code_id"))
        fake.service.advanceClock(by: 10)
        #expect(await fake.get(id).json["access_code"]?.s("status") == "set")
        return id
    }

    private func changeAtLock(_ fake: Harness, _ body: JSONValue) async throws -> Reply {
        try #require(await fake.send("POST", "/_fake/access_codes/change_at_lock", body: body, key: nil))
    }

    @Test func modifiedAtTheLockChangesThePINAndEmitsModifiedExternalToSeam() async throws {
        let fake = Harness()
        let id = try await codeOnTheLock(fake, pin: "4821")
        let reply = try await changeAtLock(
            fake, ["access_code_id": .string(id), "change": "modified", "code": "7395"])
        #expect(reply.status == 200)
        #expect(reply.json["event"]?.s("event_type") == "access_code.modified_external_to_seam")
        #expect(reply.json["event"]?.s("access_code_id") == id)
        #expect(await fake.get(id).json["access_code"]?.s("code") == "7395")
        #expect(fake.service.events.last?.type == "access_code.modified_external_to_seam")

        // Without a PIN the lock gets a random one of the same length.
        _ = try await changeAtLock(fake, ["access_code_id": .string(id), "change": "modified"])
        let pin = try #require(await fake.get(id).json["access_code"]?.s("code"))
        #expect(pin.count == 4)
        #expect(pin != "7395")
    }

    @Test func deletedAtTheLockDropsTheCodeAndEmitsDeletedExternalToSeam() async throws {
        let fake = Harness()
        let id = try await codeOnTheLock(fake, pin: "4821")
        let reply = try await changeAtLock(fake, ["access_code_id": .string(id), "change": "deleted"])
        #expect(reply.status == 200)
        #expect(reply.json["event"]?.s("event_type") == "access_code.deleted_external_to_seam")
        #expect(reply.json["event"]?.s("device_id") == Locks.frontDoor)
        #expect(await fake.get(id).errorType == "access_code_not_found")
        #expect(fake.service.events.last?.type == "access_code.deleted_external_to_seam")
    }

    @Test func refusesUnknownCodesCodesNotOnTheLockAndBadBodies() async throws {
        let fake = Harness()
        let unknown = try await changeAtLock(
            fake, ["access_code_id": "00000000-0000-4000-8000-000000000000", "change": "deleted"])
        #expect(unknown.status == 404)
        #expect(unknown.errorType == "access_code_not_found")

        let created = await fake.post("/access_codes/create", ["device_id": .string(Locks.frontDoor), "code": "1357"])
        let id = try #require(created.json["access_code"]?.s("access_code_id"))
        let notYet = try await changeAtLock(fake, ["access_code_id": .string(id), "change": "deleted"])
        #expect(notYet.status == 400)
        #expect(await fake.get(id).json["access_code"]?.s("code") == "1357")

        fake.service.advanceClock(by: 10)
        for body: JSONValue in [
            ["access_code_id": .string(id), "change": "renamed"],
            ["access_code_id": .string(id), "change": "deleted", "code": "2468"],
            ["access_code_id": .string(id), "change": "modified", "code": "12"],
            ["change": "deleted"],
        ] {
            let reply = try await changeAtLock(fake, body)
            #expect(reply.errorType == "invalid_input", "\(body)")
        }
        #expect(await fake.get(id).json["access_code"]?.s("code") == "1357")
    }
}
