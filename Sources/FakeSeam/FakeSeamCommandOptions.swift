import Foundation

extension FakeSeamConfiguration {
    /// Chooses the seed of the generator behind access-code ids, common code keys, PINs and fault draws, as
    /// `latchkey fake-seam` does: `seed` when given (`--rng-seed`, to repeat a run), else the `seed` a `--faults` file
    /// sets (its rates repeat run to run), else a fresh one per start, so a restarted fake never hands out the ids,
    /// keys and PINs of an earlier run again (the built-in fake of `latchkey serve` does the same).
    /// - Parameters:
    ///   - seed: The seed asked for, or nil.
    ///   - faultsFile: The `--faults` file already loaded into ``faults``, or nil.
    /// - Returns: The seed in use, for the start line.
    package mutating func chooseGeneratorSeed(_ seed: UInt64?, faultsFile: String?) -> UInt64 {
        if let seed {
            faults.seed = seed
        } else if let faultsFile, Self.setsSeed(faultsFile) {
            // Kept as the file says.
        } else {
            faults.seed = UInt64.random(in: 1...UInt64.max)
        }
        return faults.seed
    }

    /// Checks `--api-key` values as Seam's own SDKs do: a key starts with `seam_` (they refuse any other before
    /// sending it, so a fake accepting one would pass a test that fails against Seam).
    /// - Throws: ``FakeSeamConfigurationError`` naming the first key that does not, and what to use instead.
    package static func checkAPIKeys(_ keys: [String]) throws(FakeSeamConfigurationError) {
        for key in keys where !key.hasPrefix("seam_") || key.count <= "seam_".count {
            throw FakeSeamConfigurationError(
                option: "--api-key",
                reason:
                    "\"\(key)\" is not a Seam API key: Seam's keys (and its SDKs) start with seam_; use e.g. seam_test_key"
            )
        }
    }

    /// Whether the fault configuration file at `path` sets `seed` (read as JSON; false when it cannot be read).
    private static func setsSeed(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return false }
        return object["seed"] != nil
    }
}
