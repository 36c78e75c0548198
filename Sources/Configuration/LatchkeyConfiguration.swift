import Bookings
import Foundation

/// Everything `latchkey serve` is configured with, read from one YAML file edited by hand.
///
/// Secrets are never written in this file in production: each is a ``SecretReference`` to an environment
/// variable or a file (systemd credentials). See `deploy/latchkey.example.yaml` for every key.
package struct LatchkeyConfiguration: Sendable {
    /// The listener. Defaults: see ``ServerSettings``.
    package var server: ServerSettings
    /// The data directory holding the journal and snapshot. Default `./latchkey-data`.
    package var dataDirectory: String
    /// Log level: `trace`, `debug`, `info`, `notice`, `warning`, `error`. Default `info` (env `LOG_LEVEL` overrides).
    package var logLevel: String
    /// Log format: `auto` (human on a terminal, JSON otherwise), `json`, `human`. Default `auto`.
    package var logFormat: String
    /// How long idempotency keys are kept, in days. Default 7.
    package var idempotencyRetentionDays: Int
    /// How long Latchkey keeps a reservation after its stay's access window ended (check-out plus buffer), in
    /// days: then its booking (guest name and phone included) and the record of its codes are forgotten, by a
    /// sweep once an hour. Reservations with work in flight or a dead letter are kept. Default 30.
    package var historyRetentionDays: Int
    /// How Latchkey reaches Seam. Defaults: see ``SeamSettings``.
    package var seam: SeamSettings
    /// The admin API's bearer token; the admin API is off when it resolves to nothing.
    /// Default: environment variable `LATCHKEY_ADMIN_TOKEN`.
    package var adminToken: SecretReference?
    /// The PMS sources that may post webhooks, by name (the `{source}` of `/webhooks/{source}`). No default.
    package var sources: [SourceSettings]
    /// The properties and their locks. No default.
    package var properties: [Property]
    /// The operator console at `/console`. Defaults: see ``ConsoleSettings``.
    package var console = ConsoleSettings()
    /// Where `access.*` events go (the PIN's way to the guest message), each signed per Standard Webhooks.
    /// Default none: no events are derived or stored.
    package var notifications: [NotificationSettings] = []
    /// The pre-arrival checks and the periodic drift reconciliation (`assurance:`). Defaults: see
    /// ``AssuranceSettings``.
    package var assurance = AssuranceSettings()
    /// Where deliveries, bookings and records are kept. Default: the flat-file journal in ``dataDirectory``.
    package var store = StoreSettings()

    /// Creates a configuration; every parameter but sources and properties has the documented default.
    package init(
        server: ServerSettings = ServerSettings(),
        dataDirectory: String = "./latchkey-data",
        logLevel: String = "info",
        logFormat: String = "auto",
        idempotencyRetentionDays: Int = 7,
        historyRetentionDays: Int = 30,
        seam: SeamSettings = SeamSettings(),
        adminToken: SecretReference? = .environment("LATCHKEY_ADMIN_TOKEN"),
        sources: [SourceSettings],
        properties: [Property]
    ) {
        self.server = server
        self.dataDirectory = dataDirectory
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.idempotencyRetentionDays = idempotencyRetentionDays
        self.historyRetentionDays = historyRetentionDays
        self.seam = seam
        self.adminToken = adminToken
        self.sources = sources
        self.properties = properties
    }

    /// The source called `name`, or `nil`.
    package func source(named name: String) -> SourceSettings? {
        sources.first { $0.name == name }
    }
}

/// The listener's address, limits and deadlines.
package struct ServerSettings: Sendable, Equatable {
    /// The address to listen on. Default `127.0.0.1` (nginx in front).
    package var host: String = "127.0.0.1"
    /// The TCP port; 0 picks a free one. Default 8080.
    package var port: Int = 8080
    /// Peers whose `X-Forwarded-For`/`X-Real-IP` are believed, as addresses or CIDR ranges.
    /// Default `127.0.0.0/8` and `::1`.
    package var trustedProxies: [String] = ["127.0.0.0/8", "::1"]
    /// The largest request body, in bytes. Default 1,048,576 (1 MiB); keep nginx's `client_max_body_size` equal.
    package var maxBodyBytes: Int = 1_048_576
    /// The largest request head (request line and fields), in bytes. Default 16,384.
    package var maxHeadBytes: Int = 16_384
    /// The most connections open at once. Default 4,096.
    package var maxConnections: Int = 4_096
    /// Listener threads (event loops), each with its own socket on the port (`SO_REUSEPORT`), taking a share of new
    /// connections and running their handlers; more than one pays off when the listener thread is the bottleneck and
    /// cores are free (2 on a 2-core machine measured +3 % signed deliveries/s). With more than one, a second
    /// Latchkey started by mistake on the same port with more than one too would share the port instead of failing
    /// to bind: run one per port. Default 1.
    package var eventLoops: Int = 1
    /// Time allowed to receive a request head, in seconds. Default 10.
    package var headTimeoutSeconds: Int = 10
    /// Longest pause while receiving a body, in seconds. Default 10.
    package var bodyIdleTimeoutSeconds: Int = 10
    /// How long an idle keep-alive connection stays open, in seconds. Default 60.
    package var keepAliveTimeoutSeconds: Int = 60
    /// How long shutdown waits for in-flight requests, in seconds. Default 20.
    package var drainTimeoutSeconds: Int = 20

    /// Creates settings with the documented defaults.
    package init() {}
}

/// The operator console (`/console`): who may sign in and for how long.
package struct ConsoleSettings: Sendable, Equatable {
    /// The console password. Default: environment variable `LATCHKEY_CONSOLE_PASSWORD`; when it resolves to
    /// nothing, the admin token (`admin.token`) is the console password; with neither, the console is off.
    package var password: SecretReference? = .environment("LATCHKEY_CONSOLE_PASSWORD")
    /// How long a console session lasts from sign-in, in hours (1…168). Default 12.
    package var sessionHours: Int = 12

    /// Creates settings with the documented defaults.
    package init() {}
}

