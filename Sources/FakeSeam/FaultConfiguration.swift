import Foundation

/// What can go wrong on purpose, set at start and replaced at run time with `POST /_fake/faults`.
///
/// Fractions are probabilities per API call (0…1), drawn from an RNG seeded with ``seed`` so a run repeats
/// exactly (`latchkey fake-seam` draws a fresh seed per start, printed on its start line, unless the faults file
/// or `--rng-seed` sets one; the same seed makes its access-code ids and PINs). At most one of server error, rate limit, timeout and crash-after-commit hits a call (checked in
/// that order); ``latencyMilliseconds`` adds to every answer. ``scripted`` faults hit the next matching calls
/// first, whatever the fractions say. Control routes (`/_fake/...`) are never faulted.
///
/// JSON (every key optional): `{"seed": 1, "server_error_rate": 0.1, "server_error_status": 503,
/// "rate_limit_rate": 0.05, "retry_after_seconds": 2, "timeout_rate": 0, "timeout_mode": "never",
/// "timeout_delay_ms": 30000, "crash_after_commit_rate": 0, "latency_ms": 0, "routes": ["/access_codes/create_multiple"],
/// "enforce_device_rate_limits": true, "scripted": [{"kind": "crash_after_commit", "route": "/access_codes/delete"}]}`.
package struct FaultConfiguration: Codable, Sendable, Equatable {
    /// The RNG seed; default 1 (the command's own default: a fresh one per start, see above).
    package var seed: UInt64 = 1
    /// Fraction of calls answered with a 5xx before any change; default 0.
    package var serverErrorRate: Double = 0
    /// The status of injected server errors (500…599); default 503.
    package var serverErrorStatus: Int = 503
    /// Fraction of calls answered 429 before any change; default 0.
    package var rateLimitRate: Double = 0
    /// `Retry-After` of injected 429s, in seconds; default 1.
    package var retryAfterSeconds: Int = 1
    /// Fraction of calls never answered (nothing changes); default 0.
    package var timeoutRate: Double = 0
    /// How a timeout behaves; default ``TimeoutMode/never``.
    package var timeoutMode: TimeoutMode = .never
    /// For ``TimeoutMode/delay``: how long before the (real) answer is sent, in milliseconds; default 30000.
    package var timeoutDelayMilliseconds: Int = 30_000
    /// Fraction of calls whose change is made but whose answer is never sent; default 0.
    package var crashAfterCommitRate: Double = 0
    /// Latency added to every answered call, in milliseconds; default 0.
    package var latencyMilliseconds: Int = 0
    /// Routes the fractional faults apply to (e.g. `/access_codes/create_multiple`); empty means every API
    /// route. Default empty.
    package var routes: [String] = []
    /// Whether Seam's per-device limits apply: 10 creates, 10 updates, 20 deletes per device per minute on the
    /// fake's clock (seam-api.md §7). Default `true`.
    package var enforceDeviceRateLimits: Bool = true
    /// One-shot faults, consumed in order by the next calls that match them. Default none.
    package var scripted: [ScriptedFault] = []

    /// Creates a configuration with no faults.
    package init() {}

    /// How an injected timeout behaves.
    package enum TimeoutMode: String, Codable, Sendable {
        /// The call is never answered and nothing changes; the listener cuts the connection at its deadline.
        case never
        /// The call is carried out and answered after ``FaultConfiguration/timeoutDelayMilliseconds``.
        case delay
    }

    /// The kinds of fault.
    package enum Kind: String, Codable, Sendable, CaseIterable {
        /// A 5xx answer, nothing changed.
        case serverError = "server_error"
        /// A 429 with `Retry-After`, nothing changed.
        case rateLimit = "rate_limit"
        /// No answer (or a late one, per ``TimeoutMode``).
        case timeout
        /// The change is made, the answer never sent.
        case crashAfterCommit = "crash_after_commit"
        /// No fault: the call goes through untouched. Scripted before another fault of the same route, it makes
        /// that fault hit a later call (e.g. the second delete of a cancellation).
        case pass
    }

    /// A fault for the next call that matches.
    package struct ScriptedFault: Codable, Sendable, Equatable {
        /// What happens.
        package var kind: Kind
        /// The route it waits for, e.g. `/access_codes/create_multiple`; `nil` matches any API route.
        package var route: String?
        /// For ``Kind/serverError``: the status; default ``FaultConfiguration/serverErrorStatus``.
        package var status: Int?

        /// Creates a scripted fault.
        package init(kind: Kind, route: String? = nil, status: Int? = nil) {
            self.kind = kind
            self.route = route
            self.status = status
        }
    }

    private enum CodingKeys: String, CodingKey {
        case seed
        case serverErrorRate = "server_error_rate"
        case serverErrorStatus = "server_error_status"
        case rateLimitRate = "rate_limit_rate"
        case retryAfterSeconds = "retry_after_seconds"
        case timeoutRate = "timeout_rate"
        case timeoutMode = "timeout_mode"
        case timeoutDelayMilliseconds = "timeout_delay_ms"
        case crashAfterCommitRate = "crash_after_commit_rate"
        case latencyMilliseconds = "latency_ms"
        case routes
        case enforceDeviceRateLimits = "enforce_device_rate_limits"
        case scripted
    }

    /// Decodes a configuration; missing keys keep their defaults.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FaultConfiguration()
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        serverErrorRate = try c.decodeIfPresent(Double.self, forKey: .serverErrorRate) ?? d.serverErrorRate
        serverErrorStatus = try c.decodeIfPresent(Int.self, forKey: .serverErrorStatus) ?? d.serverErrorStatus
        rateLimitRate = try c.decodeIfPresent(Double.self, forKey: .rateLimitRate) ?? d.rateLimitRate
        retryAfterSeconds = try c.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? d.retryAfterSeconds
        timeoutRate = try c.decodeIfPresent(Double.self, forKey: .timeoutRate) ?? d.timeoutRate
        timeoutMode = try c.decodeIfPresent(TimeoutMode.self, forKey: .timeoutMode) ?? d.timeoutMode
        timeoutDelayMilliseconds =
            try c.decodeIfPresent(Int.self, forKey: .timeoutDelayMilliseconds) ?? d.timeoutDelayMilliseconds
        crashAfterCommitRate =
            try c.decodeIfPresent(Double.self, forKey: .crashAfterCommitRate) ?? d.crashAfterCommitRate
        latencyMilliseconds = try c.decodeIfPresent(Int.self, forKey: .latencyMilliseconds) ?? d.latencyMilliseconds
        routes = try c.decodeIfPresent([String].self, forKey: .routes) ?? d.routes
        enforceDeviceRateLimits =
            try c.decodeIfPresent(Bool.self, forKey: .enforceDeviceRateLimits) ?? d.enforceDeviceRateLimits
        scripted = try c.decodeIfPresent([ScriptedFault].self, forKey: .scripted) ?? d.scripted
    }

    /// Checks ranges.
    /// - Throws: ``SeamAPIError`` `invalid_input` naming each bad field.
    package func validate() throws(SeamAPIError) {
        var errors: [String: [String]] = [:]
        let rates = [
            ("server_error_rate", serverErrorRate), ("rate_limit_rate", rateLimitRate), ("timeout_rate", timeoutRate),
            ("crash_after_commit_rate", crashAfterCommitRate),
        ]
        for (name, rate) in rates where !(0...1).contains(rate) { errors[name] = ["must be between 0 and 1"] }
        if !(500...599).contains(serverErrorStatus) { errors["server_error_status"] = ["must be 500…599"] }
        for (index, fault) in scripted.enumerated() {
            if let status = fault.status, !(500...599).contains(status) {
                errors["scripted.\(index).status"] = ["must be 500…599"]
            }
        }
        if retryAfterSeconds < 0 { errors["retry_after_seconds"] = ["must not be negative"] }
        if latencyMilliseconds < 0 { errors["latency_ms"] = ["must not be negative"] }
        if timeoutDelayMilliseconds < 0 { errors["timeout_delay_ms"] = ["must not be negative"] }
        if !errors.isEmpty { throw SeamAPIError.invalidInput(errors) }
    }
}

/// A small, fast, seedable RNG (SplitMix64), so injected faults, generated PINs and replay load repeat run to run
/// on any machine.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from `seed`.
    package init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform number in [0, 1), from the top 53 bits of ``next()``.
    package mutating func nextUnit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }

    /// `true` with probability `p`.
    package mutating func chance(_ p: Double) -> Bool {
        p > 0 && Double.random(in: 0..<1, using: &self) < p
    }
}

extension FaultConfiguration {
    /// The configuration as its JSON form (as `POST /_fake/faults` takes it).
    var json: JSONValue {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(self), let value = try? JSONValue.parse([UInt8](data)) else { return nil }
        return value
    }
}
