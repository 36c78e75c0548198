import Foundation
import Gateway
import Synchronization
import Testing

@testable import Replay

@Suite("Replaying against a server")
struct ReplayerTests {
    static func booking(_ id: String, status: String = "confirmed") -> DeliveryBody {
        .json(
            .object([
                ("event", .string("booking.updated")),
                ("booking", .object([("id", .string(id)), ("status", .string(status))])),
            ]))
    }

    @Test("answers are classified as Latchkey gives them: 202, a replayed 200, an ignored 200, errors")
    func classification() {
        let accepted = Array(#"{"status":"accepted","delivery_id":"x"}"#.utf8)
        #expect(DeliveryOutcome(.response(status: 202, body: accepted)) == .accepted)
        #expect(DeliveryOutcome(.response(status: 200, replayed: true, body: accepted)) == .duplicate)
        #expect(DeliveryOutcome(.response(status: 200, body: Array(#"{"status":"duplicate"}"#.utf8))) == .duplicate)
        #expect(
            DeliveryOutcome(.response(status: 200, body: Array(#"{"status":"ignored","reason":"test ping"}"#.utf8)))
                == .ignored)
        #expect(DeliveryOutcome(.response(status: 404, body: [])) == .rejected(404))
        #expect(DeliveryOutcome(.failure("refused")) == .transportError("refused"))
    }

    @Test("every send is counted by its answer, and negative deliveries must be refused")
    func countsAnswers() async throws {
        let configuration = try ScenarioFiles.configuration()
        let latchkey = InMemoryLatchkey(configuration: configuration)
        let scenario = Scenario(
            name: "mixed", source: "hospitable",
            deliveries: [
                Delivery(label: "ok", body: Self.booking("r1")),
                Delivery(label: "again", body: Self.booking("r1"), expectedStatuses: [200], duplicateOf: 0),
                Delivery(label: "wrong", body: Self.booking("r1"), sign: .wrongSecret),
                Delivery(
                    label: "unsigned but expected to pass", body: Self.booking("r2"), sign: .unsigned,
                    expectedStatuses: [202]),
            ], expectations: [])
        let progress = RecordingProgress()
        let replayer = try Replayer(
            configuration: configuration, transport: latchkey, state: nil, progress: progress, environment: [:])
        let report = try await replayer.run([scenario])
        #expect(report.sent == 4)
        #expect(report.accepted == 1)
        #expect(report.duplicates == 1)
        #expect(report.rejected == [401: 2])
        #expect(report.statusMismatches.map(\.delivery) == ["unsigned but expected to pass"])
        #expect(report.statusMismatches.first?.received == "401")
        #expect(!report.passed)
        #expect(progress.updates == [1, 2, 3, 4])
    }

    @Test("injected duplicates are answered as duplicates and counted apart", arguments: [1, 4])
    func duplicateAccounting(concurrency: Int) async throws {
        let configuration = try ScenarioFiles.configuration()
        let latchkey = InMemoryLatchkey(configuration: configuration)
        let scenarios = ["native", "guesty", "hostaway", "hospitable", "lodgify"].map { source in
            Scenario(
                name: source, source: source,
                deliveries: (0..<40).map { Delivery(body: Self.booking("\(source)-\($0)")) }, expectations: [])
        }
        let options = ReplayOptions(shuffleSeed: 5, duplicateRate: 0.25, concurrency: concurrency)
        let replayer = try Replayer(
            configuration: configuration, transport: latchkey, state: nil, options: options, environment: [:])
        let report = try await replayer.run(scenarios)
        let planned = ReplayPlanner.plan(scenarios, options: options).filter(\.isDuplicate).count
        #expect(report.injectedDuplicates == planned)
        #expect(report.sent == 200 + planned)
        #expect(report.accepted == 200)
        #expect(report.duplicates == planned)
        #expect(report.rejectedTotal == 0 && report.transportErrors == 0)
        #expect(report.passed)
    }

    @Test("when shuffling puts a written duplicate before its original, 200 and 202 swap without a mismatch")
    func shuffledWrittenDuplicate() async throws {
        let configuration = try ScenarioFiles.configuration()
        let scenario = Scenario(
            name: "dup", source: "native",
            deliveries: [
                Delivery(label: "first", body: Self.booking("d1")),
                Delivery(label: "again", body: Self.booking("d1"), expectedStatuses: [200], duplicateOf: 0),
            ], expectations: [])
        let seed = try #require(
            (UInt64(1)...50).first {
                ReplayPlanner.plan([scenario], options: ReplayOptions(shuffleSeed: $0)).first?.deliveryIndex == 1
            })
        let shuffled = try Replayer(
            configuration: configuration, transport: InMemoryLatchkey(configuration: configuration), state: nil,
            options: ReplayOptions(shuffleSeed: seed), environment: [:])
        let report = try await shuffled.run([scenario])
        #expect(report.accepted == 1 && report.duplicates == 1)
        #expect(report.statusMismatches.isEmpty)
        // In written order the same scenario must get exactly what it says.
        var strict = scenario
        strict.keepsOrderWhenShuffled = true
        strict.deliveries[1].expectedStatuses = [202]
        let ordered = try Replayer(
            configuration: configuration, transport: InMemoryLatchkey(configuration: configuration), state: nil,
            options: ReplayOptions(shuffleSeed: seed), environment: [:])
        #expect(try await ordered.run([strict]).statusMismatches.map(\.delivery) == ["again"])
    }

    @Test("the state is polled until it matches, then the time it took is reported")
    func convergence() async throws {
        let configuration = try ScenarioFiles.configuration()
        let expectation = ReservationExpectation(
            source: "native", reservationID: "r9", group: .present, deviceIDs: ["front"], samePinOnAllLocks: true)
        let scenario = Scenario(
            name: "c", source: "native", deliveries: [Delivery(body: Self.booking("r9"))], expectations: [expectation])
        let state = EventuallyConsistentSeam(
            after: 3,
            codes: [
                ObservedAccessCode(
                    id: "1", deviceID: "front", name: "Ada [lk:native:r9]", code: "1234", commonCodeKey: "k")
            ])
        let options = ReplayOptions(convergenceTimeoutSeconds: 5, pollIntervalSeconds: 0.01)
        let replayer = try Replayer(
            configuration: configuration, transport: InMemoryLatchkey(configuration: configuration), state: state,
            options: options, environment: [:])
        let report = try await replayer.run([scenario])
        #expect(report.passed, "\(report.render())")
        #expect(report.convergenceSeconds != nil)
        #expect(state.reads == 4)
    }

    @Test("a state that never matches is reported with its differences after the timeout")
    func noConvergence() async throws {
        let configuration = try ScenarioFiles.configuration()
        let expectation = ReservationExpectation(source: "native", reservationID: "r9", group: .absent)
        let scenario = Scenario(
            name: "c", source: "native", deliveries: [Delivery(body: Self.booking("r9", status: "cancelled"))],
            expectations: [expectation])
        let state = FixedSeamState(codes: [
            ObservedAccessCode(id: "1", deviceID: "front", name: "[lk:native:r9]", code: "1234")
        ])
        let options = ReplayOptions(convergenceTimeoutSeconds: 0.05, pollIntervalSeconds: 0.01)
        let replayer = try Replayer(
            configuration: configuration, transport: InMemoryLatchkey(configuration: configuration), state: state,
            options: options, environment: [:])
        let report = try await replayer.run([scenario])
        #expect(!report.passed)
        #expect(report.convergenceSeconds == nil)
        #expect(report.render().contains("expected no group, found 1 code(s) on [front]"))
    }

    @Test("a scenario for an unknown source or an unsignable delivery stops the run before anything is sent")
    func checksBeforeSending() async throws {
        let configuration = try ScenarioFiles.configuration()
        let latchkey = InMemoryLatchkey(configuration: configuration)
        let replayer = try Replayer(configuration: configuration, transport: latchkey, state: nil, environment: [:])
        let good = Scenario(
            name: "good", source: "native", deliveries: [Delivery(body: Self.booking("a"))], expectations: [])
        let unknown = Scenario(
            name: "bad", source: "airbnb", deliveries: [Delivery(body: Self.booking("a"))], expectations: [])
        let stale = Scenario(
            name: "stale", source: "lodgify", deliveries: [Delivery(body: Self.booking("a"), sign: .stale)],
            expectations: [])
        await #expect(throws: ReplayError.self) { try await replayer.run([good, unknown]) }
        await #expect(throws: ReplayError.self) { try await replayer.run([good, stale]) }
        #expect(latchkey.receivedPaths.isEmpty)
    }

    @Test("a transport without a server counts transport errors and fails the run")
    func transportErrors() async throws {
        let configuration = try ScenarioFiles.configuration()
        // Port 9 on loopback (discard) is closed on this machine: the connection is refused at once.
        let transport = URLSessionTransport(baseURL: URL(string: "http://127.0.0.1:9")!, timeoutSeconds: 2)
        let replayer = try Replayer(configuration: configuration, transport: transport, state: nil, environment: [:])
        let report = try await replayer.run([
            Scenario(name: "x", source: "native", deliveries: [Delivery(body: Self.booking("a"))], expectations: [])
        ])
        #expect(report.transportErrors == 1)
        #expect(!report.passed)
        #expect(report.statusMismatches.first?.received.hasPrefix("no answer") == true)
    }
}

/// Seam that shows no code until it has been read `after` times.
final class EventuallyConsistentSeam: SeamStateReader {
    private let threshold: Int
    private let codes: [ObservedAccessCode]
    private let count = Mutex(0)

    init(after threshold: Int, codes: [ObservedAccessCode]) {
        self.threshold = threshold
        self.codes = codes
    }

    var reads: Int { count.withLock { $0 } }

    func accessCodes() async throws(ReplayError) -> [ObservedAccessCode] {
        let n = count.withLock { value in
            value += 1
            return value
        }
        return n > threshold ? codes : []
    }
}
