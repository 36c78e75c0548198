import Foundation

/// How a fake Seam starts.
public struct FakeSeamConfiguration: Sendable {
    /// Bearer API keys the fake accepts; anything else gets 401 `unauthorized`. Default `["seam_test_key"]`.
    public var apiKeys: Set<String> = ["seam_test_key"]
    /// The workspace and locks; default ``FakeSeamSeed/defaultSeed``.
    public var seed: FakeSeamSeed = .defaultSeed
    /// Injected faults; default none (Seam's per-device rate limits on).
    public var faults = FaultConfiguration()
    /// Where the time comes from; default ``FakeClock/system``.
    public var clock: FakeClock = .system
    /// How long locks take; default 5 s to program, 5 s to remove (fake-clock seconds).
    public var timing = FakeSeamTiming()
    /// Where to send Seam events, signed Svix-style; default none.
    public var webhook: WebhookTarget?

    /// Creates a configuration with the defaults above.
    public init() {}

    /// A configuration for tests: a manual clock at `start` and everything else as given.
    public static func testing(
        start: Date = Date(timeIntervalSince1970: 1_800_000_000),
        seed: FakeSeamSeed = .defaultSeed,
        faults: FaultConfiguration = FaultConfiguration(),
        webhook: WebhookTarget? = nil
    ) -> FakeSeamConfiguration {
        var configuration = FakeSeamConfiguration()
        configuration.clock = .manual(start: start)
        configuration.seed = seed
        configuration.faults = faults
        configuration.webhook = webhook
        return configuration
    }
}

/// A webhook endpoint Seam events are sent to.
public struct WebhookTarget: Sendable {
    /// The URL events are POSTed to.
    public var url: URL
    /// The signing secret, `whsec_` followed by base64 (Svix convention).
    public var secret: String
    /// Waits before each retry of a failed delivery, in seconds; default 0.5, 1, 2, 5, 10 (five retries).
    public var retryDelays: [TimeInterval]
    /// Per-attempt timeout, in seconds; default 10.
    public var timeout: TimeInterval

    /// Creates a target.
    public init(url: URL, secret: String, retryDelays: [TimeInterval] = [0.5, 1, 2, 5, 10], timeout: TimeInterval = 10) {
        self.url = url
        self.secret = secret
        self.retryDelays = retryDelays
        self.timeout = timeout
    }
}
