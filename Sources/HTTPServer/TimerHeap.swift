/// A min-heap of deadlines, at most one per key (a connection's file descriptor), updated in place.
///
/// Each connection has exactly one live deadline (the one its state calls for), so the heap never holds stale
/// entries: setting a key's deadline moves its entry, removing a key deletes it. All operations are O(log n).
struct TimerHeap {
    private var entries: [(deadline: UInt64, key: Int32)] = []
    /// `positions[key]` is the key's index in `entries`, or -1.
    private var positions: [Int] = []

    /// The number of keys with a deadline.
    var count: Int { entries.count }

    /// The earliest deadline, if any.
    var earliest: UInt64? { entries.first?.deadline }

    /// Sets (or moves) the deadline of `key`.
    mutating func set(_ key: Int32, deadline: UInt64) {
        let slot = Int(key)
        if slot >= positions.count {
            positions.append(contentsOf: repeatElement(-1, count: slot + 1 - positions.count))
        }
        let position = positions[slot]
        if position < 0 {
            entries.append((deadline, key))
            positions[slot] = entries.count - 1
            siftUp(entries.count - 1)
        } else {
            let old = entries[position].deadline
            entries[position].deadline = deadline
            if deadline < old { siftUp(position) } else { siftDown(position) }
        }
    }

    /// Removes `key`'s deadline, if it has one.
    mutating func remove(_ key: Int32) {
        let slot = Int(key)
        guard slot < positions.count, positions[slot] >= 0 else { return }
        let position = positions[slot]
        positions[slot] = -1
        let last = entries.removeLast()
        guard position < entries.count else { return }
        entries[position] = last
        positions[Int(last.key)] = position
        siftUp(position)
        siftDown(positions[Int(last.key)])
    }

    /// Removes and returns a key whose deadline is at or before `now`, or `nil` when none is due.
    mutating func popDue(now: UInt64) -> Int32? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        remove(first.key)
        return first.key
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            swapAt(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        entries.swapAt(a, b)
        positions[Int(entries[a].key)] = a
        positions[Int(entries[b].key)] = b
    }
}
