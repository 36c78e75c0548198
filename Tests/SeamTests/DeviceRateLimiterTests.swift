import Foundation
import Seam
import Testing

@Suite("Per-device rate limiter")
struct DeviceRateLimiterTests {
    private let clock = ManualClock()
    private var limiter: DeviceRateLimiter { DeviceRateLimiter(clock: clock) }

    @Test func tenCreatesPerDevice_ThenTheEleventhWaitsForTheFirstToLeaveTheWindow() {
        let limiter = limiter
        let first = clock.now()
        for _ in 0..<10 {
            #expect(limiter.acquire(.create, deviceIDs: ["lock_a"]) == .granted)
            clock.advance(by: 1)
        }
        #expect(limiter.acquire(.create, deviceIDs: ["lock_a"]) == .notBefore(first.addingTimeInterval(61)))
        clock.advance(by: 51)  // now first + 61
        #expect(limiter.acquire(.create, deviceIDs: ["lock_a"]) == .granted)
        #expect(limiter.acquire(.create, deviceIDs: ["lock_a"]) == .notBefore(first.addingTimeInterval(62)))
    }

    @Test func devicesAndOperations_HaveTheirOwnAllowances() {
        let limiter = limiter
        for _ in 0..<10 { _ = limiter.acquire(.create, deviceIDs: ["lock_a"]) }
        #expect(limiter.acquire(.create, deviceIDs: ["lock_b"]) == .granted)
        #expect(limiter.acquire(.update, deviceIDs: ["lock_a"]) == .granted)
        #expect(limiter.acquire(.delete, deviceIDs: ["lock_a"]) == .granted)
    }

    @Test func deletes_AllowTwentyPerWindow() {
        let limiter = limiter
        let granted = (0..<25).filter { _ in limiter.acquire(.delete, deviceIDs: ["lock_a"]) == .granted }
        #expect(granted.count == 20)
    }

    @Test func aGroupCall_TakesASlotOnEveryDeviceOrNone() {
        let limiter = limiter
        for _ in 0..<10 { _ = limiter.acquire(.update, deviceIDs: ["lock_b"]) }
        let blocked = limiter.acquire(.update, deviceIDs: ["lock_a", "lock_b"])
        #expect(blocked == .notBefore(clock.now().addingTimeInterval(61)))
        // Nothing was taken on lock_a by the refused group call.
        for _ in 0..<10 { #expect(limiter.acquire(.update, deviceIDs: ["lock_a"]) == .granted) }
    }

    @Test func earliestStart_DoesNotTakeASlot() {
        let limiter = limiter
        for _ in 0..<9 { _ = limiter.acquire(.create, deviceIDs: ["lock_a"]) }
        for _ in 0..<5 { #expect(limiter.earliestStart(.create, deviceIDs: ["lock_a", "lock_z"]) == clock.now()) }
        #expect(limiter.acquire(.create, deviceIDs: ["lock_a"]) == .granted)
        #expect(limiter.earliestStart(.create, deviceIDs: ["lock_a"]) == clock.now().addingTimeInterval(61))
    }

    @Test func aSeam429_BlocksTheDeviceUntilTheGivenInstant() {
        let limiter = limiter
        let until = clock.now().addingTimeInterval(45)
        limiter.block(.create, deviceIDs: ["lock_a"], until: until)
        #expect(limiter.acquire(.create, deviceIDs: ["lock_a"]) == .notBefore(until))
        #expect(limiter.acquire(.delete, deviceIDs: ["lock_a"]) == .granted)
        clock.advance(by: 45)
        #expect(limiter.acquire(.create, deviceIDs: ["lock_a"]) == .granted)
    }

    @Test func neverMoreThanTheLimitInAnyWindow_UnderSteadyDemand() {
        let limiter = DeviceRateLimiter(limits: .init(window: .seconds(60)), clock: clock)
        var grants: [Date] = []
        for _ in 0..<600 {  // ask every second for ten minutes
            if limiter.acquire(.create, deviceIDs: ["lock_a"]) == .granted { grants.append(clock.now()) }
            clock.advance(by: 1)
        }
        for (index, grant) in grants.enumerated() {
            let inWindow = grants[index...].prefix { $0.timeIntervalSince(grant) < 60 }.count
            #expect(inWindow <= 10)
        }
        #expect(grants.count >= 95)
    }
}
