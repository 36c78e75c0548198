import Testing

@testable import Gateway

/// How often the reconciler gauges are recounted.
@Suite struct GaugeRefresherTests {
    @Test("quick counts repeat every 5 s; slow counts wait 49 times as long, so counting stays under 2 % of the time")
    func pauseGrowsWithTheCountingTime() {
        #expect(GaugeRefresher.pause(after: .milliseconds(3)) == .seconds(5))
        #expect(GaugeRefresher.pause(after: .milliseconds(100)) == .seconds(5))
        #expect(GaugeRefresher.pause(after: .milliseconds(400)) == .milliseconds(19_600))
        let slow = Duration.seconds(2)
        let share = slow / (slow + GaugeRefresher.pause(after: slow))
        #expect(share <= 0.02)
    }
}
