import Configuration
import Foundation
import WebhookAuth

/// Replays scenarios against a running Latchkey and checks what Seam ends up holding.
///
/// Deliveries are signed as their PMS would sign them (``DeliverySigner``), sent in the planned order
/// (``ReplayPlanner``) with at most ``ReplayOptions/concurrency`` in flight, and counted; then the Seam state
/// is polled until every expected reservation matches or ``ReplayOptions/convergenceTimeoutSeconds`` pass.
package struct Replayer: Sendable {
    /// The configuration the server under test runs with (sources, schemes, secrets).
    package let configuration: LatchkeyConfiguration
    /// Where requests go.
    package let transport: any DeliveryTransport
    /// Where the Seam state is read; `nil` to only send and count.
    package let state: (any SeamStateReader)?
    /// How to replay.
    package let options: ReplayOptions
    /// Progress output; `nil` for none.
    package let progress: (any ReplayProgress)?
    private let signer: DeliverySigner

    /// Creates a replayer.
    ///
    /// - Parameters:
    ///   - configuration: The Latchkey configuration of the server under test.
    ///   - transport: Sends the requests (``URLSessionTransport`` against a live server).
    ///   - state: Reads the Seam state (``FakeSeamStateReader`` or ``SeamAPIStateReader``), or `nil`.
    ///   - options: Order, duplicates, repeats, concurrency and timeouts.
    ///   - progress: Progress output, or `nil`.
    ///   - environment: The environment for `{env: NAME}` secrets. Default: the process environment.
    /// - Throws: ``ReplayError`` for invalid options or a source secret that cannot be resolved.
    package init(
        configuration: LatchkeyConfiguration, transport: any DeliveryTransport, state: (any SeamStateReader)?,
        options: ReplayOptions = ReplayOptions(), progress: (any ReplayProgress)? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ReplayError) {
        try options.validate()
        self.configuration = configuration
        self.transport = transport
        self.state = state
        self.options = options
        self.progress = progress
        signer = try DeliverySigner(configuration: configuration, environment: environment)
    }

    /// Replays the scenarios and reports.
    ///
    /// - Parameter scenarios: The scenarios; their sources must be configured.
    /// - Returns: The report; ``ReplayReport/passed`` says whether everything was as expected.
    /// - Throws: ``ReplayError`` when a scenario names an unknown source or cannot be signed as written
    ///   (checked before anything is sent).
    package func run(_ scenarios: [Scenario]) async throws(ReplayError) -> ReplayReport {
        let runToken = Self.makeRunToken()
        try checkSignable(scenarios, runToken: runToken)
        let plan = ReplayPlanner.plan(scenarios, options: options)
        var report = ReplayReport()
        let started = ContinuousClock.now
        await send(plan, scenarios: scenarios, runToken: runToken, into: &report)
        report.sendingSeconds = Self.seconds(since: started)
        progress?.finish(report: report)
        await awaitConvergence(of: scenarios.flatMap(\.expectationsWithKnownIssue), into: &report)
        return report
    }

    /// Signs every delivery once without sending, so a scenario that cannot be signed stops the run before
    /// anything reaches the server.
    private func checkSignable(_ scenarios: [Scenario], runToken: String) throws(ReplayError) {
        for scenario in scenarios {
            guard configuration.source(named: scenario.source) != nil else {
                throw ReplayError.unknownSource(
                    scenario.source, scenario: scenario.name, known: configuration.sources.map(\.name))
            }
            for delivery in scenario.deliveries {
                do throws(ReplayError) {
                    _ = try signer.request(for: delivery, source: scenario.source, deliveryID: "msg_check")
                } catch {
                    throw ReplayError("scenario \"\(scenario.name)\": \(error.message)")
                }
            }
        }
    }

    private struct Answer: Sendable {
        let send: PlannedSend
        let outcome: DeliveryOutcome
        let received: String
    }

    private func send(_ plan: [PlannedSend], scenarios: [Scenario], runToken: String, into report: inout ReplayReport)
        async
    {
        var done = 0
        await withTaskGroup(of: Answer.self) { group in
            var inFlight = 0
            func record(_ answer: Answer) {
                let delivery = scenarios[answer.send.scenarioIndex].deliveries[answer.send.deliveryIndex]
                report.count(answer.outcome, isDuplicate: answer.send.isDuplicate)
                if !isExpected(answer, delivery: delivery, in: scenarios[answer.send.scenarioIndex]) {
                    report.statusMismatches.append(
                        StatusMismatch(
                            scenario: scenarios[answer.send.scenarioIndex].name,
                            delivery: delivery.label ?? "#\(answer.send.deliveryIndex)",
                            isDuplicate: answer.send.isDuplicate,
                            expected: answer.send.isDuplicate && !delivery.sign.isNegative
                                ? "2xx" : delivery.expectedStatusText,
                            received: answer.received,
                            knownIssue: scenarios[answer.send.scenarioIndex].knownIssue
                        ))
                }
                done += 1
                progress?.update(done: done, total: plan.count, report: report)
            }
            for send in plan {
                if inFlight >= options.concurrency, let answer = await group.next() {
                    inFlight -= 1
                    record(answer)
                }
                let scenario = scenarios[send.scenarioIndex]
                let delivery = scenario.deliveries[send.deliveryIndex]
                if delivery.delayMilliseconds > 0, !send.isDuplicate {
                    try? await Task.sleep(for: .milliseconds(delivery.delayMilliseconds))
                }
                let request: OutgoingRequest
                do throws(ReplayError) {
                    request = try signer.request(
                        for: delivery, source: scenario.source,
                        deliveryID: send.deliveryID(runToken: runToken, scenarios: scenarios))
                } catch {
                    record(Answer(send: send, outcome: .transportError(error.message), received: error.message))
                    continue
                }
                let transport = self.transport
                group.addTask {
                    let result = await transport.send(request)
                    let received: String =
                        switch result {
                        case .response(let status, _, _): String(status)
                        case .failure(let reason): "no answer (\(reason))"
                        }
                    return Answer(send: send, outcome: DeliveryOutcome(result), received: received)
                }
                inFlight += 1
            }
            for await answer in group { record(answer) }
        }
    }

    /// A delivery's own expectation; an injected duplicate of a validly signed delivery may get any 2xx. When the
    /// order of the scenario's sends is not guaranteed (`--concurrency` above 1, or `--shuffle` without
    /// `order: strict`), a written `duplicate_of` may arrive before its original, so 200 and 202 are then
    /// interchangeable for the two.
    private func isExpected(_ answer: Answer, delivery: Delivery, in scenario: Scenario) -> Bool {
        guard let status = Int(answer.received) else { return false }
        if answer.send.isDuplicate, !delivery.sign.isNegative { return (200..<300).contains(status) }
        if delivery.accepts(status: status) { return true }
        let ordered = options.concurrency == 1 && (options.shuffleSeed == nil || scenario.keepsOrderWhenShuffled)
        let duplicated =
            delivery.duplicateOf != nil || scenario.deliveries.contains { $0.duplicateOf == answer.send.deliveryIndex }
        return !ordered && duplicated && !delivery.sign.isNegative && [200, 202].contains(status)
    }

    private func awaitConvergence(of expectations: [ReservationExpectation], into report: inout ReplayReport) async {
        guard let state, !expectations.isEmpty else { return }
        report.stateChecked = true
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(options.convergenceTimeoutSeconds * 1000))
        while true {
            do {
                let codes = try await state.accessCodes()
                report.stateError = nil
                report.verdicts = StateComparison.compare(expectations, with: codes)
                if report.verdicts.allSatisfy({ $0.matches || $0.expected.knownIssue != nil }) {
                    report.convergenceSeconds = Self.seconds(since: started)
                    return
                }
            } catch {
                report.stateError = error.message
            }
            if ContinuousClock.now >= deadline { return }
            try? await Task.sleep(for: .milliseconds(Int(options.pollIntervalSeconds * 1000)))
        }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Eight hex digits, so delivery ids of two runs against the same server never collide.
    private static func makeRunToken() -> String {
        Hex.encode(
            (try? Crypto.randomBytes(count: 4)) ?? withUnsafeBytes(of: UInt32.random(in: .min ... .max)) { Array($0) })
    }
}

