import Foundation

/// One signed-in console session: its id (the cookie's value), its CSRF token and when it ends.
package struct ConsoleSession: Sendable, Hashable {
    /// The session id, 32 random bytes in hex: the value of the `lk_console` cookie.
    package var id: String
    /// The token every form of this session carries (hidden field `csrf`), 32 random bytes in hex.
    package var csrfToken: String
    /// When the session was opened.
    package var openedAt: Date
    /// When it ends, whatever happens meanwhile (an absolute expiry, not a sliding one).
    package var expiresAt: Date

    /// Creates a session value.
    package init(id: String, csrfToken: String, openedAt: Date, expiresAt: Date) {
        self.id = id
        self.csrfToken = csrfToken
        self.openedAt = openedAt
        self.expiresAt = expiresAt
    }

    /// Whether `token` (from a form) is this session's CSRF token, compared in constant time; a missing token is not.
    /// - Parameter token: The form's `csrf` field, or nil.
    /// - Returns: Whether the form may act.
    package func accepts(csrf token: String?) -> Bool {
        guard let token, !token.isEmpty else { return false }
        return ConsoleForm.constantTimeEqual(token, csrfToken)
    }
}

/// The console's open sessions: a value type the gateway keeps behind one lock. Sessions live in memory only, so a
/// restart signs everyone out.
package struct ConsoleSessionTable: Sendable {
    /// How long a session lasts from sign-in. Default 12 hours.
    package var lifetime: Duration
    /// The most sessions open at once; opening one more ends the one that expires first. Default 1,000.
    package var capacity: Int
    private var sessions: [String: ConsoleSession] = [:]

    /// Creates an empty table.
    /// - Parameters:
    ///   - lifetime: How long a session lasts. Default 12 hours.
    ///   - capacity: The most sessions at once. Default 1,000.
    package init(lifetime: Duration = .seconds(12 * 3_600), capacity: Int = 1_000) {
        self.lifetime = lifetime
        self.capacity = max(1, capacity)
    }

    /// How many sessions are open (expired ones included until they are next looked at or pruned).
    package var count: Int { sessions.count }

    /// Opens a session with fresh random tokens.
    /// - Parameters:
    ///   - now: The time of sign-in.
    ///   - random: The source of the tokens (the system's cryptographic generator in production).
    /// - Returns: The new session.
    package mutating func open(now: Date, random: inout some RandomNumberGenerator) -> ConsoleSession {
        prune(now: now)
        if sessions.count >= capacity, let first = sessions.values.min(by: { $0.expiresAt < $1.expiresAt }) {
            sessions[first.id] = nil
        }
        let session = ConsoleSession(
            id: Self.token(&random), csrfToken: Self.token(&random), openedAt: now,
            expiresAt: now.addingTimeInterval(Double(lifetime.components.seconds)))
        sessions[session.id] = session
        return session
    }

    /// The live session with id `id`, or nil when there is none or it expired (an expired one is removed).
    /// - Parameters:
    ///   - id: The cookie's value, or nil when the request had none.
    ///   - now: The time of the request.
    /// - Returns: The session.
    package mutating func session(id: String?, now: Date) -> ConsoleSession? {
        guard let id, let session = sessions[id] else { return nil }
        guard now < session.expiresAt else {
            sessions[id] = nil
            return nil
        }
        return session
    }

    /// Ends the session `id` (sign-out); nothing happens when there is none.
    package mutating func close(id: String) {
        sessions[id] = nil
    }

    /// Removes every expired session.
    package mutating func prune(now: Date) {
        sessions = sessions.filter { now < $0.value.expiresAt }
    }

    private static func token(_ random: inout some RandomNumberGenerator) -> String {
        var out = ""
        for _ in 0..<4 {
            let word = random.next() as UInt64
            let hex = String(word, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }
}

/// Slows down failed sign-ins, per client address: after the n-th failure in a row the client must wait
/// 2^(n-1) seconds (capped at ``maxDelay``) before its next attempt is even checked. A success forgets the client.
package struct SignInThrottle: Sendable {
    /// What the gateway does with a sign-in attempt.
    package enum Decision: Sendable, Equatable {
        /// Check the password.
        case check
        /// Refuse without checking; the client may try again after this many whole seconds.
        case wait(seconds: Int)
    }

    private struct Entry: Sendable {
        var failures: Int
        var notBefore: Date
        var lastFailure: Date
    }

    /// The longest wait. Default 300 seconds.
    package var maxDelay: Duration
    /// The most clients remembered; beyond it the client quiet the longest is forgotten. Default 10,000.
    package var capacity: Int
    /// How long a client's failures are remembered after its last one. Default 1 hour.
    package var memory: Duration
    private var entries: [String: Entry] = [:]

    /// Creates a throttle.
    /// - Parameters:
    ///   - maxDelay: The longest wait. Default 300 seconds.
    ///   - capacity: The most clients remembered. Default 10,000.
    ///   - memory: How long failures are remembered. Default 1 hour.
    package init(maxDelay: Duration = .seconds(300), capacity: Int = 10_000, memory: Duration = .seconds(3_600)) {
        self.maxDelay = maxDelay
        self.capacity = max(1, capacity)
        self.memory = memory
    }

    /// Whether an attempt from `client` at `now` may be checked.
    package mutating func decide(client: String, now: Date) -> Decision {
        guard let entry = entries[client] else { return .check }
        if now.timeIntervalSince(entry.lastFailure) > Double(memory.components.seconds) {
            entries[client] = nil
            return .check
        }
        guard now < entry.notBefore else { return .check }
        return .wait(seconds: max(1, Int(entry.notBefore.timeIntervalSince(now).rounded(.up))))
    }

    /// Records a failed attempt; returns the wait now imposed on `client`, in seconds.
    @discardableResult
    package mutating func recordFailure(client: String, now: Date) -> Int {
        var entry = entries[client] ?? Entry(failures: 0, notBefore: now, lastFailure: now)
        entry.failures += 1
        let delay = min(1 << min(entry.failures - 1, 30), Int(maxDelay.components.seconds))
        entry.notBefore = now.addingTimeInterval(Double(delay))
        entry.lastFailure = now
        if entries[client] == nil, entries.count >= capacity,
            let quietest = entries.min(by: { $0.value.lastFailure < $1.value.lastFailure })
        {
            entries[quietest.key] = nil
        }
        entries[client] = entry
        return delay
    }

    /// Forgets `client`'s failures (after a good password).
    package mutating func recordSuccess(client: String) {
        entries[client] = nil
    }
}
