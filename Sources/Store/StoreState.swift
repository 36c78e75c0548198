/// The committed state in memory: the key → value entries and the idempotency index.
///
/// Idempotency claims are kept compactly: a 16-byte digest maps to a 12-byte slot (expiry in seconds,
/// offset and length of the response in one shared byte arena), so a million claims cost about
/// 60 MB of table plus their responses, and equal consecutive responses share arena bytes.
struct StoreState: Sendable {
    /// Where a claim's response lives in the arena, and when the claim lapses.
    struct ClaimSlot: Sendable {
        /// Expiry, seconds since the Unix epoch (clamped to `UInt32`; good until 2106).
        var expiresAt: UInt32
        /// Offset of the response in ``StoreState/arena``.
        var offset: UInt32
        /// Length of the response.
        var length: UInt32
    }

    /// The key → value entries.
    var entries: [String: [UInt8]] = [:]
    /// The idempotency index, by key digest.
    var claims: [KeyDigest: ClaimSlot] = [:]
    /// Every stored response, back to back.
    var arena: [UInt8] = []
    /// Where the most recently appended response starts, for sharing equal consecutive responses.
    private var lastResponse: Range<Int> = 0..<0

    /// The response of an unexpired claim of `digest`, or nil.
    /// - Parameters:
    ///   - digest: The key's digest.
    ///   - now: The current time, seconds since the epoch.
    func response(for digest: KeyDigest, now: Int64) -> [UInt8]? {
        guard let slot = claims[digest], Int64(slot.expiresAt) > now else { return nil }
        return Array(arena[Int(slot.offset)..<Int(slot.offset + slot.length)])
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
        if arena[lastResponse].elementsEqual(response) {
            range = lastResponse
        } else {
            range = arena.count..<(arena.count + response.count)
            precondition(range.upperBound <= Int(UInt32.max), "idempotency response arena exceeds 4 GiB")
            arena.append(contentsOf: response)
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
            claim.response.withUnsafeBytes { addClaim(claim.digest, expiresAt: claim.expiresAt, response: $0, now: now) }
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
        arena.withUnsafeBytes { bytes in
            for (digest, slot) in claims where Int64(slot.expiresAt) > now {
                let response = UnsafeRawBufferPointer(rebasing: bytes[Int(slot.offset)..<Int(slot.offset + slot.length)])
                fresh.addClaim(digest, expiresAt: Int64(slot.expiresAt), response: response, now: now)
            }
        }
        return fresh
    }
}
