import Foundation

/// Where the fake's time comes from. Codes move `setting` → `set`, windows open and close, removals finish and
/// per-device rate limits reset on this clock; `POST /_fake/clock` moves it forward.
package enum FakeClock: Sendable, Equatable {
    /// Wall-clock time plus whatever `/_fake/clock` added (for demos and the sandbox).
    case system
    /// Time stands still at `start` until `/_fake/clock` (or ``FakeSeamService/advanceClock(by:)``) moves it
    /// (for tests).
    case manual(start: Date)
}

/// The clock's state: its source and the offset added so far.
struct ClockState: Sendable {
    /// Where time comes from.
    let source: FakeClock
    /// Seconds added by `advance`/`set`.
    private(set) var offset: TimeInterval = 0

    /// A clock with no offset yet.
    init(source: FakeClock) { self.source = source }

    /// The fake's current time.
    func now(wall: Date = Date()) -> Date {
        switch source {
        case .system: wall.addingTimeInterval(offset)
        case .manual(let start): start.addingTimeInterval(offset)
        }
    }

    /// Moves time forward by `seconds` (never backwards: the fake's timeline only grows).
    mutating func advance(by seconds: TimeInterval) {
        offset += max(0, seconds)
    }
}
