/// The order of the values successively put under one key by instances that share a store: which value is the
/// later one. The rule is the booking order's (`BookingVersion.supersedes` in Bookings, which builds these): when
/// both carry a time and the times differ, the later time wins; otherwise the higher sequence wins. Equal orders do
/// not supersede each other, so a repeat changes nothing.
package struct EntryOrder: Sendable, Equatable {
    /// The sender's last-modified time (seconds since 2001-01-01, as `Date` keeps it), when there is one.
    package var time: Double?
    /// The receipt sequence: unique across the instances sharing the store, and rising in receipt order on each.
    package var sequence: Int64

    /// Creates an order.
    package init(time: Double?, sequence: Int64) {
        self.time = time
        self.sequence = sequence
    }

    /// Whether a value of this order replaces a stored value of order `other`.
    package func supersedes(_ other: EntryOrder) -> Bool {
        if let time, let otherTime = other.time, time != otherTime { return time > otherTime }
        return sequence > other.sequence
    }
}
