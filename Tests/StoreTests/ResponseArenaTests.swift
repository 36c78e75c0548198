import LatchkeyTestSupport
import Testing

@testable import Store

/// The chunked store of idempotency responses.
@Suite struct ResponseArenaTests {
    /// `count` bytes, each its offset modulo 251, so misplaced bytes show.
    private func pattern(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8((seed + $0) % 251) }
    }

    @Test("responses read back exactly, also when they start a new chunk or are longer than a chunk")
    func responsesReadBackAcrossChunks() {
        var arena = ResponseArena()
        let size = ResponseArena.chunkSize
        // Fill most of the first chunk, then one that does not fit in its rest, then one longer than a chunk, then
        // small ones again.
        let responses = [
            pattern(size - 10, seed: 1), pattern(20, seed: 2), pattern(size * 2 + 5, seed: 3),
            pattern(7, seed: 4), pattern(0, seed: 5), pattern(300, seed: 6),
        ]
        var ranges: [Range<Int>] = []
        for response in responses {
            ranges.append(response.withUnsafeBytes { arena.append($0) })
        }
        for (response, range) in zip(responses, ranges) {
            #expect(Array(arena.bytes(at: range)) == response)
            #expect(range.count == response.count)
        }
        #expect(ranges[1].lowerBound == size, "the second did not fit in the first chunk's rest")
        #expect(ranges[2].lowerBound == 2 * size, "the long one has a chunk of its own")
        #expect(ranges[3].lowerBound >= ranges[2].upperBound, "what follows the long one does not overlap it")
        #expect(arena.count == responses.reduce(0) { $0 + $1.count })
    }

    @Test("a copy keeps its bytes while the original goes on growing (what a compaction relies on)")
    func aCopyIsUnaffectedByLaterAppends() {
        var arena = ResponseArena()
        let first = pattern(1000, seed: 9)
        let range = first.withUnsafeBytes { arena.append($0) }
        let copy = arena
        for seed in 0..<2000 {
            _ = pattern(900, seed: seed).withUnsafeBytes { arena.append($0) }
        }
        #expect(Array(copy.bytes(at: range)) == first)
        #expect(copy.count == 1000)
        #expect(Array(arena.bytes(at: range)) == first)
    }

    @Test("the state shares the bytes of equal consecutive responses and serves each claim its own")
    func stateClaimsReadTheirResponses() {
        var state = StoreState()
        let now: Int64 = 1_000
        let a = KeyDigest(of: "delivery/a")
        let b = KeyDigest(of: "delivery/b")
        let c = KeyDigest(of: "delivery/c")
        [UInt8]("same".utf8).withUnsafeBytes { state.addClaim(a, expiresAt: now + 10, response: $0, now: now) }
        [UInt8]("same".utf8).withUnsafeBytes { state.addClaim(b, expiresAt: now + 10, response: $0, now: now) }
        [UInt8]("other".utf8).withUnsafeBytes { state.addClaim(c, expiresAt: now + 10, response: $0, now: now) }
        #expect(state.arena.count == 9, "\"same\" stored once")
        #expect(state.response(for: a, now: now) == Array("same".utf8))
        #expect(state.response(for: b, now: now) == Array("same".utf8))
        #expect(state.response(for: c, now: now) == Array("other".utf8))
        let compacted = state.compacted(now: now)
        #expect(compacted.response(for: c, now: now) == Array("other".utf8))
        #expect(compacted.response(for: a, now: now) == Array("same".utf8))
    }
}
