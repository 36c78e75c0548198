import Foundation

/// Finds and reads scenario files.
package enum ScenarioDirectory {
    /// Reads every `*.yaml`/`*.yml` scenario in the sub-directories of `directory` (e.g. `Tests/Scenarios/guesty/`),
    /// sorted by path; files directly in `directory` (the Latchkey test configuration) are not scenarios.
    /// A path to a single file reads that file.
    ///
    /// - Parameter directory: A directory of per-PMS folders, or one scenario file.
    /// - Returns: The scenarios.
    /// - Throws: ``ScenarioError`` for the first file that is missing or invalid, or when none is found.
    package static func load(_ directory: String) throws(ScenarioError) -> [Scenario] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw ScenarioError(file: directory, key: "", line: nil, message: "no such file or directory")
        }
        guard isDirectory.boolValue else { return [try ScenarioParser.load(path: directory)] }
        let paths = scenarioPaths(in: directory)
        guard !paths.isEmpty else {
            throw ScenarioError(
                file: directory, key: "", line: nil, message: "no scenario files (<pms>/*.yaml) found here")
        }
        var scenarios: [Scenario] = []
        for path in paths { scenarios.append(try ScenarioParser.load(path: path)) }
        return scenarios
    }

    /// The scenario files below `directory`, sorted.
    package static func scenarioPaths(in directory: String) -> [String] {
        let manager = FileManager.default
        let root = URL(fileURLWithPath: directory)
        var result: [String] = []
        for entry in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] {
            let folder = root.appendingPathComponent(entry)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                continue
            }
            for file in (try? manager.contentsOfDirectory(atPath: folder.path)) ?? []
            where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                result.append(folder.appendingPathComponent(file).path)
            }
        }
        return result.sorted()
    }
}
