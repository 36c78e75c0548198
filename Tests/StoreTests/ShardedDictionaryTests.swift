import Testing

@testable import Store

/// The store's sharded maps behave as one dictionary.
@Suite struct ShardedDictionaryTests {
    @Test("puts, replacements and removals read back, and count follows them")
    func behavesLikeADictionary() {
        var sharded = ShardedDictionary<String, Int>()
        var plain: [String: Int] = [:]
        for number in 0..<5_000 {
            let key = "booking/bench/res_\(number % 3_000)"
            if number % 7 == 0 {
                sharded[key] = nil
                plain[key] = nil
            } else {
                sharded[key] = number
                plain[key] = number
            }
        }
        #expect(sharded.count == plain.count)
        for (key, value) in plain { #expect(sharded[key] == value) }
        #expect(sharded["booking/bench/never"] == nil)
        var seen: [String: Int] = [:]
        for (key, value) in sharded { seen[key] = value }
        #expect(seen == plain, "iteration yields every entry once")
    }

    @Test("keys spread over many shards, so no shard holds the whole map")
    func keysSpreadOverShards() {
        var sharded = ShardedDictionary<KeyDigest, Int>()
        for number in 0..<10_000 { sharded[KeyDigest(of: "delivery/bench/msg_\(number)")] = number }
        #expect(sharded.count == 10_000)
        let allPresent = (0..<10_000).allSatisfy { number in
            sharded[KeyDigest(of: "delivery/bench/msg_" + String(number))] == number
        }
        #expect(allPresent)
        // 10,000 keys over 1,024 shards: ~10 each; one shard holding far more would mean the bits are not spread.
        #expect(sharded.largestShardCount < 60, "largest shard: \(sharded.largestShardCount)")
        var strings = ShardedDictionary<String, Int>()
        for number in 0..<10_000 { strings["booking/bench/res_" + String(number)] = number }
        #expect(strings.largestShardCount < 60, "largest shard: \(strings.largestShardCount)")
    }

    @Test("a copy keeps its entries while the original changes (what a compaction relies on)")
    func aCopyIsUnaffected() {
        var sharded = ShardedDictionary<String, [UInt8]>()
        for number in 0..<2_000 { sharded["k\(number)"] = [UInt8(number % 256)] }
        let copy = sharded
        for number in 0..<2_000 { sharded["k\(number)"] = nil }
        sharded["new"] = [1]
        sharded.reserveCapacity(50_000)
        #expect(copy.count == 2_000)
        #expect(copy["k1999"] == [UInt8(1999 % 256)])
        #expect(copy["new"] == nil)
        #expect(sharded.count == 1)
    }
}
