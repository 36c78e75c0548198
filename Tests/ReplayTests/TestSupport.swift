import Configuration
import Foundation
import Gateway
import LatchkeyTestSupport
import Synchronization
import Testing
import WebhookAuth

@testable import Replay

/// Paths of the committed scenarios and their configuration.
enum ScenarioFiles {
    static let directory = RepositoryFiles.path("Tests/Scenarios")
    static let configurationPath = directory + "/latchkey-test.yaml"

    static func configuration() throws -> LatchkeyConfiguration {
        try ConfigurationLoader.load(path: configurationPath)
    }
}

/// Checks a request as Latchkey's intake would: the source from the path, then the verifier `serve` builds for it
/// (`SourceSettings.makeVerifier`).
func authenticate(_ request: OutgoingRequest, configuration: LatchkeyConfiguration, now: Date = Date()) throws
    -> VerifiedDelivery
{
    let segments = request.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
    guard segments.count >= 2, segments[0] == "webhooks", let source = configuration.source(named: segments[1]) else {
        throw AuthFailure(.missingHeader, header: nil, message: "no such source")
    }
    let verifier = try source.makeVerifier(environment: [:])
    return try verifier.verify(
        header: { request.header($0) }, body: request.body, pathToken: segments.count > 2 ? segments[2] : nil, now: now)
}

/// A stand-in for Latchkey's intake: verifies each request, answers 401 when it fails, 200 duplicate for a
/// delivery id (or body) seen before, else 202. Records what it received.
final class InMemoryLatchkey: DeliveryTransport {
    private let configuration: LatchkeyConfiguration
    private let seen = Mutex<(keys: Set<String>, paths: [String])>((keys: [], paths: []))

    init(configuration: LatchkeyConfiguration) {
        self.configuration = configuration
    }

    var receivedPaths: [String] { seen.withLock { $0.paths } }

    func send(_ request: OutgoingRequest) async -> TransportResult {
        seen.withLock { $0.paths.append(request.path) }
        let verified: VerifiedDelivery
        do {
            verified = try authenticate(request, configuration: configuration)
        } catch {
            return .response(status: 401, body: Array(#"{"error":"unauthorized"}"#.utf8))
        }
        let key = request.path + "|" + (verified.deliveryID ?? Hex.encode(Crypto.sha256(request.body)))
        let isNew = seen.withLock { $0.keys.insert(key).inserted }
        return isNew
            ? .response(status: 202, body: Array(#"{"status":"accepted"}"#.utf8))
            : .response(status: 200, replayed: true, body: Array(#"{"status":"accepted"}"#.utf8))
    }
}

/// A Seam whose codes the test sets.
struct FixedSeamState: SeamStateReader {
    let codes: [ObservedAccessCode]

    func accessCodes() async throws(ReplayError) -> [ObservedAccessCode] { codes }
}

/// Progress that remembers its calls.
final class RecordingProgress: ReplayProgress {
    private let calls = Mutex<[Int]>([])

    var updates: [Int] { calls.withLock { $0 } }

    func update(done: Int, total: Int, report: ReplayReport) {
        calls.withLock { $0.append(done) }
    }

    func finish(report: ReplayReport) {}
}
