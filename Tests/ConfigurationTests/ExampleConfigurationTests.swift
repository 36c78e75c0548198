import Foundation
import LatchkeyTestSupport
import Testing
import Yams

@testable import Configuration

/// `deploy/latchkey.example.yaml` is the reference a person writes a configuration from: it must load, and show
/// every key the loader accepts, so the two cannot drift.
@Suite struct ExampleConfigurationTests {
    static let path = RepositoryFiles.path("deploy/latchkey.example.yaml")

    /// The keys of a mapping node (none for anything else).
    static func keys(_ node: Node?) -> Set<String> {
        Set(node?.mapping?.keys.compactMap(\.scalar?.string) ?? [])
    }

    @Test("the example loads, and every key the loader accepts appears in it, in its place")
    func everyAcceptedKeyIsShown() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        _ = try ConfigurationLoader.parse(yaml: text)
        let root = try #require(try Yams.compose(yaml: text))
        // Keys whose presence changes behaviour (seam.endpoint, seam.workspace_id) are shown commented out: `# key:`.
        let commented = Set(
            text.split(separator: "\n").compactMap { line -> String? in
                let trimmed = line.drop { $0 == " " }
                guard trimmed.hasPrefix("# ") else { return nil }
                let rest = trimmed.dropFirst(2)
                guard let colon = rest.firstIndex(of: ":"), rest[..<colon].allSatisfy({ $0.isLowercase || $0 == "_" })
                else { return nil }
                return String(rest[..<colon])
            })
        let sources = root["sources"]?.mapping?.values.map { Self.keys($0) }.reduce(Set(), { $0.union($1) }) ?? []
        let properties = root["properties"]?.sequence?.map { Self.keys($0) }.reduce(Set(), { $0.union($1) }) ?? []
        let shown: [(String, Set<String>, Set<String>)] = [
            ("top level", ConfigurationLoader.Keys.top, Self.keys(root)),
            ("server", ConfigurationLoader.Keys.server, Self.keys(root["server"])),
            ("seam", ConfigurationLoader.Keys.seam, Self.keys(root["seam"]).union(commented)),
            ("admin", ConfigurationLoader.Keys.admin, Self.keys(root["admin"])),
            ("console", ConfigurationLoader.Keys.console, Self.keys(root["console"])),
            ("assurance", ConfigurationLoader.Keys.assurance, Self.keys(root["assurance"])),
            ("store", ConfigurationLoader.Keys.store, Self.keys(root["store"])),
            ("store.postgresql", ConfigurationLoader.Keys.postgresql, Self.keys(root["store"]?["postgresql"])),
            ("a source", ConfigurationLoader.Keys.source, sources),
            ("a property", ConfigurationLoader.Keys.property, properties),
            (
                "a notification endpoint", ConfigurationLoader.Keys.notification,
                root["notifications"]?.sequence?.map { Self.keys($0) }.reduce(Set(), { $0.union($1) }) ?? []
            ),
        ]
        for (place, accepted, present) in shown {
            #expect(accepted.subtracting(present).isEmpty, "missing from \(place) of the example")
        }
        for secretKey in ConfigurationLoader.Keys.secret {
            #expect(text.contains("{\(secretKey): "), "the secret form {\(secretKey): …} is not shown")
        }
        #expect(commented.isSuperset(of: ["endpoint", "workspace_id"]))
    }

    @Test("every required key is marked required, and every other key states its default")
    func requiredAndDefaultsAreStated() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func line(of key: String) -> Substring? {
            lines.first { $0.drop { $0 == " " || $0 == "-" }.hasPrefix("\(key):") }
        }
        for key in ["sources", "scheme", "secrets", "properties", "name", "time_zone", "listings", "device_ids"] {
            #expect(line(of: key)?.contains("# required") == true, "\(key) is not marked required")
        }
        let optional = ConfigurationLoader.Keys.server.union(ConfigurationLoader.Keys.seam)
            .union(["data_dir", "log_level", "log_format", "idempotency_retention_days", "history_retention_days"])
            .union(["adapter", "tolerance_seconds", "prefix", "encoding", "id", "check_in_time", "check_out_time"])
            .union(["buffer_before_check_in_minutes", "buffer_after_check_out_minutes", "preferred_code_length"])
            .union(["behavior_when_code_cannot_be_shared", "code_name", "token"])
            .union(["notifications", "events", "include_pin", "timeout_seconds", "max_backoff_seconds", "retry_hours"])
        for key in optional {
            let shown = line(of: key) ?? lines.first { $0.contains("# \(key):") }
            #expect(shown?.contains("default") == true, "\(key) does not state its default")
        }
    }
}
