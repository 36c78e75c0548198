/// A first-in, first-out queue whose `popFirst` is O(1) amortized (an array's `removeFirst` moves every element
/// left: with the reconciler's queue holding every reservation after a start or a burst, hundreds of thousands,
/// each pop then copied megabytes).
struct FIFO<Element> {
    /// The elements, those before `head` already popped.
    private var storage: [Element] = []
    /// The index of the first element not yet popped.
    private var head = 0

    /// Whether nothing is queued.
    var isEmpty: Bool { head == storage.count }

    /// How many elements are queued.
    var count: Int { storage.count - head }

    /// Adds `element` at the end.
    mutating func append(_ element: Element) {
        storage.append(element)
    }

    /// Removes and returns the first element, or nil when empty. The popped prefix is dropped once it is at
    /// least half the storage (and 64 elements), so the storage stays within twice what is queued.
    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let first = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return first
    }

    /// Removes every element.
    mutating func removeAll() {
        storage.removeAll()
        head = 0
    }
}
