/// A group of changes committed together, all or nothing, with at most one idempotency claim.
///
/// If the claim's key was already claimed (and has not expired), nothing of the transaction is applied and
/// the commit's outcome is ``CommitOutcome/duplicate(originalResponse:)``.
///
/// ```swift
/// var t = Transaction()
/// t.claim("delivery/guesty/evt_1", response: Array(#"{"status":"accepted"}"#.utf8))
/// t.put(stateBytes, forKey: "reservation/guesty/123")
/// t.put(intentBytes, forKey: "outbox/000042")
/// let outcome = try await store.commit(t)
/// ```
package struct Transaction: Sendable, Equatable {
    /// An idempotency key being claimed, with the response to give any repeat.
    package struct Claim: Sendable, Equatable {
        /// The key, e.g. `delivery/guesty/evt_1`. Only its 128-bit SHA-256 prefix is stored.
        package var key: String
        /// What a repeat of the same request is answered with (opaque bytes, typically an HTTP body).
        package var response: [UInt8]
        /// How long the claim lasts; nil means ``StoreConfiguration/idempotencyRetention``.
        package var retention: Duration?

        /// Creates a claim.
        /// - Parameters:
        ///   - key: The idempotency key.
        ///   - response: The response for repeats.
        ///   - retention: How long to remember the key; default nil (the store's configured retention).
        package init(key: String, response: [UInt8], retention: Duration? = nil) {
            self.key = key
            self.response = response
            self.retention = retention
        }
    }

    /// One change to the key → value map.
    package enum Operation: Sendable, Equatable {
        /// Sets `key` to `value` (opaque bytes).
        case put(key: String, value: [UInt8])
        /// Removes `key`; removing an absent key is not an error.
        case delete(key: String)
    }

    /// The idempotency claim, if any.
    package var claim: Claim?
    /// The changes, applied in order.
    package var operations: [Operation]
    /// For a store shared by several instances (PostgreSQL): the order of the value put under a key, for the keys
    /// whose puts must never replace a later value written by another instance (a reservation's latest booking). A
    /// put whose order does not supersede the stored one's is skipped there. The journal ignores it: one process
    /// decides the order before it commits. Default: none.
    package var orders: [String: EntryOrder] = [:]
    /// For a shared store: keys the instance holding the work lease must look at (a booking taken by another
    /// instance, a Seam event stored for it), queued in the same transaction. The journal ignores them: its one
    /// process hands its own changes over in memory. Default: none.
    package var announcements: [String] = []
    /// Whether the transaction may commit only while this instance holds the work lease (the reconciler's,
    /// notifications' and retention's writes): a shared store refuses it once another instance took the lease over,
    /// so two instances never act on one reservation. The journal ignores it (one process). Default: false.
    package var requiresWorkLease = false

    /// Creates a transaction.
    /// - Parameters:
    ///   - claim: An idempotency claim; default none.
    ///   - operations: Changes in order; default none.
    package init(claim: Claim? = nil, operations: [Operation] = []) {
        self.claim = claim
        self.operations = operations
    }

    /// Claims an idempotency key (replacing any earlier claim in this transaction).
    /// - Parameters:
    ///   - key: The idempotency key.
    ///   - response: The response for repeats.
    ///   - retention: How long to remember the key; default nil (the store's configured retention).
    package mutating func claim(_ key: String, response: [UInt8], retention: Duration? = nil) {
        claim = Claim(key: key, response: response, retention: retention)
    }

    /// Adds a put.
    /// - Parameters:
    ///   - value: Opaque bytes.
    ///   - key: The key, e.g. `reservation/guesty/123`.
    package mutating func put(_ value: [UInt8], forKey key: String) {
        operations.append(.put(key: key, value: value))
    }

    /// Adds a put that a shared store applies only when `order` supersedes the order of the value stored under
    /// `key` (see ``EntryOrder``).
    /// - Parameters:
    ///   - value: Opaque bytes.
    ///   - key: The key, e.g. `booking/guesty/123`.
    ///   - order: The value's order.
    package mutating func put(_ value: [UInt8], forKey key: String, order: EntryOrder) {
        operations.append(.put(key: key, value: value))
        orders[key] = order
    }

    /// Adds a delete that a shared store applies only when the value stored under `key` has `order`'s sequence
    /// (nothing newer was put meanwhile by another instance); the journal deletes.
    /// - Parameters:
    ///   - key: The key to remove.
    ///   - order: The sequence the stored value must have (its time is not compared).
    package mutating func delete(key: String, ifOrderIs order: EntryOrder) {
        operations.append(.delete(key: key))
        orders[key] = order
    }

    /// Tells the instance holding the work lease to look at `key` once this transaction committed (a shared store
    /// only; see ``announcements``).
    /// - Parameter key: The key that changed.
    package mutating func announce(_ key: String) {
        announcements.append(key)
    }

    /// Adds a delete.
    /// - Parameter key: The key to remove.
    package mutating func delete(key: String) {
        operations.append(.delete(key: key))
    }
}

