import FakeSeam
import Foundation
import Logging
import Observability
import Reconciler
import Seam
import Testing

@testable import Gateway

/// The reconciler's view of Seam over the real client, against the fake Seam on loopback.
@Suite struct SeamBridgeTests {
    static let quiet = Logger(label: "bridge") { _ in SwiftLogNoOpLogHandler() }

    static func bridge(faults: FaultConfiguration) throws -> (SeamAccessCodeService, FakeSeamServer) {
        var configuration = FakeSeamConfiguration()
        configuration.faults = faults
        let fake = try FakeSeamServer(port: 0, configuration: configuration, logger: quiet)
        fake.start()
        let client = SeamClient(
            configuration: SeamConfiguration(endpoint: fake.url),
            credentials: try SeamCredentials(apiKey: "seam_test_key"), logger: quiet)
        let breaker = CircuitBreaker(configuration: .init(failureThreshold: 3), logger: quiet)
        return (SeamAccessCodeService(client: client, breaker: breaker, metrics: Metrics()), fake)
    }

    @Test func rateLimits_DoNotOpenTheBreaker_ButServerErrorsDo() async throws {
        var limited = FaultConfiguration()
        limited.rateLimitRate = 1
        let (bridge, fake) = try Self.bridge(faults: limited)
        defer { fake.stop() }
        for _ in 0..<5 {
            await #expect(throws: AccessCodeServiceError.self) {
                _ = try await bridge.listCodes(deviceID: FakeSeamSeed.DefaultDevice.frontDoor)
            }
        }
        #expect(bridge.breaker.state == .closed(consecutiveFailures: 0), "429s are per-device pacing, not an outage")

        var failing = FaultConfiguration()
        failing.serverErrorRate = 1
        try fake.service.setFaults(failing)
        for _ in 0..<3 {
            _ = try? await bridge.listCodes(deviceID: FakeSeamSeed.DefaultDevice.frontDoor)
        }
        do {
            _ = try await bridge.listCodes(deviceID: FakeSeamSeed.DefaultDevice.frontDoor)
            Issue.record("a call went out with the breaker open")
        } catch let error as AccessCodeServiceError {
            guard case .notCalled = error else {
                Issue.record("expected notCalled, got \(error)")
                return
            }
        }
    }

    @Test func refusedKey_KeepsWorkPendingWithoutUsingAttempts() async throws {
        let (bridge, fake) = try Self.bridge(faults: FaultConfiguration())
        defer { fake.stop() }
        let refused = SeamAccessCodeService(
            client: SeamClient(
                configuration: SeamConfiguration(endpoint: fake.url),
                credentials: try SeamCredentials(apiKey: "seam_wrong_key"), logger: Self.quiet),
            breaker: bridge.breaker, metrics: Metrics())
        do {
            _ = try await refused.listCodes(deviceID: FakeSeamSeed.DefaultDevice.frontDoor)
            Issue.record("a wrong key was accepted")
        } catch let error as AccessCodeServiceError {
            guard case .notCalled(let message, let retryAfter) = error else {
                Issue.record("expected notCalled, got \(error)")
                return
            }
            #expect(message.contains("API key"))
            #expect(retryAfter == 60)
        }
    }
}
