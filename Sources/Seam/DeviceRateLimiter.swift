import Foundation
import Synchronization

/// Paces calls per device so Latchkey stays inside Seam's per-device limits (seam-api.md §7): 10 creates,
/// 10 updates and 20 deletes per minute per device. It answers "when may this call go", so the outbox worker
/// schedules work instead of sleeping blindly or collecting 429s.
///
/// Each (device, operation) pair keeps the instants of its recent calls: a sliding-window log, the exact form
/// of a token bucket whose tokens come back one window after they were spent. Unlike a bucket that refills
/// continuously (which lets 2·limit−1 calls into some 60-second window), it never lets more than `limit` calls
/// into any window, whatever window Seam counts in. At most `limit` instants are kept per pair.
///
/// A call on a linked group counts once on every device of the group (`create_multiple` on three locks is one
/// create on each); whether Seam counts it that way is unconfirmed, so this is the cautious reading.
/// Safe to share between tasks: the state is behind one `Mutex`.
package final class DeviceRateLimiter: Sendable {
    /// The kinds of call Seam limits separately.
    package enum Operation: String, Sendable, Hashable, CaseIterable {
        /// `create_multiple` (one per device of the group).
        case create
        /// `update_multiple` (one per device of the group).
        case update
        /// `delete` (one per code, on its device).
        case delete
    }

    /// The limits per device.
    package struct Limits: Sendable, Equatable {
        /// Creates per device per window. Default 10.
        package var creates: Int
        /// Updates per device per window. Default 10.
        package var updates: Int
        /// Deletes per device per window. Default 20.
        package var deletes: Int
        /// The window. Default 60 s plus 1 s of margin for clock skew between us and Seam, i.e. 61 s.
        package var window: Duration

        /// Creates limits; every parameter has the default its property documents.
        package init(creates: Int = 10, updates: Int = 10, deletes: Int = 20, window: Duration = .seconds(61)) {
            self.creates = creates
            self.updates = updates
            self.deletes = deletes
            self.window = window
        }

        /// The limit for one operation.
        package func limit(for operation: Operation) -> Int {
            switch operation {
            case .create: creates
            case .update: updates
            case .delete: deletes
            }
        }
    }

    /// The answer to a request for a slot.
    package enum Verdict: Sendable, Equatable {
        /// Go now; the slot is taken.
        case granted
        /// Nothing was taken; ask again at this instant.
        case notBefore(Date)
    }

    private struct Key: Hashable {
        var deviceID: String
        var operation: Operation
    }

    private struct Window {
        /// Instants of granted calls, oldest first; at most `limit` of them.
        var calls: [Date] = []
        /// No call before this instant (after Seam answered 429).
        var blockedUntil: Date?
    }

    /// The limits in use.
    package let limits: Limits
    private let clock: any SeamClock
    private let windows = Mutex<[Key: Window]>([:])

    /// Creates a limiter with no history.
    /// - Parameters:
    ///   - limits: The limits; default Seam's published ones.
    ///   - clock: The clock; default the system clock.
    package init(limits: Limits = Limits(), clock: any SeamClock = SystemSeamClock()) {
        self.limits = limits
        self.clock = clock
    }

    /// The earliest instant a call of `operation` on all of `deviceIDs` could go, without taking a slot.
    /// - Parameters:
    ///   - operation: The kind of call.
    ///   - deviceIDs: The devices it touches.
    /// - Returns: Now, or a later instant.
    package func earliestStart(_ operation: Operation, deviceIDs: [String]) -> Date {
        let now = clock.now()
        return windows.withLock { windows in
            deviceIDs.reduce(now) { latest, deviceID in
                max(latest, earliest(windows[Key(deviceID: deviceID, operation: operation)], operation, now: now))
            }
        }
    }

    /// Takes a slot on every device at once, or none.
    /// - Parameters:
    ///   - operation: The kind of call.
    ///   - deviceIDs: The devices it touches (duplicates count once).
    /// - Returns: ``Verdict/granted`` (go now), or ``Verdict/notBefore(_:)`` with the instant to ask again.
    package func acquire(_ operation: Operation, deviceIDs: [String]) -> Verdict {
        let now = clock.now()
        let devices = Set(deviceIDs)
        return windows.withLock { windows in
            let start = devices.reduce(now) { latest, deviceID in
                max(latest, earliest(windows[Key(deviceID: deviceID, operation: operation)], operation, now: now))
            }
            guard start <= now else { return .notBefore(start) }
            let limit = limits.limit(for: operation)
            for deviceID in devices {
                let key = Key(deviceID: deviceID, operation: operation)
                var window = windows[key] ?? Window()
                window.calls.append(now)
                if window.calls.count > limit { window.calls.removeFirst(window.calls.count - limit) }
                windows[key] = window
            }
            if windows.count > 4096 { prune(&windows, now: now) }
            return .granted
        }
    }

    /// Records that Seam answered 429 for `operation` on `deviceIDs`: no call before `until`.
    /// - Parameters:
    ///   - operation: The kind of call that was limited.
    ///   - deviceIDs: The devices it touched.
    ///   - until: The instant from which calls may go again (now + `Retry-After`, or now + the window).
    package func block(_ operation: Operation, deviceIDs: [String], until: Date) {
        windows.withLock { windows in
            for deviceID in deviceIDs {
                let key = Key(deviceID: deviceID, operation: operation)
                var window = windows[key] ?? Window()
                window.blockedUntil = max(window.blockedUntil ?? until, until)
                windows[key] = window
            }
        }
    }

    private func earliest(_ window: Window?, _ operation: Operation, now: Date) -> Date {
        guard let window else { return now }
        var start = max(now, window.blockedUntil ?? now)
        let limit = limits.limit(for: operation)
        if window.calls.count >= limit {
            // The call `limit` places back must leave the window first.
            let oldest = window.calls[window.calls.count - limit]
            start = max(start, oldest.addingTimeInterval(limits.window.timeInterval))
        }
        return start
    }

    /// Drops pairs with no call in the window and no block, so the map does not grow with every device ever seen.
    private func prune(_ windows: inout [Key: Window], now: Date) {
        let horizon = now.addingTimeInterval(-limits.window.timeInterval)
        windows = windows.filter { _, window in
            (window.calls.last.map { $0 > horizon } ?? false) || (window.blockedUntil.map { $0 > now } ?? false)
        }
    }
}
