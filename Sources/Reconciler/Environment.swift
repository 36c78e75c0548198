import Foundation

/// Where the reconciler gets the time and waits; injectable so tests control time.
package protocol ReconcilerClock: Sendable {
    /// The current instant.
    func now() -> Date
    /// Suspends until `deadline` (returns at once when it has passed).
    /// - Throws: `CancellationError` when the waiting task is cancelled.
    func sleep(until deadline: Date) async throws
}

/// The wall clock and `Task.sleep`.
package struct SystemClock: ReconcilerClock {
    /// Creates the system clock.
    package init() {}

    /// `Date()`.
    package func now() -> Date { Date() }

    /// Sleeps with `Task.sleep` until `deadline`.
    package func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 {
            try await Task.sleep(for: .seconds(seconds))
        }
    }
}

/// Asked before every Seam call: "may I call `operation` on `deviceID` now?". The coordinator wires
/// Seam's per-device rate limits (create 10/min, update 10/min, delete 20/min) here.
package protocol SeamPacer: Sendable {
    /// Reserves a slot for one call, or says when to ask again.
    /// - Parameters:
    ///   - operation: The kind of call.
    ///   - deviceID: The lock it touches.
    ///   - now: The reconciler clock's current instant.
    /// - Returns: `nil` when the call may go now (the slot is taken), else the instant to ask again.
    func permission(for operation: SeamOperationKind, deviceID: String, at now: Date) async -> Date?
}

/// A pacer that always says "go".
package struct UnpacedCalls: SeamPacer {
    /// Creates the pacer.
    package init() {}

    /// Always `nil`.
    package func permission(for operation: SeamOperationKind, deviceID: String, at now: Date) async -> Date? { nil }
}
