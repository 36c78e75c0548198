import Foundation
import Glibc
import HTTPServer
import Logging
import Observability
import Store
import Synchronization
import Testing

@testable import Gateway

/// `/readyz` after the journal could not be written.
@Suite struct ReadinessTests {
    /// The errno the store's journal writes fail with (0: none), switched by the test.
    final class DiskSwitch: Sendable {
        let errno = Atomic<Int32>(0)
    }

    private func status(of path: String, on router: Router) async -> Int {
        await withCheckedContinuation { continuation in
            router.handle(
                HTTPRequest(method: "GET", target: path),
                responder: Responder { continuation.resume(returning: $0.status) })
        }
    }

    @Test func readinessComesBackAfterTheDiskRecoversWithoutAnyDelivery() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lk-ready-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let disk = DiskSwitch()
        var configuration = StoreConfiguration()
        configuration.faults = FaultInjection { point in
            let errno = disk.errno.load(ordering: .acquiring)
            return point == .journalWrite && errno != 0 ? errno : nil
        }
        let store = try Store.open(at: directory, configuration: configuration, logger: Logger(label: "ready"))
        defer { store.close() }
        var router = Router()
        OperationalRoutes(store: store, metrics: Metrics(), isDraining: { false }).register(on: &router)
        #expect(await status(of: "/readyz", on: router) == 200)

        disk.errno.store(ENOSPC, ordering: .releasing)
        await #expect(throws: StoreError.self) {
            _ = try await store.commit(Transaction(operations: [.put(key: "k", value: [1])]))
        }
        #expect(await status(of: "/readyz", on: router) == 503)
        #expect(await status(of: "/readyz", on: router) == 503)

        disk.errno.store(0, ordering: .releasing)
        var answers: [Int] = []
        for _ in 0..<200 {
            answers.append(await status(of: "/readyz", on: router))
            if answers.last == 200 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(answers.last == 200)
    }
}
