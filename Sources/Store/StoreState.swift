/// The committed state in memory: the key → value entries and the idempotency index.
///
/// Idempotency claims are kept compactly: a 16-byte digest maps to a 12-byte slot (expiry in seconds,
/// offset and length of the response in one shared ``ResponseArena``), so a million claims cost about
/// 60 MB of table plus their responses, and equal consecutive responses share arena bytes.
struct StoreState: Sendable {
    /// Where a claim's response lives in the arena, and when the claim lapses.
    struct ClaimSlot: Sendable {
        /// Expiry, seconds since the Unix epoch (clamped to `UInt32`; good until 2106).
        var expiresAt: UInt32
        /// Where the response starts in ``StoreState/arena`` (see ``ResponseArena``).
        var offset: UInt32
        /// Length of the response.
        var length: UInt32
    }

    /// The key → value entries.
    var entries = ShardedDictionary<String, [UInt8]>()
    /// The idempotency index, by key digest.
    var claims = ShardedDictionary<KeyDigest, ClaimSlot>()
    /// Every stored response.
    var arena = ResponseArena()
    /// Where the most recently appended response starts, for sharing equal consecutive responses.
    private var lastResponse: Range<Int> = 0..<0

    /// The response of an unexpired claim of `digest`, or nil.
    /// - Parameters:
    ///   - digest: The key's digest.
    ///   - now: The current time, seconds since the epoch.
    func response(for digest: KeyDigest, now: Int64) -> [UInt8]? {
        guard let slot = claims[digest], Int64(slot.expiresAt) > now else { return nil }
        return Array(arena.bytes(of: slot))
    }

    /// Records a claim, replacing any earlier one for the same digest. Claims already expired are skipped.
    /// - Parameters:
    ///   - digest: The key's digest.
    ///   - expiresAt: Expiry, seconds since the epoch.
    ///   - response: The response for repeats.
    ///   - now: The current time.
    mutating func addClaim(_ digest: KeyDigest, expiresAt: Int64, response: UnsafeRawBufferPointer, now: Int64) {
        guard expiresAt > now else {
            claims[digest] = nil
            return
        }
        let range: Range<Int>
        if arena.bytes(at: lastResponse).elementsEqual(response) {
            range = lastResponse
        } else {
            range = arena.append(response)
            lastResponse = range
        }
        let expiry = UInt32(clamping: expiresAt)
        claims[digest] = ClaimSlot(expiresAt: expiry, offset: UInt32(range.lowerBound), length: UInt32(range.count))
    }

    /// Applies a committed or replayed transaction.
    /// - Parameters:
    ///   - record: The transaction.
    ///   - now: The current time, for skipping expired claims.
    mutating func apply(_ record: TransactionRecord, now: Int64) {
        if let claim = record.claim {
            claim.response.withUnsafeBytes {
                addClaim(claim.digest, expiresAt: claim.expiresAt, response: $0, now: now)
            }
        }
        for op in record.operations {
            switch op {
            case .put(let key, let value): entries[key] = value
            case .delete(let key): entries[key] = nil
            }
        }
    }

    /// A copy without expired claims and with a freshly packed arena.
    /// - Parameter now: The current time.
    func compacted(now: Int64) -> StoreState {
        var fresh = StoreState()
        fresh.entries = entries
        fresh.claims.reserveCapacity(claims.count)
        for (digest, slot) in claims where Int64(slot.expiresAt) > now {
            arena.bytes(of: slot).withUnsafeBytes { response in
                fresh.addClaim(digest, expiresAt: Int64(slot.expiresAt), response: response, now: now)
            }
        }
        return fresh
    }
}

/// The bytes of every stored idempotency response, in chunks of ``chunkSize`` bytes that never move once
/// written.
///
/// One contiguous array had to be copied whole each time it grew (tens of MB at a few hundred thousand claims), and
/// again on the first append after a compaction took a copy of the state: each time, the writer thread stalled with
/// the state's lock held, holding every acknowledgement back (measured: `apply` steps of 10–40 ms at 64 connections).
/// Now growing adds a chunk, and a copy shares every chunk but the one being filled.
struct ResponseArena: Sendable {
    /// Bytes per chunk: 1 MiB. A response longer than that gets a chunk of its own, sized to it, and the chunk
    /// numbers its length spans (placeholders, empty), so that an offset still names its chunk.
    static let chunkSize = 1 << 20

    /// The chunks; chunk `i` holds the bytes at offsets `i * chunkSize ..< i * chunkSize + chunks[i].count`.
    private var chunks: [[UInt8]] = []
    /// Bytes stored (placeholders and unused chunk ends not counted).
    private(set) var count = 0
    /// Whether the last chunk takes more responses (not after a long response's chunk and placeholders).
    private var lastChunkIsOpen = false

    /// Stores `bytes`.
    /// - Returns: Their offsets, as ``bytes(at:)`` reads them.
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Range<Int> {
        let size = Self.chunkSize
        if bytes.count > size {
            // A chunk of its own, and as many chunk numbers as its length spans.
            let start = chunks.count * size
            chunks.append([UInt8](bytes))
            chunks.append(contentsOf: repeatElement([], count: (bytes.count - 1) / size))
            lastChunkIsOpen = false
            count += bytes.count
            return checked(start..<(start + bytes.count))
        }
        if !lastChunkIsOpen || chunks[chunks.count - 1].count + bytes.count > size {
            var fresh: [UInt8] = []
            fresh.reserveCapacity(size)
            chunks.append(fresh)
            lastChunkIsOpen = true
        }
        let last = chunks.count - 1
        let start = last * size + chunks[last].count
        chunks[last].append(contentsOf: bytes)
        count += bytes.count
        return checked(start..<(start + bytes.count))
    }

    /// The bytes stored at `range` (as ``append(_:)`` returned it); empty for an empty range.
    func bytes(at range: Range<Int>) -> ArraySlice<UInt8> {
        guard !range.isEmpty else { return [] }
        let chunk = range.lowerBound / Self.chunkSize
        let start = range.lowerBound - chunk * Self.chunkSize
        return chunks[chunk][start..<(start + range.count)]
    }

    /// The response of a claim.
    func bytes(of slot: StoreState.ClaimSlot) -> ArraySlice<UInt8> {
        bytes(at: Int(slot.offset)..<Int(slot.offset + slot.length))
    }

    /// `range`, after checking it fits a claim slot's 32-bit offset.
    private func checked(_ range: Range<Int>) -> Range<Int> {
        precondition(range.upperBound <= Int(UInt32.max), "idempotency response arena exceeds 4 GiB")
        return range
    }
}
