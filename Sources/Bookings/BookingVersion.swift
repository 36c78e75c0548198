import Foundation

/// The order of a reservation's booking events: the one rule that decides which event is the latest.
///
/// The intake's ledger applies it to choose the booking it stores (`booking/…`), and the reconciler applies it to
/// choose the desired state it converges to (as `EventVersion`); both must agree, or a stale cancellation stored by
/// one would be acted on by the other. When both events carry the PMS's `updatedAt`, the later one wins and equal
/// times fall back to receipt order; otherwise receipt order decides. A version never supersedes itself, so a
/// duplicate changes nothing.
package struct BookingVersion: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The PMS's last-modified time of the booking, when it sends one.
    package var updatedAt: Date?
    /// The intake's receipt sequence number (monotonic across restarts: the ledger numbers every delivery's events).
    package var receivedSequence: UInt64

    /// Creates a version.
    package init(updatedAt: Date?, receivedSequence: UInt64) {
        self.updatedAt = updatedAt
        self.receivedSequence = receivedSequence
    }

    /// Whether an event of this version should replace state of version `other`.
    package func supersedes(_ other: BookingVersion) -> Bool {
        if let mine = updatedAt, let theirs = other.updatedAt, mine != theirs {
            return mine > theirs
        }
        return receivedSequence > other.receivedSequence
    }

    /// `updatedAt#sequence`.
    package var description: String {
        "\(updatedAt.map { $0.formatted(Date.ISO8601FormatStyle()) } ?? "-")#\(receivedSequence)"
    }
}
