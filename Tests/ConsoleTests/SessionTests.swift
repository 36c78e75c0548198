import Console
import Foundation
import Testing

/// A deterministic generator for tests (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct SessionTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aSessionLivesForItsLifetimeAndNoLonger() {
        var table = ConsoleSessionTable()
        var random = SeededGenerator(state: 1)
        let session = table.open(now: start, random: &random)
        #expect(session.id.count == 64 && session.csrfToken.count == 64 && session.id != session.csrfToken)
        #expect(session.expiresAt == start.addingTimeInterval(12 * 3_600))
        #expect(table.session(id: session.id, now: start.addingTimeInterval(12 * 3_600 - 1)) == session)
        #expect(table.session(id: session.id, now: start.addingTimeInterval(12 * 3_600)) == nil)
        #expect(table.count == 0)
    }

    @Test func unknownMissingAndClosedSessionsAreNone() {
        var table = ConsoleSessionTable(lifetime: .seconds(60))
        var random = SeededGenerator(state: 2)
        let session = table.open(now: start, random: &random)
        #expect(table.session(id: nil, now: start) == nil)
        #expect(table.session(id: "forged", now: start) == nil)
        #expect(table.session(id: String(session.id.dropLast()), now: start) == nil)
        table.close(id: session.id)
        #expect(table.session(id: session.id, now: start) == nil)
    }

    @Test func theTableIsBounded() {
        var table = ConsoleSessionTable(capacity: 3)
        var random = SeededGenerator(state: 3)
        let first = table.open(now: start, random: &random)
        for offset in 1...3 { _ = table.open(now: start.addingTimeInterval(Double(offset)), random: &random) }
        #expect(table.count == 3)
        #expect(table.session(id: first.id, now: start.addingTimeInterval(5)) == nil)
    }

    @Test func csrfTokensAreCheckedExactly() {
        var table = ConsoleSessionTable()
        var random = SeededGenerator(state: 4)
        let session = table.open(now: start, random: &random)
        #expect(session.accepts(csrf: session.csrfToken))
        #expect(!session.accepts(csrf: nil))
        #expect(!session.accepts(csrf: ""))
        #expect(!session.accepts(csrf: String(session.csrfToken.dropLast())))
        #expect(!session.accepts(csrf: session.csrfToken + "0"))
        #expect(!session.accepts(csrf: session.id))
    }

    @Test func constantTimeEqualIsEquality() {
        #expect(ConsoleForm.constantTimeEqual("", ""))
        #expect(ConsoleForm.constantTimeEqual("abc", "abc"))
        #expect(!ConsoleForm.constantTimeEqual("abc", "abd"))
        #expect(!ConsoleForm.constantTimeEqual("abc", "ab"))
        #expect(!ConsoleForm.constantTimeEqual("", "a"))
        // Lengths that differ by a multiple of 256 must not look equal.
        #expect(!ConsoleForm.constantTimeEqual(String(repeating: "a", count: 256), ""))
    }

    @Test func formsAndCookiesAreRead() {
        let fields = ConsoleForm.fields(Array("password=a%20b+c%26d&csrf=12&empty=&bad=%zz".utf8))
        #expect(fields["password"] == "a b c&d")
        #expect(fields["csrf"] == "12")
        #expect(fields["empty"] == "")
        #expect(fields["bad"] == "%zz")
        #expect(ConsoleForm.cookie("lk_console", in: "a=1; lk_console=abc; b=2") == "abc")
        #expect(ConsoleForm.cookie("lk_console", in: "xlk_console=abc") == nil)
        #expect(ConsoleForm.cookie("lk_console", in: nil) == nil)
    }
}

@Suite struct SignInThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func eachFailureDoublesTheWait() {
        var throttle = SignInThrottle()
        #expect(throttle.decide(client: "10.0.0.1", now: start) == .check)
        var now = start
        for expected in [1, 2, 4, 8, 16] {
            #expect(throttle.recordFailure(client: "10.0.0.1", now: now) == expected)
            #expect(throttle.decide(client: "10.0.0.1", now: now) == .wait(seconds: expected))
            #expect(throttle.decide(client: "10.0.0.1", now: now.addingTimeInterval(Double(expected) - 0.5)) != .check)
            now = now.addingTimeInterval(Double(expected))
            #expect(throttle.decide(client: "10.0.0.1", now: now) == .check)
        }
        // Another client is not slowed by this one.
        #expect(throttle.decide(client: "10.0.0.2", now: start) == .check)
    }

    @Test func theWaitIsCappedAndASuccessForgets() {
        var throttle = SignInThrottle(maxDelay: .seconds(10))
        var last = 0
        for _ in 0..<40 { last = throttle.recordFailure(client: "c", now: start) }
        #expect(last == 10)
        throttle.recordSuccess(client: "c")
        #expect(throttle.decide(client: "c", now: start) == .check)
    }

    @Test func failuresAreForgottenAfterAnHourOfQuiet() {
        var throttle = SignInThrottle()
        for _ in 0..<12 { throttle.recordFailure(client: "c", now: start) }
        #expect(throttle.decide(client: "c", now: start.addingTimeInterval(3_601)) == .check)
    }

    @Test func theTableIsBounded() {
        var throttle = SignInThrottle(capacity: 2)
        throttle.recordFailure(client: "a", now: start)
        throttle.recordFailure(client: "b", now: start.addingTimeInterval(1))
        throttle.recordFailure(client: "c", now: start.addingTimeInterval(2))
        #expect(throttle.decide(client: "a", now: start.addingTimeInterval(2)) == .check)
        #expect(throttle.decide(client: "c", now: start.addingTimeInterval(2)) == .wait(seconds: 1))
    }
}

