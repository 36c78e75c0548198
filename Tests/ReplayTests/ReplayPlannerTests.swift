import FakeSeam
import Testing

@testable import Replay

@Suite("Order, shuffle, duplicates and repeats")
struct ReplayPlannerTests {
    static func scenario(_ name: String, deliveries: Int, strict: Bool = false) -> Scenario {
        Scenario(
            name: name, source: "native", keepsOrderWhenShuffled: strict,
            deliveries: (0..<deliveries).map { Delivery(label: "d\($0)", body: .json(.number(String($0)))) },
            expectations: []
        )
    }

    static let scenarios = [
        scenario("a", deliveries: 10), scenario("b", deliveries: 10), scenario("c", deliveries: 10, strict: true),
    ]

    @Test("without a seed the written order is kept, scenario after scenario")
    func writtenOrder() {
        let plan = ReplayPlanner.plan(Self.scenarios, options: ReplayOptions())
        #expect(
            plan.map { "\($0.scenarioIndex).\($0.deliveryIndex)" }
                == (0..<3).flatMap { s in (0..<10).map { "\(s).\($0)" } })
        #expect(plan.allSatisfy { !$0.isDuplicate && $0.round == 0 })
    }

    @Test("the same seed gives the same order and another seed another order")
    func shuffleIsDeterministic() {
        let first = ReplayPlanner.plan(Self.scenarios, options: ReplayOptions(shuffleSeed: 42))
        let again = ReplayPlanner.plan(Self.scenarios, options: ReplayOptions(shuffleSeed: 42))
        let other = ReplayPlanner.plan(Self.scenarios, options: ReplayOptions(shuffleSeed: 43))
        #expect(first == again)
        #expect(first != other)
        #expect(first != ReplayPlanner.plan(Self.scenarios, options: ReplayOptions()))
        #expect(Set(first.map { "\($0.scenarioIndex).\($0.deliveryIndex)" }).count == 30)
    }

    @Test("a strict scenario keeps its own order under shuffle while the others are mixed")
    func strictScenarioKeepsOrder() {
        for seed in UInt64(1)...20 {
            let plan = ReplayPlanner.plan(Self.scenarios, options: ReplayOptions(shuffleSeed: seed))
            #expect(plan.filter { $0.scenarioIndex == 2 }.map(\.deliveryIndex) == Array(0..<10))
        }
        let loose = (UInt64(1)...20).map {
            ReplayPlanner.plan(Self.scenarios, options: ReplayOptions(shuffleSeed: $0)).filter { $0.scenarioIndex == 0 }
                .map(\.deliveryIndex)
        }
        #expect(loose.contains { $0 != Array(0..<10) })
    }

    @Test("duplicates are injected at about the asked rate, after their original, with its delivery id")
    func duplicateRate() {
        let many = [Self.scenario("m", deliveries: 2_000)]
        for shuffle in [nil, UInt64(7)] {
            let plan = ReplayPlanner.plan(many, options: ReplayOptions(shuffleSeed: shuffle, duplicateRate: 0.1))
            let duplicates = plan.filter(\.isDuplicate)
            #expect(plan.count == 2_000 + duplicates.count)
            #expect((150...250).contains(duplicates.count), "\(duplicates.count) duplicates for 10 % of 2000")
            for (index, send) in plan.enumerated() where send.isDuplicate {
                let original = plan.firstIndex { !$0.isDuplicate && $0.deliveryIndex == send.deliveryIndex }
                #expect(original.map { $0 < index } == true)
                #expect(
                    send.deliveryID(runToken: "t", scenarios: many)
                        == plan[original!].deliveryID(runToken: "t", scenarios: many))
            }
        }
        #expect(ReplayPlanner.plan(many, options: ReplayOptions(duplicateRate: 0)).allSatisfy { !$0.isDuplicate })
        #expect(ReplayPlanner.plan(many, options: ReplayOptions(duplicateRate: 1)).count == 4_000)
    }

    @Test("each round repeats every delivery under fresh delivery ids")
    func repeats() {
        let plan = ReplayPlanner.plan(Self.scenarios, options: ReplayOptions(repeatCount: 3))
        #expect(plan.count == 90)
        #expect(Set(plan.map(\.round)) == [0, 1, 2])
        #expect(Set(plan.map { $0.deliveryID(runToken: "t", scenarios: Self.scenarios) }).count == 90)
    }

    @Test("a written duplicate_of shares the delivery id of its original")
    func writtenDuplicateSharesID() {
        var scenario = Self.scenario("d", deliveries: 2)
        var copy = scenario.deliveries[0]
        copy.duplicateOf = 0
        scenario.deliveries.append(copy)
        let plan = ReplayPlanner.plan([scenario], options: ReplayOptions())
        let ids = plan.map { $0.deliveryID(runToken: "t", scenarios: [scenario]) }
        #expect(ids[0] == ids[2] && ids[0] != ids[1])
        #expect(!ids[0].contains("."))
    }

    @Test(
        "options out of range are refused with the flag's name",
        arguments: [
            ReplayOptions(duplicateRate: 1.5), ReplayOptions(repeatCount: 0), ReplayOptions(concurrency: 0),
            ReplayOptions(requestTimeoutSeconds: 0),
        ])
    func invalidOptions(options: ReplayOptions) {
        #expect(throws: ReplayError.self) { try options.validate() }
    }

    @Test("the seeded generator is reproducible across instances")
    func seededRandom() {
        var a = SeededRandom(seed: 99)
        var b = SeededRandom(seed: 99)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(Set(first).count == 5)
        var unit = SeededRandom(seed: 1)
        #expect((0..<1_000).map { _ in unit.nextUnit() }.allSatisfy { (0..<1).contains($0) })
    }
}