/// Loads the Latchkey configuration and every scenario under `directory`, replays them against a live
/// Latchkey and reads the fake Seam's state: the one call an end-to-end test needs.
///
/// - Parameters:
///   - directory: The scenario directory, e.g. `Tests/Scenarios` (scenarios in its sub-directories).
///   - configurationPath: The Latchkey configuration the server runs with, e.g. `Tests/Scenarios/latchkey-test.yaml`.
///   - latchkeyURL: The running Latchkey, e.g. `http://127.0.0.1:8080`.
///   - fakeSeamURL: The running fake Seam that Latchkey talks to.
///   - options: Replay options. Default: in order, once, no duplicates.
///   - progress: Progress output, or `nil`. Default `nil`.
/// - Returns: The report.
/// - Throws: ``ReplayError`` when the configuration or a scenario cannot be read or used.
package func runScenarioDirectory(
    _ directory: String, configurationPath: String, latchkeyURL: URL, fakeSeamURL: URL,
    options: ReplayOptions = ReplayOptions(), progress: (any ReplayProgress)? = nil
) async throws(ReplayError) -> ReplayReport {
    let configuration: LatchkeyConfiguration
    do throws(ConfigurationErrors) {
        configuration = try ConfigurationLoader.load(path: configurationPath)
    } catch {
        throw ReplayError(error.problems.map { "configuration \(configurationPath): \($0)" }.joined(separator: "\n"))
    }
    return try await runScenarioDirectory(
        directory, configuration: configuration, latchkeyURL: latchkeyURL, fakeSeamURL: fakeSeamURL,
        options: options, progress: progress
    )
}

/// The same with a configuration already loaded (e.g. with `server.port` or `data_dir` changed for a test).
///
/// - Parameters:
///   - directory: The scenario directory.
///   - configuration: The configuration the server runs with.
///   - latchkeyURL: The running Latchkey.
///   - fakeSeamURL: The running fake Seam.
///   - options: Replay options. Default: in order, once, no duplicates.
///   - progress: Progress output, or `nil`. Default `nil`.
///   - environment: The environment for `{env: NAME}` secrets. Default: the process environment.
/// - Returns: The report.
/// - Throws: ``ReplayError`` when a scenario cannot be read or used.
package func runScenarioDirectory(
    _ directory: String, configuration: LatchkeyConfiguration, latchkeyURL: URL, fakeSeamURL: URL,
    options: ReplayOptions = ReplayOptions(), progress: (any ReplayProgress)? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment
) async throws(ReplayError) -> ReplayReport {
    let scenarios: [Scenario]
    do throws(ScenarioError) {
        scenarios = try ScenarioDirectory.load(directory)
    } catch {
        throw ReplayError(error.description)
    }
    let replayer = try Replayer(
        configuration: configuration,
        transport: URLSessionTransport(baseURL: latchkeyURL, timeoutSeconds: options.requestTimeoutSeconds),
        state: FakeSeamStateReader(baseURL: fakeSeamURL), options: options, progress: progress, environment: environment
    )
    return try await replayer.run(scenarios)
}
