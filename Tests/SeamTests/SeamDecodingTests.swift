import Foundation
import Seam
import Testing

@Suite("Decoding Seam responses")
struct SeamDecodingTests {
    @Test func createMultipleResponse_DecodesEveryLatchkeyField() async throws {
        let client = try SeamClient.testing(ScriptedTransport(json: SeamFixtures.createMultiple))
        let codes = try await client.createMultiple(
            deviceIDs: ["c3b0b0a4-4a2e-4a43-9d2d-0d9b3f7f2a11", "d4c1c1b5-5b3f-4b54-8e3e-1e0c4a8a3b22"],
            name: "latchkey:guesty:HMX-4411",
            startsAt: instant("2026-12-01T15:00:00Z"), endsAt: instant("2026-12-05T11:00:00Z"))

        try #require(codes.count == 2)
        let first = codes[0]
        #expect(first.accessCodeID == "8a1f3c2e-0b6d-4e8f-9c1a-2b3c4d5e6f70")
        #expect(first.deviceID == "c3b0b0a4-4a2e-4a43-9d2d-0d9b3f7f2a11")
        #expect(first.name == "latchkey:guesty:HMX-4411")
        #expect(first.code == "4821")
        #expect(first.commonCodeKey == "auto_set_by_create_multiple_550e8400-e29b-41d4-a716-446655440000")
        #expect(first.type == .timeBound)
        #expect(first.status == .set)
        #expect(first.startsAt == instant("2026-12-01T15:00:00Z"))
        #expect(first.endsAt == instant("2026-12-05T11:00:00Z"))
        #expect(first.isManaged)
        #expect(first.errors.isEmpty && first.warnings.isEmpty)
        #expect(first.workspaceID == "5f1c2d3e-4b5a-6978-8796-a5b4c3d2e1f0")
        #expect(codes[1].status == .unset)
        #expect(codes[1].commonCodeKey == first.commonCodeKey)
    }

    @Test func microsecondTimestamps_DecodeToTheMillisecond() throws {
        let date = try #require(SeamJSON.parseTimestamp("2025-06-14T16:54:17.946242Z"))
        let whole = try #require(SeamJSON.parseTimestamp("2025-06-14T16:54:17Z"))
        #expect(abs(date.timeIntervalSince(whole) - 0.946) < 0.0005)
        #expect(SeamJSON.parseTimestamp("2025-06-14T18:54:17+02:00") == whole)
        #expect(SeamJSON.parseTimestamp("14 June 2025") == nil)
    }

    @Test func timestamps_EncodeWholeSecondsWithoutAFraction() {
        #expect(SeamJSON.formatTimestamp(instant("2026-12-01T15:00:00Z")) == "2026-12-01T15:00:00Z")
        #expect(SeamJSON.formatTimestamp(instant("2026-12-01T15:00:00.250Z")) == "2026-12-01T15:00:00.250Z")
    }

    @Test func errorsAndWarnings_DecodeTheirCodesAndMessages() async throws {
        let client = try SeamClient.testing(ScriptedTransport(json: SeamFixtures.createMultiple))
        let codes = try await client.createMultiple(
            deviceIDs: ["a"], name: "n", startsAt: instant("2026-12-01T15:00:00Z"),
            endsAt: instant("2026-12-05T11:00:00Z"))
        let second = try #require(codes.last)
        #expect(
            second.errors == [
                SeamIssue(
                    code: "failed_to_set_on_device", message: "Failed to set code on device.",
                    createdAt: instant("2026-11-29T08:00:00.123Z"))
            ])
        #expect(second.warnings.map(\.code) == ["delay_in_setting_on_device"])
    }

    @Test func ongoingCode_WithoutIsManagedOrTimes_Decodes() async throws {
        let client = try SeamClient.testing(ScriptedTransport(json: SeamFixtures.getOngoing))
        let code = try await client.get(accessCodeID: "26d6138c-6524-4f3c-ac96-43cc3bea0a8d")
        #expect(code.type == .ongoing)
        #expect(code.status == .setting)
        #expect(code.startsAt == nil && code.endsAt == nil)
        #expect(code.commonCodeKey == nil)
        #expect(code.isManaged)
    }

    @Test func unknownStatusAndType_DecodeAsOpenValues() throws {
        let json = """
            {"access_code_id": "a", "device_id": "d", "type": "one_time", "status": "quarantined",
             "created_at": "2026-01-01T00:00:00Z"}
            """
        let code = try SeamJSON.makeDecoder().decode(AccessCode.self, from: Data(json.utf8))
        #expect(code.status.rawValue == "quarantined")
        #expect(code.type.rawValue == "one_time")
        #expect(code.name == nil && code.code == nil)
    }

    @Test func device_DecodesPropertiesAndConstraints() async throws {
        let client = try SeamClient.testing(ScriptedTransport(json: SeamFixtures.device))
        let device = try await client.getDevice(deviceID: "ed4bb795-f29f-43e5-bc0f-35f69f9141b5")
        #expect(device.deviceType == "nuki_lock")
        #expect(device.displayName == "Front Door")
        #expect(device.capabilitiesSupported == ["access_code", "lock"])
        #expect(device.canProgramOnlineAccessCodes == true)
        #expect(device.properties.online == true)
        #expect(device.properties.supportedCodeLengths == [4, 5, 6, 7, 8])
        #expect(device.properties.maxActiveCodesSupported == 250)
        #expect(
            device.properties.codeConstraints?.map(\.constraintType) == [
                "cannot_start_with_12", "no_zeros", "name_length",
            ])
        #expect(device.properties.codeConstraints?.last?.maxLength == 20)
    }

    @Test func accessCode_RoundTripsThroughItsOwnEncoding() throws {
        let original = AccessCode(
            accessCodeID: "a", deviceID: "d", name: "n", code: "123456", commonCodeKey: "k", type: .timeBound,
            startsAt: instant("2026-12-01T15:00:00Z"), endsAt: instant("2026-12-05T11:00:00Z"), status: .unset,
            errors: [SeamIssue(code: "provider_issue", message: "m")], createdAt: instant("2026-11-29T08:00:00Z"))
        let data = try SeamJSON.makeEncoder().encode(original)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""access_code_id":"a""#))
        #expect(text.contains(#""common_code_key":"k""#))
        #expect(try SeamJSON.makeDecoder().decode(AccessCode.self, from: data) == original)
    }
}
