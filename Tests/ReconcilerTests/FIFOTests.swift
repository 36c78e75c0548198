import Testing

@testable import Reconciler

@Suite("FIFO: the worker's queue")
struct FIFOTests {
    @Test func popsInAppendOrderAcrossCompactionsAndRefills() {
        var queue = FIFO<Int>()
        var expected: [Int] = []
        var popped: [Int] = []
        var next = 0
        // Rounds of appends and pops of different sizes, so that the popped prefix is dropped at various points.
        for (appends, pops) in [(1000, 300), (5, 600), (500, 10), (0, 200), (70, 465)] {
            for _ in 0..<appends {
                queue.append(next)
                expected.append(next)
                next += 1
            }
            for _ in 0..<pops {
                guard let value = queue.popFirst() else { break }
                popped.append(value)
            }
            #expect(queue.count == expected.count - popped.count)
        }
        #expect(popped == Array(expected.prefix(popped.count)))
        while let value = queue.popFirst() { popped.append(value) }
        #expect(popped == expected)
        #expect(queue.isEmpty)
        #expect(queue.popFirst() == nil)
        queue.append(7)
        queue.removeAll()
        #expect(queue.isEmpty && queue.count == 0)
    }
}
