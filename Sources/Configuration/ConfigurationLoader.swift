import Bookings
import Foundation
import Yams

/// Reads a ``LatchkeyConfiguration`` from YAML and checks it, naming the key and line of each problem.
package enum ConfigurationLoader {
    /// The adapters a source may name.
    package static let knownAdapters: Set<String> = ["native", "guesty", "hostaway", "hospitable", "lodgify"]

    /// Reads and checks the file at `path`.
    /// - Throws: ``ConfigurationError`` for the first problem found (a missing file, bad YAML, a bad key or value).
    package static func load(path: String) throws(ConfigurationError) -> LatchkeyConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "", line: nil, message: "cannot read \(path); check the --config path")
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self))
    }

    /// Parses and checks YAML text.
    /// - Throws: ``ConfigurationError`` for the first problem found.
    package static func parse(yaml: String) throws(ConfigurationError) -> LatchkeyConfiguration {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigurationError(
                    key: "", line: nil, message: "the configuration is empty; see deploy/latchkey.example.yaml")
            }
            root = node
        } catch let error as ConfigurationError {
            throw error
        } catch let error as YamlError {
            throw ConfigurationError(key: "", line: yamlErrorLine(error), message: "not valid YAML: \(error)")
        } catch {
            throw ConfigurationError(key: "", line: nil, message: "not valid YAML: \(error)")
        }
        let top = ConfigNode(node: root, path: "")
        try top.rejectUnknownKeys([
            "server", "data_dir", "log_level", "log_format", "idempotency_retention_days", "history_retention_days",
            "seam", "admin", "sources", "properties",
        ])

        var server = ServerSettings()
        if let node = top.child("server") { server = try parseServer(node) }
        var seam = SeamSettings()
        if let node = top.child("seam") { seam = try parseSeam(node) }

        var adminToken: SecretReference? = .environment("LATCHKEY_ADMIN_TOKEN")
        if let admin = top.child("admin") {
            try admin.rejectUnknownKeys(["token"])
            if let token = admin.child("token") { adminToken = token.isNull ? nil : try parseSecret(token) }
        }

        guard let sourcesNode = top.child("sources") else {
            throw ConfigurationError(
                key: "sources", line: nil, message: "required: name at least one PMS source (e.g. `native:`)")
        }
        var sources: [SourceSettings] = []
        for (name, node) in try sourcesNode.mappingEntries() {
            sources.append(try parseSource(name: name, node))
        }
        guard let propertiesNode = top.child("properties") else {
            throw ConfigurationError(
                key: "properties", line: nil, message: "required: list at least one property with its locks")
        }
        var properties: [Property] = []
        var propertyLines: [Int?] = []
        for node in try propertiesNode.array() {
            properties.append(try parseProperty(node, sourceNames: Set(sources.map(\.name))))
            propertyLines.append(node.line)
        }
        try checkUniqueness(properties, lines: propertyLines)

        let logLevel =
            try top.child("log_level").map { node throws(ConfigurationError) in
                let value = try node.string()
                guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(value) else {
                    throw node.error("unknown level \"\(value)\"; use trace, debug, info, notice, warning or error")
                }
                return value
            } ?? "info"
        let logFormat =
            try top.child("log_format").map { node throws(ConfigurationError) in
                let value = try node.string()
                guard ["auto", "json", "human"].contains(value) else { throw node.error("use auto, json or human") }
                return value
            } ?? "auto"

        return LatchkeyConfiguration(
            server: server,
            dataDirectory: try top.child("data_dir")?.string() ?? "./latchkey-data",
            logLevel: logLevel,
            logFormat: logFormat,
            idempotencyRetentionDays: try top.child("idempotency_retention_days")?.int(in: 1...365) ?? 7,
            historyRetentionDays: try top.child("history_retention_days")?.int(in: 1...3650) ?? 30,
            seam: seam,
            adminToken: adminToken,
            sources: sources,
            properties: properties
        )
    }

    private static func yamlErrorLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    private static func parseServer(_ node: ConfigNode) throws(ConfigurationError) -> ServerSettings {
        try node.rejectUnknownKeys([
            "bind", "trusted_proxies", "max_body_bytes", "max_head_bytes", "max_connections", "head_timeout_seconds",
            "body_idle_timeout_seconds", "keep_alive_timeout_seconds", "drain_timeout_seconds", "event_loops",
        ])
        var server = ServerSettings()
        if let bind = node.child("bind") {
            let text = try bind.string()
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                (0...65535).contains(port)
            else {
                throw bind.error("expected host:port, e.g. 127.0.0.1:8080")
            }
            server.host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            server.port = port
        }
        if let n = node.child("trusted_proxies") { server.trustedProxies = try n.stringArray() }
        if let n = node.child("max_body_bytes") { server.maxBodyBytes = try n.int(in: 1_024...64 << 20) }
        if let n = node.child("max_head_bytes") { server.maxHeadBytes = try n.int(in: 1_024...1 << 20) }
        if let n = node.child("max_connections") { server.maxConnections = try n.int(in: 16...1_000_000) }
        if let n = node.child("event_loops") { server.eventLoops = try n.int(in: 1...64) }
        if let n = node.child("head_timeout_seconds") { server.headTimeoutSeconds = try n.int(in: 1...3_600) }
        if let n = node.child("body_idle_timeout_seconds") { server.bodyIdleTimeoutSeconds = try n.int(in: 1...3_600) }
        if let n = node.child("keep_alive_timeout_seconds") {
            server.keepAliveTimeoutSeconds = try n.int(in: 1...3_600)
        }
        if let n = node.child("drain_timeout_seconds") { server.drainTimeoutSeconds = try n.int(in: 0...3_600) }
        return server
    }

    private static func parseSeam(_ node: ConfigNode) throws(ConfigurationError) -> SeamSettings {
        try node.rejectUnknownKeys([
            "endpoint", "api_key", "workspace_id", "webhook_secret", "max_parallel_reservations", "max_attempts",
            "request_timeout_seconds",
        ])
        var seam = SeamSettings()
        if let n = node.child("endpoint") {
            let text = try n.string()
            guard let url = URL(string: text), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw n.error("expected an http(s) URL such as https://connect.getseam.com")
            }
            seam.endpoint = text
        }
        if let n = node.child("api_key") { seam.apiKey = n.isNull ? nil : try parseSecret(n) }
        if let n = node.child("workspace_id") { seam.workspaceID = try n.string() }
        if let n = node.child("webhook_secret") { seam.webhookSecret = n.isNull ? nil : try parseSecret(n) }
        if let n = node.child("max_parallel_reservations") { seam.maxParallelReservations = try n.int(in: 1...64) }
        if let n = node.child("max_attempts") { seam.maxAttempts = try n.int(in: 1...100) }
        if let n = node.child("request_timeout_seconds") { seam.requestTimeoutSeconds = try n.int(in: 1...300) }
        return seam
    }

    /// `{env: NAME}`, `{file: PATH}` or `{value: LITERAL}`.
    private static func parseSecret(_ node: ConfigNode) throws(ConfigurationError) -> SecretReference {
        guard node.node.mapping != nil else {
            throw node.error("a secret is a mapping: {env: NAME}, {file: PATH} or (sandbox only) {value: TEXT}")
        }
        try node.rejectUnknownKeys(["env", "file", "value"])
        if let env = node.child("env") { return .environment(try env.string()) }
        if let file = node.child("file") { return .file(try file.string()) }
        if let value = node.child("value") { return .inline(try value.string()) }
        throw node.error("a secret needs one of env, file or value")
    }

    private static func parseSecrets(_ node: ConfigNode?, owner: ConfigNode) throws(ConfigurationError)
        -> [SecretReference]
    {
        guard let node else { throw owner.error("missing `secrets:`; list one or more {env: NAME} or {file: PATH}") }
        var secrets: [SecretReference] = []
        for item in try node.array() { secrets.append(try parseSecret(item)) }
        guard !secrets.isEmpty else { throw node.error("list at least one secret") }
        return secrets
    }

    private static func parseSource(name: String, _ node: ConfigNode) throws(ConfigurationError) -> SourceSettings {
        guard
            name.utf8.allSatisfy({
                $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (48...57).contains($0) || (97...122).contains($0)
            }),
            !name.isEmpty
        else {
            throw node.error("a source name is used in the URL; use lower-case letters, digits, - and _")
        }
        try node.rejectUnknownKeys([
            "adapter", "scheme", "secrets", "header", "prefix", "encoding", "username", "tolerance_seconds",
        ])
        let adapter = try node.child("adapter")?.string() ?? name
        guard knownAdapters.contains(adapter) else {
            throw (node.child("adapter") ?? node).error(
                "unknown adapter \"\(adapter)\"; use one of \(knownAdapters.sorted().joined(separator: ", "))")
        }
        guard let schemeNode = node.child("scheme") else {
            throw node.error("missing `scheme:`; use standard_webhooks, hmac_sha256, basic or path_token")
        }
        let secrets = try parseSecrets(node.child("secrets"), owner: node)
        let auth: AuthSettings
        switch try schemeNode.string() {
        case "standard_webhooks", "svix":
            auth = .standardWebhooks(
                secrets: secrets, toleranceSeconds: try node.child("tolerance_seconds")?.int(in: 1...3_600) ?? 300)
        case "hmac_sha256":
            guard let header = try node.child("header")?.string() else {
                throw node.error(
                    "hmac_sha256 needs `header:` (e.g. Signature for Hospitable, ms-signature for Lodgify)")
            }
            let encoding = try node.child("encoding")?.string() ?? "hex"
            guard encoding == "hex" || encoding == "base64" else {
                throw node.child("encoding")!.error("use hex or base64")
            }
            auth = .bodyHMAC(
                header: header, prefix: try node.child("prefix")?.string() ?? "", encoding: encoding, secrets: secrets)
        case "basic":
            guard let username = try node.child("username")?.string() else {
                throw node.error("basic needs `username:`")
            }
            auth = .basic(username: username, secrets: secrets)
        case "path_token":
            auth = .pathToken(secrets: secrets)
        case let other:
            throw schemeNode.error(
                "unknown scheme \"\(other)\"; use standard_webhooks, hmac_sha256, basic or path_token")
        }
        return SourceSettings(name: name, adapter: adapter, auth: auth)
    }

    private static func parseTime(_ node: ConfigNode) throws(ConfigurationError) -> LocalTime {
        let text = try node.string()
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m)
        else {
            throw node.error("expected a time as HH:MM, e.g. 15:00")
        }
        return LocalTime(hour: h, minute: m)
    }

    private static func parseProperty(_ node: ConfigNode, sourceNames: Set<String>) throws(ConfigurationError)
        -> Property
    {
        try node.rejectUnknownKeys([
            "id", "name", "time_zone", "listings", "device_ids", "check_in_time", "check_out_time",
            "buffer_before_check_in_minutes", "buffer_after_check_out_minutes", "preferred_code_length",
            "behavior_when_code_cannot_be_shared", "code_name",
        ])
        guard let nameNode = node.child("name") else { throw node.error("missing `name:`") }
        let name = try nameNode.string()
        let id = try node.child("id")?.string() ?? slug(name)
        guard let zoneNode = node.child("time_zone") else {
            throw node.error("missing `time_zone:` (an IANA name such as Europe/Berlin)")
        }
        let zone = try zoneNode.string()
        guard TimeZone(identifier: zone) != nil else {
            throw zoneNode.error(
                "unknown time zone \"\(zone)\"; use an IANA name such as Europe/Berlin or America/New_York")
        }
        guard let listingsNode = node.child("listings") else {
            throw node.error("missing `listings:`; map each source to its listing ids, e.g. {guesty: [\"64f…\"]}")
        }
        var listings: [String: [String]] = [:]
        for (source, ids) in try listingsNode.mappingEntries() {
            guard sourceNames.contains(source) else {
                throw ids.error("no source named \"\(source)\" under `sources:`; add it there or fix the name")
            }
            listings[source] = try ids.stringArray()
        }
        guard let devicesNode = node.child("device_ids") else {
            throw node.error("missing `device_ids:`; list the Seam device ids of the door locks")
        }
        let devices = try devicesNode.stringArray()
        guard !devices.isEmpty else {
            throw devicesNode.error("list at least one Seam device id; a property without locks cannot get codes")
        }
        guard Set(devices).count == devices.count else { throw devicesNode.error("a device id is listed twice") }
        var property = Property(id: id, name: name, listings: listings, deviceIDs: devices, timeZone: zone)
        if let n = node.child("check_in_time") { property.defaultCheckIn = try parseTime(n) }
        if let n = node.child("check_out_time") { property.defaultCheckOut = try parseTime(n) }
        if let n = node.child("buffer_before_check_in_minutes") {
            property.bufferBeforeCheckInMinutes = try n.int(in: 0...1_440)
        }
        if let n = node.child("buffer_after_check_out_minutes") {
            property.bufferAfterCheckOutMinutes = try n.int(in: 0...1_440)
        }
        if let n = node.child("preferred_code_length") { property.preferredCodeLength = try n.int(in: 4...9) }
        if let n = node.child("behavior_when_code_cannot_be_shared") {
            let text = try n.string()
            guard let behavior = Property.CodeSharingBehavior(rawValue: text) else {
                throw n.error("use throw or create_random_code")
            }
            property.codeSharingBehavior = behavior
        }
        if let n = node.child("code_name") { property.codeNameTemplate = try n.string() }
        return property
    }

    private static func checkUniqueness(_ properties: [Property], lines: [Int?]) throws(ConfigurationError) {
        var seenIDs: [String: Int] = [:]
        var seenListings: [String: String] = [:]
        for (index, property) in properties.enumerated() {
            if let first = seenIDs[property.id] {
                throw ConfigurationError(
                    key: "properties[\(index)].id", line: lines[index],
                    message: "id \"\(property.id)\" is also used by properties[\(first)]; ids must be unique")
            }
            seenIDs[property.id] = index
            for (source, ids) in property.listings.sorted(by: { $0.key < $1.key }) {
                for listing in ids {
                    let key = "\(source)/\(listing)"
                    if let other = seenListings[key] {
                        throw ConfigurationError(
                            key: "properties[\(index)].listings.\(source)", line: lines[index],
                            message:
                                "listing \(listing) of \(source) is also mapped to property \"\(other)\"; a listing belongs to one property"
                        )
                    }
                    seenListings[key] = property.id
                }
            }
        }
    }

    private static func slug(_ text: String) -> String {
        let lowered = text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(lowered).split(separator: "-").joined(separator: "-")
    }
}
