/// A key whose entries a ``ShardedDictionary`` spreads over its shards.
protocol ShardedKey: Hashable, Sendable {
    /// Any bits that spread keys evenly; the dictionary keeps the top ones of it. They must not be the bits a
    /// `Dictionary` picks buckets with (a shard's keys would then all collide), which is why the top bits are used.
    var shardBits: UInt64 { get }
}

extension String: ShardedKey {
    /// The key's (per-process seeded) hash.
    var shardBits: UInt64 { UInt64(bitPattern: Int64(hashValue)) }
}

extension KeyDigest: ShardedKey {
    /// The half of the digest that `hash(into:)` does not use.
    var shardBits: UInt64 { high }
}

/// A dictionary split into ``shardCount`` smaller ones by the key's ``ShardedKey/shardBits``, so that growing
/// it, or copying it, happens one shard at a time.
///
/// The store's maps hold an entry per reservation and per remembered delivery: hundreds of thousands under load.
/// As one `Dictionary` each, every doubling rehashed the whole map in one step. The first change after a compaction
/// took a copy of the state also copied the whole map (copy-on-write), retaining every key and value. Both happened
/// on the journal's writer thread with the state's lock held, so every acknowledgement waited (measured: `apply`
/// steps of 10–40 ms at 64 connections). With shards, a doubling rehashes 1/1024 of the map, and a change after a
/// copy copies only the shard it touches.
struct ShardedDictionary<Key: ShardedKey, Value: Sendable>: Sendable, Sequence {
    /// Shards per dictionary: 1024 (a power of two).
    static var shardCount: Int { 1024 }

    private var shards: [[Key: Value]] = Array(repeating: [:], count: shardCount)
    /// Entries in all shards.
    private(set) var count = 0

    /// Creates an empty dictionary.
    init() {}

    /// The shard that holds `key`: the top 10 bits of its ``ShardedKey/shardBits``.
    private static func shard(of key: Key) -> Int { Int(truncatingIfNeeded: key.shardBits >> 54) }

    /// The value stored under `key`; setting nil removes it.
    subscript(key: Key) -> Value? {
        get { shards[Self.shard(of: key)][key] }
        set {
            let index = Self.shard(of: key)
            if let newValue {
                if shards[index].updateValue(newValue, forKey: key) == nil { count += 1 }
            } else if shards[index].removeValue(forKey: key) != nil {
                count -= 1
            }
        }
    }

    /// Makes room for about `capacity` entries in all, spread evenly over the shards.
    mutating func reserveCapacity(_ capacity: Int) {
        let perShard = (capacity + Self.shardCount - 1) / Self.shardCount
        for index in shards.indices { shards[index].reserveCapacity(perShard) }
    }

    /// Entries in the fullest shard (how evenly keys spread; for tests).
    var largestShardCount: Int { shards.map(\.count).max() ?? 0 }

    /// Every entry, shard after shard (no particular order, as with `Dictionary`).
    func makeIterator() -> FlattenSequence<[[Key: Value]]>.Iterator {
        shards.joined().makeIterator()
    }
}
