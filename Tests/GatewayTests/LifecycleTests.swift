import Logging
import Synchronization
import Testing

@testable import Gateway

/// The ``Lifecycle`` alone, with parts that only note their stop: the order of stops, and one unwind per failure.
@Suite struct LifecycleTests {
    /// Lines noted by the parts and the steps, in order.
    final class Notes: Sendable {
        private let lines = Mutex<[String]>([])
        /// Notes `line`.
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        /// Every line so far.
        var all: [String] { lines.withLock { $0 } }
    }

    /// A part that notes its stop.
    struct NotingPart: LongRunning {
        /// Its name in the notes.
        let name: String
        /// Where it notes its stop.
        let notes: Notes

        /// Notes `stop <name>`.
        func stop() async { notes.add("stop \(name)") }
    }

    private let logger = Logger(label: "lifecycle") { _ in SwiftLogNoOpLogHandler() }

    @Test func failedStep_StopsThePartsStartedBefore_LastFirst_AndNotItsOwn() async throws {
        let notes = Notes()
        let lifecycle = Lifecycle(logger: logger)
        _ = try await lifecycle.start(.store) { NotingPart(name: "store", notes: notes) }
        _ = try await lifecycle.start(.seam) { NotingPart(name: "seam", notes: notes) }
        let error = await #expect(throws: GatewayStartError.self) {
            _ = try await lifecycle.start(.reconciler) { () throws(GatewayStartError) -> NotingPart in
                notes.add("start reconciler")
                throw GatewayStartError(step: .reconciler, stage: "reconciler", message: "refused")
            }
        }
        #expect(error?.step == .reconciler)
        #expect(error?.message == "refused")
        #expect(notes.all == ["start reconciler", "stop seam", "stop store"])
        await lifecycle.stop()
        #expect(notes.all.count == 3, "a part is stopped once")
    }

    @Test func failedStepThatStartsNothing_StopsWhatStarted() async throws {
        let notes = Notes()
        let lifecycle = Lifecycle(logger: logger)
        _ = try await lifecycle.start(.store) { NotingPart(name: "store", notes: notes) }
        await #expect(throws: GatewayStartError.self) {
            try await lifecycle.run(.storedBookings) { () throws(GatewayStartError) in
                throw GatewayStartError(step: .storedBookings, stage: "reconciler", message: "disk full")
            }
        }
        #expect(notes.all == ["stop store"])
    }

    @Test func stop_StopsInReverseOrder_Once_WhenCalledTwiceAtOnce() async throws {
        let notes = Notes()
        let lifecycle = Lifecycle(logger: logger)
        for step in [StartStep.store, .seam, .reconciler, .bookingFeed, .listener] {
            _ = try await lifecycle.start(step) { NotingPart(name: "\(step)", notes: notes) }
        }
        async let first: Void = lifecycle.stop()
        async let second: Void = lifecycle.stop()
        _ = await (first, second)
        #expect(notes.all == ["stop listener", "stop booking-feed", "stop reconciler", "stop seam", "stop store"])
    }

    @Test func probe_FailsItsStepBeforeTheStepRuns_AndRecordsStartsAndStops() async throws {
        let notes = Notes()
        let probe = StartupProbe(failingStep: .seam)
        let lifecycle = Lifecycle(probe: probe, logger: logger)
        _ = try await lifecycle.start(.store) { NotingPart(name: "store", notes: notes) }
        let error = await #expect(throws: GatewayStartError.self) {
            _ = try await lifecycle.start(.seam) { () throws(GatewayStartError) -> NotingPart in
                notes.add("start seam")
                return NotingPart(name: "seam", notes: notes)
            }
        }
        #expect(error?.step == .seam)
        #expect(error?.description.contains("injected") == true)
        #expect(notes.all == ["stop store"])
        #expect(probe.events == [.started(.store), .stopped(.store)])
    }
}
