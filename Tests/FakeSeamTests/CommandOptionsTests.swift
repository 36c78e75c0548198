import FakeSeam
import Foundation
import Testing

/// `latchkey fake-seam`'s seed and API-key options.
@Suite struct CommandOptionsTests {
    @Test("without a seed, each start draws a fresh one; --rng-seed and a faults file's seed are kept")
    func generatorSeed() throws {
        var first = FakeSeamConfiguration()
        var second = FakeSeamConfiguration()
        #expect(first.chooseGeneratorSeed(nil, faultsFile: nil) != second.chooseGeneratorSeed(nil, faultsFile: nil))
        #expect(first.faults.seed != second.faults.seed)

        var asked = FakeSeamConfiguration()
        #expect(asked.chooseGeneratorSeed(42, faultsFile: nil) == 42)
        #expect(asked.faults.seed == 42)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString).json")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #"{"seed": 7, "server_error_rate": 0.1}"#.write(toFile: path, atomically: true, encoding: .utf8)
        var fromFile = try FakeSeamConfiguration.fromOptions(faultsFile: path)
        #expect(fromFile.chooseGeneratorSeed(nil, faultsFile: path) == 7)

        try #"{"server_error_rate": 0.1}"#.write(toFile: path, atomically: true, encoding: .utf8)
        var unseeded = try FakeSeamConfiguration.fromOptions(faultsFile: path)
        var again = try FakeSeamConfiguration.fromOptions(faultsFile: path)
        #expect(unseeded.chooseGeneratorSeed(nil, faultsFile: path) != again.chooseGeneratorSeed(nil, faultsFile: path))
    }

    @Test("API keys must start with seam_, as Seam's SDKs require; the message names the key and the fix")
    func apiKeysStartWithSeam() throws {
        try FakeSeamConfiguration.checkAPIKeys(["seam_test_key", "seam_live_abc"])
        try FakeSeamConfiguration.checkAPIKeys([])
        for bad in ["test_key", "sk_live_1", "seam_", "Seam_x"] {
            #expect {
                try FakeSeamConfiguration.checkAPIKeys(["seam_ok", bad])
            } throws: { error in
                let message = (error as? FakeSeamConfigurationError)?.description ?? ""
                return message.hasPrefix("--api-key") && message.contains("\"\(bad)\"") && message.contains("seam_")
            }
        }
    }
}
