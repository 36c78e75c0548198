import Bookings
import Foundation
import LatchkeyTestSupport
import Testing

@testable import Configuration

@Suite struct ConfigurationLoaderTests {
    static let minimal = """
        sources:
          native:
            scheme: standard_webhooks
            secrets: [{env: NATIVE_SECRET}]
        properties:
          - name: Seaside Loft
            time_zone: Europe/Berlin
            listings: {native: [lst_1]}
            device_ids: [dev_1, dev_2]
        """

    @Test func minimalConfiguration_HasDocumentedDefaults() throws {
        let config = try ConfigurationLoader.parse(yaml: Self.minimal)
        #expect(config.server.port == 8080)
        #expect(config.server.maxBodyBytes == 1_048_576)
        #expect(config.dataDirectory == "./latchkey-data")
        #expect(config.idempotencyRetentionDays == 7)
        #expect(config.historyRetentionDays == 30)
        let property = try #require(config.properties.first)
        #expect(property.id == "seaside-loft")
        #expect(property.defaultCheckIn == LocalTime(hour: 15))
        #expect(property.preferredCodeLength == 4)
        #expect(config.source(named: "native")?.adapter == "native")
    }

    @Test func exampleConfiguration_Parses() throws {
        let path = RepositoryFiles.path("deploy/latchkey.example.yaml")
        let config = try ConfigurationLoader.load(path: path)
        #expect(config.sources.count == 5)
        #expect(config.properties.first?.bufferAfterCheckOutMinutes == 30)
        #expect(config.server.drainTimeoutSeconds == 20)
        #expect(config.server.eventLoops == 1)
    }

    @Test func console_DefaultsAreReadAndBounded() throws {
        let defaults = try ConfigurationLoader.parse(yaml: Self.minimal).console
        #expect(defaults.password == .environment("LATCHKEY_CONSOLE_PASSWORD"))
        #expect(defaults.sessionHours == 12)
        let set = try ConfigurationLoader.parse(
            yaml: "console:\n  password: {file: /run/pw}\n  session_hours: 2\n" + Self.minimal
        ).console
        #expect(set.password == .file("/run/pw") && set.sessionHours == 2)
        #expect(
            try ConfigurationLoader.parse(yaml: "console:\n  password: null\n" + Self.minimal).console.password == nil)
        #expect {
            _ = try ConfigurationLoader.parse(yaml: "console:\n  session_hours: 0\n  pasword: x\n" + Self.minimal)
        } throws: { error in
            Set((error as? ConfigurationErrors)?.problems.map(\.key) ?? []) == [
                "console.session_hours", "console.pasword",
            ]
        }
    }

    @Test func eventLoops_AreReadAndBounded() throws {
        #expect(
            try ConfigurationLoader.parse(yaml: "server:\n  event_loops: 3\n" + Self.minimal).server.eventLoops == 3)
        #expect(try ConfigurationLoader.parse(yaml: Self.minimal).server.eventLoops == 1)
        #expect {
            _ = try ConfigurationLoader.parse(yaml: "server:\n  event_loops: 0\n" + Self.minimal)
        } throws: { error in
            (error as? ConfigurationErrors)?.problems.map(\.key) == ["server.event_loops"]
        }
    }

    @Test func historyRetentionDays_AreReadAndBounded() throws {
        #expect(
            try ConfigurationLoader.parse(yaml: "history_retention_days: 90\n" + Self.minimal).historyRetentionDays
                == 90)
        #expect {
            _ = try ConfigurationLoader.parse(yaml: "history_retention_days: 0\n" + Self.minimal)
        } throws: { error in
            (error as? ConfigurationErrors)?.problems.map(\.key) == ["history_retention_days"]
        }
    }

    @Test(arguments: [
        ("time_zone: Europe/Berlin", "time_zone: Europe/Berln", "properties[0].time_zone", 7),
        ("device_ids: [dev_1, dev_2]", "device_ids: []", "properties[0].device_ids", 9),
        ("time_zone: Europe/Berlin", "time_zome: Europe/Berlin", "properties[0].time_zome", 7),
        ("{native: [lst_1]}", "{other: [lst_1]}", "properties[0].listings.other", 8),
        ("scheme: standard_webhooks", "scheme: md5", "sources.native.scheme", 3),
    ])
    func badValue_NamesKeyAndLine(original: String, replacement: String, key: String, line: Int) {
        let yaml = Self.minimal.replacingOccurrences(of: original, with: replacement)
        #expect {
            _ = try ConfigurationLoader.parse(yaml: yaml)
        } throws: { error in
            // (A misspelt required key is also reported as missing: the typo, and what is then missing.)
            guard let errors = error as? ConfigurationErrors else { return false }
            return errors.problems.contains { $0.key == key && $0.line == line }
        }
    }

    @Test func duplicateListing_IsRejected() {
        let yaml =
            Self.minimal + """

                  - name: Other
                    time_zone: Europe/Berlin
                    listings: {native: [lst_1]}
                    device_ids: [dev_3]
                """
        #expect(throws: ConfigurationErrors.self) { _ = try ConfigurationLoader.parse(yaml: yaml) }
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml)
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.description.contains("lst_1"))
            #expect(error.problems.first?.key == "properties[1].listings.native")
        }
    }

    @Test("every problem of a file is reported in one run, in line order, each with its key and line")
    func everyProblemIsReported() {
        let yaml = """
            server:
              max_body_bytes: 12
              event_loopz: 2
            sources:
              airbnb-main:
                scheme: standard_webhooks
                secrets: [{env: NATIVE_SECRET}]
            properties:
              - time_zone: Europe/Berln
                listings: {native: [lst_1]}
                device_ids: []
            log_level: loud
            """
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml)
            Issue.record("a file with eight mistakes was accepted")
        } catch {
            let found = error.problems.map { "\($0.line.map(String.init) ?? "-") \($0.key)" }
            #expect(
                found == [
                    "2 server.max_body_bytes", "3 server.event_loopz", "6 sources.airbnb-main",
                    "9 properties[0]", "9 properties[0].time_zone", "10 properties[0].listings.native",
                    "11 properties[0].device_ids", "12 log_level",
                ])
            #expect(error.problems[2].message.contains("`adapter:`"))
            #expect(error.description.split(separator: "\n").count == error.problems.count)
        }
    }

    @Test("a misspelt code_name placeholder is an error naming it, the known ones and the line")
    func unknownCodeNamePlaceholder() throws {
        let yaml = Self.minimal + "\n    code_name: \"{guest_frist} {reservation} {nights}\""
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml)
            Issue.record("{guest_frist} was accepted")
        } catch {
            let problem = try #require(error.problems.first)
            #expect(error.problems.count == 1)
            #expect(problem.key == "properties[0].code_name")
            #expect(problem.line == 10)
            #expect(problem.message.contains("{guest_frist}, {nights}"))
            #expect(problem.message.contains("{guest_first}") && problem.message.contains("{property}"))
        }
        let good = Self.minimal + "\n    code_name: \"{property}: {guest} {guest_first} {reservation} {source}\""
        #expect(
            try ConfigurationLoader.parse(yaml: good).properties[0].codeNameTemplate
                == "{property}: {guest} {guest_first} {reservation} {source}")
    }

    @Test func secretFromFile_DropsTrailingNewline() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lk-secret-\(UUID().uuidString)").path
        try "s3cret\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try SecretReference.file(path).resolve() == "s3cret")
        #expect(try SecretReference.environment("LK_UNSET_FOR_TEST").resolve(environment: [:]) == nil)
        #expect(SecretReference.inline("hunter2").description == "inline value")
    }
}