/// What happened to a committed ``Transaction``.
package enum CommitOutcome: Sendable, Equatable {
    /// Durable (written and `fdatasync`ed) and visible to reads.
    case committed
    /// The idempotency key was already claimed; nothing was applied. Answer with `originalResponse`.
    case duplicate(originalResponse: [UInt8])
}

/// A transaction as the journal stores it: the claim reduced to digest, absolute expiry and response.
struct TransactionRecord: Sendable {
    /// A claim as stored.
    struct StoredClaim: Sendable {
        /// The key's digest.
        var digest: KeyDigest
        /// When the claim lapses, in seconds since the Unix epoch.
        var expiresAt: Int64
        /// The response for repeats.
        var response: [UInt8]
    }

    /// The claim, if any.
    var claim: StoredClaim?
    /// The changes, in order.
    var operations: [Transaction.Operation]

    /// Reduces a transaction for storage.
    /// - Parameters:
    ///   - transaction: The caller's transaction.
    ///   - now: The current time, seconds since the epoch.
    ///   - defaultRetention: The retention when the claim names none.
    init(_ transaction: Transaction, now: Int64, defaultRetention: Duration) {
        claim = transaction.claim.map { claim in
            let retention = (claim.retention ?? defaultRetention).components.seconds
            return StoredClaim(digest: KeyDigest(of: claim.key), expiresAt: now + retention, response: claim.response)
        }
        operations = transaction.operations
    }

    /// Creates a record from parts (used when decoding).
    init(claim: StoredClaim?, operations: [Transaction.Operation]) {
        self.claim = claim
        self.operations = operations
    }

    private static let hasClaim: UInt8 = 1
    private static let putTag: UInt8 = 1
    private static let deleteTag: UInt8 = 2

    /// The record's payload: `flags u8 [digest 16, expiresAt i64, response blob] opCount u32
    /// (tag u8, key blob [, value blob])*`.
    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: encodedSize)
        w.u8(claim == nil ? 0 : Self.hasClaim)
        if let claim {
            claim.digest.write(to: &w)
            w.i64(claim.expiresAt)
            w.blob(claim.response)
        }
        w.u32(UInt32(operations.count))
        for op in operations {
            switch op {
            case .put(let key, let value):
                w.u8(Self.putTag)
                w.string(key)
                w.blob(value)
            case .delete(let key):
                w.u8(Self.deleteTag)
                w.string(key)
            }
        }
        assert(w.bytes.count == encodedSize, "encodedSize must match what encoded() writes")
        return w.bytes
    }

    /// The length of ``encoded()``, computed first so that it is written into one allocation (this runs for every
    /// delivery, on the listener thread).
    private var encodedSize: Int {
        var size = 1 + 4
        if let claim { size += KeyDigest.byteCount + 8 + 4 + claim.response.count }
        for op in operations {
            switch op {
            case .put(let key, let value): size += 1 + 4 + key.utf8.count + 4 + value.count
            case .delete(let key): size += 1 + 4 + key.utf8.count
            }
        }
        return size
    }

    /// Decodes a payload written by ``encoded()``.
    /// - Parameter payload: The frame's payload.
    /// - Returns: The record, or nil if the payload is malformed.
    static func decode(_ payload: UnsafeRawBufferPointer) -> TransactionRecord? {
        var r = ByteReader(payload)
        guard let flags = r.u8() else { return nil }
        var claim: StoredClaim?
        if flags & hasClaim != 0 {
            guard let d = r.raw(16), let expiresAt = r.i64(), let response = r.blob() else { return nil }
            claim = StoredClaim(digest: KeyDigest(bytes: d), expiresAt: expiresAt, response: response)
        }
        guard let count = r.u32(), Int(count) <= payload.count else { return nil }
        var operations: [Transaction.Operation] = []
        operations.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let tag = r.u8(), let key = r.string() else { return nil }
            switch tag {
            case putTag:
                guard let value = r.blob() else { return nil }
                operations.append(.put(key: key, value: value))
            case deleteTag:
                operations.append(.delete(key: key))
            default:
                return nil
            }
        }
        guard r.isAtEnd else { return nil }
        return TransactionRecord(claim: claim, operations: operations)
    }
}
