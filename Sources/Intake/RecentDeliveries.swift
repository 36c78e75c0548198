import Foundation
import Synchronization

/// The most recent deliveries and the signature failures of the last 24 hours, for the operator console.
///
/// In memory only (a restart starts it empty), bounded (the last ``capacity`` deliveries; signature failures in
/// hourly buckets per source), and it never holds a body, a header or a secret: only the source, the time, the
/// verdict, the status answered, the rejection reason and the reservation ids. One owner (this object), one lock.
package final class RecentDeliveries: Sendable {
    /// One delivery as kept.
    package struct Entry: Sendable, Hashable {
        /// When it was answered.
        package var at: Date
        /// The `{source}` of the URL (as sent, for an unknown source).
        package var source: String
        /// `accepted`, `duplicate`, `ignored` or `rejected`.
        package var verdict: String
        /// The HTTP status answered.
        package var status: Int
        /// Why it was rejected or ignored, or nil.
        package var reason: String?
        /// The reservations it carried, once decoded.
        package var reservationIDs: [String]

        /// Creates a value.
        package init(at: Date, source: String, verdict: String, status: Int, reason: String?, reservationIDs: [String])
        {
            self.at = at
            self.source = source
            self.verdict = verdict
            self.status = status
            self.reason = reason
            self.reservationIDs = reservationIDs
        }
    }

    private struct State {
        var ring: [Entry] = []
        var next = 0
        /// Signature failures by source, by hour since 1970.
        var signatureFailures: [String: [Int: Int]] = [:]
    }

    /// How many deliveries are kept. Default 500.
    package let capacity: Int
    private let state = Mutex(State())

    /// Creates an empty log.
    /// - Parameter capacity: How many deliveries are kept. Default 500.
    package init(capacity: Int = 500) {
        self.capacity = max(1, capacity)
    }

    /// Records a delivery's outcome.
    /// - Parameters:
    ///   - entry: The delivery.
    ///   - signatureFailed: Whether it was refused because its signature (or token, or password) did not verify.
    package func record(_ entry: Entry, signatureFailed: Bool = false) {
        var entry = entry
        if entry.source.utf8.count > 64 { entry.source = String(entry.source.prefix(64)) + "…" }
        let hour = Int(entry.at.timeIntervalSince1970 / 3_600)
        state.withLock { state in
            if state.ring.count < capacity {
                state.ring.append(entry)
            } else {
                state.ring[state.next] = entry
            }
            state.next = (state.next + 1) % capacity
            if signatureFailed {
                // Only configured sources get here (an unknown one is refused before any signature), so the map's
                // keys are bounded by the configuration; old hours are dropped as new ones come.
                var buckets = state.signatureFailures[entry.source] ?? [:]
                buckets[hour, default: 0] += 1
                buckets = buckets.filter { $0.key > hour - 24 }
                state.signatureFailures[entry.source] = buckets
            }
        }
    }

    /// The deliveries kept, most recent first.
    package func entries() -> [Entry] {
        state.withLock { state in
            guard state.ring.count == capacity else { return state.ring.reversed() }
            return Array((state.ring[state.next...] + state.ring[..<state.next]).reversed())
        }
    }

    /// Signature failures per source in the 24 hours before `now` (by whole hours), sources with none left out.
    package func signatureFailures(now: Date = Date()) -> [String: Int] {
        let hour = Int(now.timeIntervalSince1970 / 3_600)
        return state.withLock { state in
            var counts: [String: Int] = [:]
            for (source, buckets) in state.signatureFailures {
                let count = buckets.filter { $0.key > hour - 24 && $0.key <= hour }.values.reduce(0, +)
                if count > 0 { counts[source] = count }
            }
            return counts
        }
    }
}
