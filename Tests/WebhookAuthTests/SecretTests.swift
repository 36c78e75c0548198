import Foundation
import LatchkeyTestSupport
import Testing

@testable import WebhookAuth

@Suite("Secrets are redacted and load with typed errors")
struct SecretTests {
    static let value = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test func descriptionsDumpsAndInterpolationNeverShowTheValue() throws {
        let secret = Secret(Self.value)
        var dumped = ""
        dump(secret, to: &dumped)
        let verifier = try WebhookVerifier(scheme: .standardWebhooks(), secrets: [secret])
        var dumpedVerifier = ""
        dump(verifier, to: &dumpedVerifier)
        let keyBase64 = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let keyBytes = try StandardWebhooks.key(from: secret).map(String.init).joined(separator: ", ")
        for text in [
            "\(secret)", String(reflecting: secret), dumped, "\([secret])", "\(verifier)", String(reflecting: verifier),
            dumpedVerifier,
        ] {
            #expect(!text.contains(keyBase64), "leaked in: \(text)")
            #expect(!text.contains(keyBytes))
            #expect(!text.contains(String(keyBytes.prefix(12))))
        }
        #expect("\(secret)" == "Secret(<redacted>)")
        #expect(secret.revealedString == Self.value)
    }

    @Test func equalityComparesValues() {
        #expect(Secret("abc") == Secret("abc"))
        #expect(Secret("abc") != Secret("abd"))
        #expect(Secret("abc") != Secret("abcd"))
        #expect(Set([Secret("a"), Secret("a"), Secret("b")]).count == 2)
    }

    @Test func fingerprintIsShortAndStable() {
        #expect(Secret("a").fingerprint == "ca978112")
        #expect(Secret("a").fingerprint.count == 8)
    }

    @Test func loadsFromEnvironmentTrimmed() throws {
        setenv("LATCHKEY_TEST_SECRET_ENV", "  s3cret\n", 1)
        defer { unsetenv("LATCHKEY_TEST_SECRET_ENV") }
        #expect(try Secret(fromEnvironment: "LATCHKEY_TEST_SECRET_ENV").revealedString == "s3cret")
    }

    @Test func missingOrEmptyEnvironmentVariableIsATypedError() {
        unsetenv("LATCHKEY_TEST_SECRET_UNSET")
        #expect(throws: SecretLoadError(source: "environment variable LATCHKEY_TEST_SECRET_UNSET", problem: .missing)) {
            try Secret(fromEnvironment: "LATCHKEY_TEST_SECRET_UNSET")
        }
        setenv("LATCHKEY_TEST_SECRET_EMPTY", " ", 1)
        defer { unsetenv("LATCHKEY_TEST_SECRET_EMPTY") }
        #expect(throws: SecretLoadError(source: "environment variable LATCHKEY_TEST_SECRET_EMPTY", problem: .empty)) {
            try Secret(fromEnvironment: "LATCHKEY_TEST_SECRET_EMPTY")
        }
    }

    @Test func loadsFromFileAndReportsUnreadableOrEmptyFiles() throws {
        let temporary = TemporaryDirectory(prefix: "latchkey-secret")
        defer { temporary.remove() }
        let directory = temporary.url
        let good = directory.appendingPathComponent("good").path
        try Data("hunter2\n".utf8).write(to: URL(fileURLWithPath: good))
        #expect(try Secret(contentsOfFile: good).revealedString == "hunter2")

        let empty = directory.appendingPathComponent("empty").path
        try Data("\n".utf8).write(to: URL(fileURLWithPath: empty))
        #expect(throws: SecretLoadError(source: "file \(empty)", problem: .empty)) { try Secret(contentsOfFile: empty) }

        let missing = directory.appendingPathComponent("missing").path
        do {
            _ = try Secret(contentsOfFile: missing)
            Issue.record("a missing file must not load")
        } catch {
            guard case .unreadable = error.problem else {
                Issue.record("expected unreadable, got \(error.problem)")
                return
            }
            #expect(error.description.contains(missing))
        }
    }
}
