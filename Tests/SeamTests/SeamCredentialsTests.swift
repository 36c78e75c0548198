import Foundation
import Seam
import Testing

@Suite("Seam credentials and endpoint")
struct SeamCredentialsTests {
    private func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seam-key-\(UUID().uuidString)").path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func apiKey_FromTheEnvironment() throws {
        let credentials = try SeamCredentials.load(environment: ["SEAM_API_KEY": " \(TestKeys.apiKey)\n"])
        #expect(credentials.scheme == .apiKey)
        #expect(credentials == (try SeamCredentials(apiKey: TestKeys.apiKey)))
    }

    @Test func apiKey_FromAKeyFile_WithATrailingNewline() throws {
        let path = try temporaryFile("\(TestKeys.apiKey)\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(
            try SeamCredentials.load(environment: [:], keyFile: path) == (try SeamCredentials(apiKey: TestKeys.apiKey)))
        #expect(try SeamCredentials.load(environment: ["SEAM_API_KEY_FILE": path]).scheme == .apiKey)
    }

    @Test func anExplicitKeyFile_WinsOverTheEnvironment() throws {
        let path = try temporaryFile("seam_from_file")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let credentials = try SeamCredentials.load(environment: ["SEAM_API_KEY": "seam_from_env"], keyFile: path)
        #expect(credentials == (try SeamCredentials(apiKey: "seam_from_file")))
    }

    @Test func personalAccessToken_NeedsItsWorkspace() throws {
        let credentials = try SeamCredentials.load(environment: [
            "SEAM_PERSONAL_ACCESS_TOKEN": "seam_at1_longtoken", "SEAM_WORKSPACE_ID": "ws_1",
        ])
        #expect(credentials.scheme == .personalAccessToken(workspaceID: "ws_1"))
        #expect(throws: SeamCredentialsError.missingWorkspace) {
            try SeamCredentials.load(environment: ["SEAM_PERSONAL_ACCESS_TOKEN": "seam_at1_longtoken"])
        }
    }

    @Test func failures_AreTypedAndSayWhatToDo() throws {
        #expect(throws: SeamCredentialsError.missing) { try SeamCredentials.load(environment: ["SEAM_API_KEY": "  "]) }
        #expect(throws: SeamCredentialsError.ambiguous) {
            try SeamCredentials.load(environment: ["SEAM_API_KEY": "seam_a", "SEAM_PERSONAL_ACCESS_TOKEN": "seam_at"])
        }
        #expect(throws: SeamCredentialsError.malformed(source: "the API key")) {
            try SeamCredentials.load(environment: ["SEAM_API_KEY": "seam_a b"])
        }
        let empty = try temporaryFile(" \n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: SeamCredentialsError.emptyKeyFile(path: empty)) {
            try SeamCredentials.load(environment: [:], keyFile: empty)
        }
        do {
            _ = try SeamCredentials.load(environment: [:], keyFile: "/nonexistent/seam.key")
            Issue.record("expected a failure")
        } catch {
            guard case .unreadableKeyFile(let path, _) = error else {
                Issue.record("expected unreadableKeyFile, got \(error)")
                return
            }
            #expect(path == "/nonexistent/seam.key")
            #expect(error.description.contains("/nonexistent/seam.key"))
        }
        #expect(SeamCredentialsError.missing.description.contains("SEAM_API_KEY"))
    }

    @Test func descriptions_NeverContainTheSecret() throws {
        let key = try SeamCredentials(apiKey: TestKeys.apiKey)
        let token = try SeamCredentials(personalAccessToken: "seam_at1_longtoken", workspaceID: "ws_1")
        for rendered in [key.description, key.debugDescription, "\(key)", String(reflecting: key), token.description] {
            #expect(!rendered.contains(TestKeys.apiKey))
            #expect(!rendered.contains("seam_at1_longtoken"))
            #expect(rendered.contains("redacted"))
        }
    }

    @Test func endpoint_ComesFromSeamEndpointThenTheDeprecatedVariable() throws {
        #expect(try SeamConfiguration.endpoint(environment: [:]) == SeamConfiguration.defaultEndpoint)
        #expect(
            try SeamConfiguration.endpoint(environment: ["SEAM_ENDPOINT": "http://127.0.0.1:8080"])
                == URL(string: "http://127.0.0.1:8080"))
        #expect(
            try SeamConfiguration.endpoint(environment: ["SEAM_API_URL": "https://old.example"])
                == URL(string: "https://old.example"))
        #expect(throws: SeamCredentialsError.invalidEndpoint(variable: "SEAM_ENDPOINT", value: "connect.getseam.com")) {
            try SeamConfiguration.endpoint(environment: ["SEAM_ENDPOINT": "connect.getseam.com"])
        }
    }
}
