import FakeSeam

/// How a set of scenarios is replayed. Every field has a default that replays each delivery once, in order.
package struct ReplayOptions: Sendable, Equatable {
    /// Shuffle the deliveries of all scenarios with this seed (same seed, same order); `nil` keeps the written
    /// order, scenario after scenario. Scenarios with `order: strict` keep their own order either way. Default `nil`.
    package var shuffleSeed: UInt64?
    /// The fraction of deliveries, 0…1, sent a second time with the same delivery id (a PMS retry). Default 0.
    package var duplicateRate: Double
    /// How many times the whole set is sent; each round gets fresh delivery ids. Default 1.
    package var repeatCount: Int
    /// Requests in flight at once; 1 keeps the order exactly. Default 1.
    package var concurrency: Int
    /// The timeout of one request, in seconds. Default 10.
    package var requestTimeoutSeconds: Double
    /// How long to wait for Seam to reach the expected state after the last delivery, in seconds. Default 30.
    package var convergenceTimeoutSeconds: Double
    /// The pause between two reads of the Seam state while waiting, in seconds. Default 0.25.
    package var pollIntervalSeconds: Double
    /// The seed of the duplicate choice when not shuffling (shuffling uses ``shuffleSeed``). Default 1.
    package var duplicateSeed: UInt64

    /// Creates options with the documented defaults.
    package init(
        shuffleSeed: UInt64? = nil, duplicateRate: Double = 0, repeatCount: Int = 1, concurrency: Int = 1,
        requestTimeoutSeconds: Double = 10, convergenceTimeoutSeconds: Double = 30, pollIntervalSeconds: Double = 0.25,
        duplicateSeed: UInt64 = 1
    ) {
        self.shuffleSeed = shuffleSeed
        self.duplicateRate = duplicateRate
        self.repeatCount = repeatCount
        self.concurrency = concurrency
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.convergenceTimeoutSeconds = convergenceTimeoutSeconds
        self.pollIntervalSeconds = pollIntervalSeconds
        self.duplicateSeed = duplicateSeed
    }

    /// Checks the ranges.
    /// - Throws: ``ReplayError`` naming the option that is out of range.
    package func validate() throws(ReplayError) {
        guard (0...1).contains(duplicateRate) else {
            throw ReplayError("--duplicate-rate must be between 0 and 1, e.g. 0.1")
        }
        guard repeatCount >= 1 else { throw ReplayError("--repeat must be at least 1") }
        guard (1...256).contains(concurrency) else { throw ReplayError("--concurrency must be between 1 and 256") }
        guard requestTimeoutSeconds > 0, convergenceTimeoutSeconds >= 0, pollIntervalSeconds > 0 else {
            throw ReplayError("timeouts and the poll interval must be positive numbers of seconds")
        }
    }
}

/// One send of the plan: which delivery, under which id, and whether it is an injected duplicate.
package struct PlannedSend: Sendable, Equatable {
    /// The scenario's index in the list given to the planner.
    package var scenarioIndex: Int
    /// The delivery's index in its scenario.
    package var deliveryIndex: Int
    /// The round, 0-based (see ``ReplayOptions/repeatCount``).
    package var round: Int
    /// Whether this send repeats an earlier send of the same delivery (same delivery id).
    package var isDuplicate: Bool

    /// The delivery id: unique per delivery and round, shared by its duplicates (injected, or written with
    /// `duplicate_of:`). Contains no `.`.
    package func deliveryID(runToken: String, scenarios: [Scenario]) -> String {
        let original = scenarios[scenarioIndex].deliveries[deliveryIndex].duplicateOf ?? deliveryIndex
        return "msg_\(runToken)_s\(scenarioIndex)_d\(original)_r\(round)"
    }
}

/// Turns scenarios and options into the ordered list of sends. Deterministic: the same scenarios, options
/// and seeds give the same plan.
package enum ReplayPlanner {
    /// Builds the plan.
    ///
    /// - Parameters:
    ///   - scenarios: The scenarios, in order.
    ///   - options: Shuffle seed, duplicate rate and repeat count are used.
    /// - Returns: The sends in the order they are made.
    package static func plan(_ scenarios: [Scenario], options: ReplayOptions) -> [PlannedSend] {
        var random = SeededRandom(seed: options.shuffleSeed ?? options.duplicateSeed)
        var plan: [PlannedSend] = []
        for round in 0..<options.repeatCount {
            var sends: [PlannedSend] = []
            for (s, scenario) in scenarios.enumerated() {
                for d in scenario.deliveries.indices {
                    sends.append(PlannedSend(scenarioIndex: s, deliveryIndex: d, round: round, isDuplicate: false))
                }
            }
            if options.shuffleSeed != nil {
                sends = shuffled(sends, scenarios: scenarios, random: &random)
            }
            var withDuplicates: [PlannedSend] = []
            var pending: [(at: Int, send: PlannedSend)] = []
            for send in sends {
                withDuplicates.append(send)
                if options.duplicateRate > 0, random.nextUnit() < options.duplicateRate {
                    var duplicate = send
                    duplicate.isDuplicate = true
                    // In order: right after the original. Shuffled: a few sends later, as a late PMS retry.
                    let lag = options.shuffleSeed == nil ? 0 : Int(random.next() % 5)
                    pending.append((withDuplicates.count + lag, duplicate))
                }
                while let first = pending.firstIndex(where: { $0.at <= withDuplicates.count }) {
                    withDuplicates.append(pending.remove(at: first).send)
                }
            }
            withDuplicates += pending.map(\.send)
            plan += withDuplicates
        }
        return plan
    }

    /// Fisher–Yates over all sends, then the sends of `order: strict` scenarios are put back into their
    /// written order within the slots they drew, so they still interleave with the others.
    private static func shuffled(_ sends: [PlannedSend], scenarios: [Scenario], random: inout SeededRandom)
        -> [PlannedSend]
    {
        var result = sends
        if result.count > 1 {
            for i in stride(from: result.count - 1, to: 0, by: -1) {
                let j = Int(random.next() % UInt64(i + 1))
                result.swapAt(i, j)
            }
        }
        for (s, scenario) in scenarios.enumerated() where scenario.keepsOrderWhenShuffled {
            let slots = result.indices.filter { result[$0].scenarioIndex == s }
            let ordered = slots.map { result[$0] }.sorted { $0.deliveryIndex < $1.deliveryIndex }
            for (slot, send) in zip(slots, ordered) { result[slot] = send }
        }
        return result
    }
}