@Suite struct StatusTests {
    @Test func lockStatesComeFromLatchkeyAndSeam() {
        #expect(
            LockState.derive(recorded: "unconfirmed", live: "set", liveErrors: [], listedByLock: true, online: true)
                .state == .set)
        // Seam's `unset` is on the lock only with is_scheduled_on_device (the gateway says `scheduled` then).
        #expect(
            LockState.derive(
                recorded: "unconfirmed", live: "scheduled", liveErrors: [], listedByLock: true, online: true
            ).state == .scheduled)
        #expect(
            LockState.derive(recorded: "unconfirmed", live: "unset", liveErrors: [], listedByLock: true, online: true)
                .state == .setting)
        #expect(
            LockState.derive(
                recorded: "scheduled", live: "unset", liveErrors: ["device_offline"], listedByLock: true, online: true
            ).state == .failed)
        #expect(
            LockState.derive(recorded: "unconfirmed", live: "setting", liveErrors: [], listedByLock: true, online: true)
                .state == .setting)
        #expect(
            LockState.derive(
                recorded: "unconfirmed", live: "setting", liveErrors: ["failed_to_set_on_device"], listedByLock: true,
                online: true
            ).state == .failed)
        #expect(
            LockState.derive(recorded: "set", live: "set", liveErrors: [], listedByLock: true, online: false).state
                == .offline)
        #expect(
            LockState.derive(
                recorded: "removed_externally", live: nil, liveErrors: [], listedByLock: true, online: true
            ).state == .missing)
        #expect(
            LockState.derive(recorded: "set", live: nil, liveErrors: [], listedByLock: true, online: true).state
                == .missing)
        #expect(
            LockState.derive(recorded: "set", live: nil, liveErrors: [], listedByLock: false, online: nil).state == .set
        )
        #expect(
            LockState.derive(recorded: "unconfirmed", live: nil, liveErrors: [], listedByLock: false, online: nil).state
                == .setting)
    }

    @Test func aGroupIsReadyOnlyWithACodeOnEveryLock() {
        let set = LockLine(lockName: "Front", deviceID: "a", state: .set)
        let scheduled = LockLine(lockName: "Back", deviceID: "b", state: .scheduled)
        let setting = LockLine(lockName: "Back", deviceID: "b", state: .setting)
        let offline = LockLine(lockName: "Shed", deviceID: "c", state: .offline)
        #expect(GroupStatus.summarise(phase: "converged", locks: [set, scheduled]).status == .ready)
        #expect(GroupStatus.summarise(phase: "converged", locks: [set, setting]).status == .settingUp)
        #expect(GroupStatus.summarise(phase: "applying", locks: [set, scheduled]).status == .settingUp)
        #expect(GroupStatus.summarise(phase: "converged", locks: [set, offline]).status == .attention)
        #expect(GroupStatus.summarise(phase: "dead_lettered", locks: [set]).status == .attention)
        #expect(GroupStatus.summarise(phase: "unmapped", locks: []).status == .attention)
        #expect(GroupStatus.summarise(phase: "no_access", locks: []).status == .noCode)
        #expect(GroupStatus.summarise(phase: "applying", locks: []).status == .settingUp)
    }

    @Test func arrivalRangesAreJudgedInThePropertysZone() throws {
        // 23:30 UTC on 1 July 2030 is already 2 July in Berlin and still 1 July in New York.
        let now = try #require(ISO8601DateFormatter().date(from: "2030-07-01T23:30:00Z"))
        let checkIn = try #require(ISO8601DateFormatter().date(from: "2030-07-02T13:00:00Z"))
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        #expect(ArrivalRange.today.contains(checkIn, timeZone: berlin, now: now))
        #expect(!ArrivalRange.tomorrow.contains(checkIn, timeZone: berlin, now: now))
        #expect(ArrivalRange.tomorrow.contains(checkIn, timeZone: newYork, now: now))
        #expect(ArrivalRange.week.contains(checkIn, timeZone: newYork, now: now))
        #expect(!ArrivalRange.week.contains(checkIn.addingTimeInterval(7 * 86_400), timeZone: berlin, now: now))
    }
}
