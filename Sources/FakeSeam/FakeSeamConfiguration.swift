import Foundation

/// How a fake Seam starts.
package struct FakeSeamConfiguration: Sendable {
    /// Bearer API keys the fake accepts; anything else gets 401 `unauthorized`. Default `["seam_test_key"]`.
    package var apiKeys: Set<String> = ["seam_test_key"]
    /// The workspace and locks; default ``FakeSeamSeed/defaultSeed``.
    package var seed: FakeSeamSeed = .defaultSeed
    /// Injected faults; default none (Seam's per-device rate limits on).
    package var faults = FaultConfiguration()
    /// Where the time comes from; default ``FakeClock/system``.
    package var clock: FakeClock = .system
    /// How long locks take; default 5 s to program, 5 s to remove (fake-clock seconds).
    package var timing = FakeSeamTiming()
    /// Where to send Seam events, signed Svix-style; default none.
    package var webhook: WebhookTarget?

    /// Creates a configuration with the defaults above.
    package init() {}

    /// A configuration for tests: a manual clock at `start` and everything else as given.
    package static func testing(
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
package struct WebhookTarget: Sendable {
    /// The URL events are POSTed to.
    package var url: URL
    /// The signing secret, `whsec_` followed by base64 (Svix convention).
    package var secret: String
    /// Waits before each retry of a failed delivery, in seconds; default 0.5, 1, 2, 5, 10 (five retries).
    package var retryDelays: [TimeInterval]
    /// Per-attempt timeout, in seconds; default 10.
    package var timeout: TimeInterval

    /// Creates a target.
    package init(
        url: URL, secret: String, retryDelays: [TimeInterval] = [0.5, 1, 2, 5, 10], timeout: TimeInterval = 10
    ) {
        self.url = url
        self.secret = secret
        self.retryDelays = retryDelays
        self.timeout = timeout
    }
}

extension FakeSeamConfiguration {
    /// Builds a configuration from `latchkey fake-seam`'s options, so the command stays thin.
    /// - Parameters:
    ///   - seedFile: A seed JSON file (see ``FakeDevice``); `nil` for ``FakeSeamSeed/defaultSeed``.
    ///   - faultsFile: A ``FaultConfiguration`` JSON file; `nil` for no faults.
    ///   - apiKeys: Accepted Bearer keys; empty keeps the default `seam_test_key`.
    ///   - webhookURL: Where to send events; `nil` sends none.
    ///   - webhookSecret: The `whsec_` secret; required with `webhookURL`.
    ///   - manualClockStart: Start a manual clock here (moved only by `/_fake/clock`); `nil` follows the wall clock.
    /// - Throws: ``FakeSeamConfigurationError`` saying which option is wrong and how to fix it.
    package static func fromOptions(
        seedFile: String? = nil, faultsFile: String? = nil, apiKeys: [String] = [], webhookURL: String? = nil,
        webhookSecret: String? = nil, manualClockStart: Date? = nil
    ) throws(FakeSeamConfigurationError) -> FakeSeamConfiguration {
        var configuration = FakeSeamConfiguration()
        if let seedFile {
            do { configuration.seed = try FakeSeamSeed.load(contentsOf: seedFile) } catch {
                throw FakeSeamConfigurationError(option: "--seed", reason: error.description)
            }
        }
        if let faultsFile {
            guard let data = FileManager.default.contents(atPath: faultsFile) else {
                throw FakeSeamConfigurationError(
                    option: "--faults", reason: "\(faultsFile) cannot be read; check the path")
            }
            do {
                configuration.faults = try JSONDecoder().decode(FaultConfiguration.self, from: data)
                try configuration.faults.validate()
            } catch {
                throw FakeSeamConfigurationError(
                    option: "--faults", reason: "\(faultsFile) is not a valid fault configuration: \(error)")
            }
        }
        if !apiKeys.isEmpty { configuration.apiKeys = Set(apiKeys) }
        switch (webhookURL, webhookSecret) {
        case (nil, nil): break
        case (let url?, let secret?):
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
                throw FakeSeamConfigurationError(option: "--webhook-url", reason: "\(url) is not an http(s) URL")
            }
            guard secret.hasPrefix("whsec_") else {
                throw FakeSeamConfigurationError(
                    option: "--webhook-secret", reason: "the secret must start with whsec_ followed by base64")
            }
            configuration.webhook = WebhookTarget(url: parsed, secret: secret)
        default:
            throw FakeSeamConfigurationError(
                option: webhookURL == nil ? "--webhook-url" : "--webhook-secret",
                reason: "--webhook-url and --webhook-secret go together; give both or neither")
        }
        if let manualClockStart { configuration.clock = .manual(start: manualClockStart) }
        return configuration
    }
}

/// A `latchkey fake-seam` option that cannot be used.
package struct FakeSeamConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The option, e.g. `--seed`.
    package var option: String
    /// What was wrong and what to do.
    package var reason: String
    /// A message for a person.
    package var description: String { "\(option): \(reason)" }
}