/// How Latchkey reaches Seam.
package struct SeamSettings: Sendable {
    /// Seam's base URL. Default `https://connect.getseam.com`; env `SEAM_ENDPOINT` overrides.
    package var endpoint: String? = nil
    /// The API key. Default: environment variable `SEAM_API_KEY`. With no key, `serve` uses the built-in fake Seam.
    package var apiKey: SecretReference? = .environment("SEAM_API_KEY")
    /// The workspace id sent as `seam-workspace` with a personal access token. Default none.
    package var workspaceID: String? = nil
    /// The Svix secret (`whsec_…`) of Seam's webhooks to `POST /seam/webhooks`. Default env `SEAM_WEBHOOK_SECRET`.
    package var webhookSecret: SecretReference? = .environment("SEAM_WEBHOOK_SECRET")
    /// Reservations converged in parallel. Default 4.
    package var maxParallelReservations: Int = 4
    /// Attempts per Seam call before it becomes a dead letter. Default 8.
    package var maxAttempts: Int = 8
    /// Per-request timeout, in seconds. Default 15.
    package var requestTimeoutSeconds: Int = 15

    /// Creates settings with the documented defaults.
    package init() {}
}

/// One PMS source: which adapter decodes its bodies and how its deliveries are authenticated.
package struct SourceSettings: Sendable {
    /// The name in the URL, `/webhooks/{name}`. No default.
    package var name: String
    /// The adapter: `native`, `guesty`, `hostaway`, `hospitable`, `lodgify`. Default: the source's name.
    package var adapter: String
    /// How deliveries are authenticated. No default.
    package var auth: AuthSettings

    /// Creates a source.
    package init(name: String, adapter: String, auth: AuthSettings) {
        self.name = name
        self.adapter = adapter
        self.auth = auth
    }
}

/// A source's authentication scheme and its secrets (several for rotation: any one matching is enough).
package enum AuthSettings: Sendable {
    /// Standard Webhooks / Svix: `webhook-*` or `svix-*` headers, `whsec_` secrets.
    /// `toleranceSeconds` defaults to 300.
    case standardWebhooks(secrets: [SecretReference], toleranceSeconds: Int)
    /// HMAC-SHA256 of the body in a header: `header` (e.g. `Signature`), a `prefix` (e.g. `sha256=`),
    /// `encoding` `hex` or `base64`.
    case bodyHMAC(header: String, prefix: String, encoding: String, secrets: [SecretReference])
    /// HTTP Basic with a fixed user name; the secrets are accepted passwords.
    case basic(username: String, secrets: [SecretReference])
    /// A secret token as the last path segment: `/webhooks/{source}/{token}`.
    case pathToken(secrets: [SecretReference])

    /// The secrets of the scheme, in order.
    package var secrets: [SecretReference] {
        switch self {
        case .standardWebhooks(let s, _), .bodyHMAC(_, _, _, let s), .basic(_, let s), .pathToken(let s): s
        }
    }
}

/// Where a secret comes from. The value itself is read at start and never logged.
package enum SecretReference: Sendable, Equatable, CustomStringConvertible {
    /// An environment variable's value.
    case environment(String)
    /// A file's contents without a trailing newline (e.g. a systemd credential).
    case file(String)
    /// A literal in the configuration: only for sandboxes and tests; `check-config` warns about it.
    case inline(String)

    /// Resolves the secret.
    /// - Parameter environment: The process environment (injectable for tests).
    /// - Returns: The value, or `nil` when an environment variable is unset or empty.
    /// - Throws: ``ConfigurationError`` when a file cannot be read.
    package func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError)
        -> String?
    {
        switch self {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(
                    key: "", line: nil,
                    message: "cannot read secret file \(path); check it exists and is readable by this user")
            }
            var text = String(decoding: data, as: UTF8.self)
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            return text
        case .inline(let value):
            return value
        }
    }

    /// Where the secret comes from, never its value.
    package var description: String {
        switch self {
        case .environment(let name): "env \(name)"
        case .file(let path): "file \(path)"
        case .inline: "inline value"
        }
    }
}

/// `assurance:`: the pre-arrival checks of every reservation's codes and the periodic full reconciliation.
package struct AssuranceSettings: Sendable, Equatable {
    /// `check_lead_hours`: before each arrival (the moment the codes start working: check-in minus the early
    /// buffer), every lock's code is read back from Seam and checked this many hours ahead, once per point.
    /// Default `[48, 2]`; an empty list turns the checks off.
    package var checkLeadHours: [Int] = [48, 2]
    /// `backup_code_lead_minutes`: from this many minutes before arrival, a lock still failing gets a code from its
    /// backup pool (a check runs at this point too). Default 60; 0 pulls none.
    package var backupCodeLeadMinutes: Int = 60
    /// `recheck_minutes`: how long after a check that found problems (and repaired them) it runs again, in
    /// minutes. Default 10.
    package var recheckMinutes: Int = 10
    /// `check_every_seconds`: how often Latchkey looks for reservations whose check is due, in seconds. Default 60.
    package var checkEverySeconds: Int = 60
    /// `drift_interval_seconds`: how often every managed lock's codes are listed and compared with the
    /// reservations (missing or altered codes put back, codes carrying Latchkey's marker that no reservation
    /// should have deleted, codes without it never touched), in seconds. Default 21,600 (6 h); 0 turns it off.
    package var driftIntervalSeconds: Int = 21_600

    /// Creates settings with the documented defaults.
    package init() {}
}
