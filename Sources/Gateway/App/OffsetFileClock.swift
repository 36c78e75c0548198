import Foundation
import Reconciler

/// For integration checks only (`serve --unsafe-test-clock-file`): the wall clock plus a number of seconds read
/// from a file at every look, so a check moves the reconciler's time (arrival checks, drift, retries) and the
/// notification dispatcher's (retries, the retry period) forward by hours without waiting. Never the default; a production start never names such a file.
package struct OffsetFileClock: ReconcilerClock {
    /// The file holding the offset: a decimal number of seconds; absent or unreadable counts as 0.
    package let path: String

    /// Creates the clock.
    /// - Parameter path: The offset file.
    package init(path: String) { self.path = path }

    /// `Date()` plus the file's offset.
    package func now() -> Date {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return Date().addingTimeInterval(Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
    }

    /// Waits until `now()` reaches `deadline`, looking at the file every 100 ms (the offset may jump).
    package func sleep(until deadline: Date) async throws {
        while true {
            let remaining = deadline.timeIntervalSince(now())
            if remaining <= 0 { return }
            try await Task.sleep(for: .seconds(min(remaining, 0.1)))
        }
    }
}
