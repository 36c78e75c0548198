import Foundation
import Testing

@testable import Configuration

/// `check-config` must refuse what `serve` refuses, without echoing secrets.
@Suite struct ConfigurationCheckTests {
    @Test func malformedStandardWebhooksSecret_IsAnErrorThatDoesNotEchoIt() throws {
        let config = try ConfigurationLoader.parse(yaml: ConfigurationLoaderTests.minimal)
        let secret = "whsec_!!not-base64-4f2a9c"
        let check = ConfigurationCheck(config, environment: ["NATIVE_SECRET": secret])
        #expect(!check.isServable)
        #expect(check.findings.contains { $0.severity == .error && $0.key == "sources.native.secrets" })
        #expect(!check.findings.contains { $0.description.contains(secret) || $0.description.contains("4f2a9c") })
    }

    @Test func wellFormedSecret_IsServable() throws {
        let config = try ConfigurationLoader.parse(yaml: ConfigurationLoaderTests.minimal)
        let check = ConfigurationCheck(
            config, environment: ["NATIVE_SECRET": "whsec_bGF0Y2hrZXktc2FuZGJveC1zZWNyZXQtMzJieXRlcyE="])
        #expect(check.isServable)
    }

    @Test("a file with mistakes still has its readable sources' secrets checked, so one check-config run finds all")
    func secretsOfAFileWithMistakesAreChecked() {
        let yaml = ConfigurationLoaderTests.minimal.replacingOccurrences(
            of: "time_zone: Europe/Berlin", with: "time_zone: Europe/Berln")
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml)
            Issue.record("an unknown time zone was accepted")
        } catch {
            #expect(error.problems.map(\.key) == ["properties[0].time_zone"])
            let partial = error.partial
            #expect(partial?.sources.map(\.name) == ["native"])
            let findings = partial.map { ConfigurationCheck($0, environment: [:]).findings } ?? []
            #expect(findings.contains { $0.severity == .error && $0.key == "sources.native.secrets[0]" })
        }
    }
}
