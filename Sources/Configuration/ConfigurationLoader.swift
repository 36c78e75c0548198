import Bookings
import Foundation
import Yams

/// Reads a ``LatchkeyConfiguration`` from YAML and checks it, naming the key and line of each problem.
///
/// It reads the whole file before it gives up: every problem found is reported in one ``ConfigurationErrors``, so
/// a person fixes them all in one pass instead of one per run.
package enum ConfigurationLoader {
    /// The adapters a source may name.
    package static let knownAdapters: Set<String> = ["native", "guesty", "hostaway", "hospitable", "lodgify"]

    /// The keys each mapping of the file accepts, by where the mapping is; any other key is an error (a typo is
    /// never silently ignored). `deploy/latchkey.example.yaml` shows every one of them (a test keeps it so).
    package enum Keys {
        /// The top level.
        package static let top: Set<String> = [
            "server", "data_dir", "log_level", "log_format", "idempotency_retention_days", "history_retention_days",
            "seam", "admin", "sources", "properties", "console", "notifications", "assurance", "store",
        ]
        /// `server:`.
        package static let server: Set<String> = [
            "bind", "trusted_proxies", "max_body_bytes", "max_head_bytes", "max_connections", "head_timeout_seconds",
            "body_idle_timeout_seconds", "keep_alive_timeout_seconds", "drain_timeout_seconds", "event_loops",
        ]
        /// `seam:`.
        package static let seam: Set<String> = [
            "endpoint", "api_key", "workspace_id", "webhook_secret", "max_parallel_reservations", "max_attempts",
            "request_timeout_seconds",
        ]
        /// `admin:`.
        package static let admin: Set<String> = ["token"]
        /// `console:`.
        package static let console: Set<String> = ["password", "session_hours"]
        /// `assurance:`.
        package static let assurance: Set<String> = [
            "check_lead_hours", "backup_code_lead_minutes", "recheck_minutes", "check_every_seconds",
            "drift_interval_seconds",
        ]
        /// `store:`.
        package static let store: Set<String> = ["backend", "postgresql"]
        /// `store.postgresql:`.
        package static let postgresql: Set<String> = [
            "url", "pool_size", "connect_timeout_seconds", "statement_timeout_seconds",
        ]
        /// Keys of `store.postgresql:` that an older Latchkey read, refused with the reason (not as unknown).
        package static let retiredPostgreSQL: Set<String> = ["standby"]
        /// Each source under `sources:`.
        package static let source: Set<String> = [
            "adapter", "scheme", "secrets", "header", "prefix", "encoding", "username", "tolerance_seconds",
        ]
        /// Each property under `properties:`.
        package static let property: Set<String> = [
            "id", "name", "time_zone", "listings", "device_ids", "check_in_time", "check_out_time",
            "buffer_before_check_in_minutes", "buffer_after_check_out_minutes", "preferred_code_length",
            "behavior_when_code_cannot_be_shared", "code_name",
        ]
        /// A secret reference (`{env: NAME}`, `{file: PATH}`, `{value: TEXT}`).
        package static let secret: Set<String> = ["env", "file", "value"]
    }

    /// Reads and checks the file at `path`.
    /// - Throws: ``ConfigurationErrors`` with every problem found (a missing file, bad YAML, bad keys or values).
    package static func load(path: String) throws(ConfigurationErrors) -> LatchkeyConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationErrors(
                [ConfigurationError(key: "", line: nil, message: "cannot read \(path); check the --config path")])
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self))
    }

    /// Parses and checks YAML text.
    /// - Throws: ``ConfigurationErrors`` with every problem found; YAML that does not parse is one problem.
    package static func parse(yaml: String) throws(ConfigurationErrors) -> LatchkeyConfiguration {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigurationError(
                    key: "", line: nil, message: "the configuration is empty; see deploy/latchkey.example.yaml")
            }
            root = node
        } catch let error as ConfigurationError {
            throw ConfigurationErrors([error])
        } catch let error as YamlError {
            throw ConfigurationErrors(
                [ConfigurationError(key: "", line: yamlErrorLine(error), message: "not valid YAML: \(error)")])
        } catch {
            throw ConfigurationErrors([ConfigurationError(key: "", line: nil, message: "not valid YAML: \(error)")])
        }
        var problems = ConfigurationProblems()
        let top = ConfigNode(node: root, path: "")
        top.reportUnknownKeys(Keys.top, into: &problems)

        var server = ServerSettings()
        if let node = top.child("server") { server = parseServer(node, &problems) }
        var seam = SeamSettings()
        if let node = top.child("seam") { seam = parseSeam(node, &problems) }
        var store = StoreSettings()
        if let node = top.child("store") { store = parseStore(node, &problems) }

        var adminToken: SecretReference? = .environment("LATCHKEY_ADMIN_TOKEN")
        if let admin = top.child("admin") {
            admin.reportUnknownKeys(Keys.admin, into: &problems)
            if let token = admin.child("token") {
                adminToken =
                    token.isNull ? nil : problems.check { () throws(ConfigurationError) in try parseSecret(token) }
            }
        }

        var console = ConsoleSettings()
        if let node = top.child("console") {
            node.reportUnknownKeys(Keys.console, into: &problems)
            if let password = node.child("password") {
                console.password =
                    password.isNull
                    ? nil : problems.check { () throws(ConfigurationError) in try parseSecret(password) }
            }
            if let hours = problems.value(
                of: "session_hours", in: node,
                { node throws(ConfigurationError) in
                    try node.int(in: 1...168)
                })
            {
                console.sessionHours = hours
            }
        }

        var sources: [SourceSettings] = []
        var sourceNames: Set<String> = []
        if let sourcesNode = top.child("sources") {
            for (name, node) in problems.check({ () throws(ConfigurationError) in try sourcesNode.mappingEntries() })
                ?? []
            {
                sourceNames.insert(name)
                if let source = parseSource(name: name, node, &problems) { sources.append(source) }
            }
        } else {
            problems.add(
                ConfigurationError(
                    key: "sources", line: nil, message: "required: name at least one PMS source (e.g. `native:`)"))
        }
        var properties: [(index: Int, property: Property, line: Int?)] = []
        if let propertiesNode = top.child("properties") {
            let nodes = problems.check { () throws(ConfigurationError) in try propertiesNode.array() } ?? []
            for (index, node) in nodes.enumerated() {
                if let property = parseProperty(node, sourceNames: sourceNames, &problems) {
                    properties.append((index, property, node.line))
                }
            }
            checkUniqueness(properties, &problems)
        } else {
            problems.add(
                ConfigurationError(
                    key: "properties", line: nil, message: "required: list at least one property with its locks"))
        }

        let logLevel =
            problems.value(of: "log_level", in: top) { node throws(ConfigurationError) in
                let value = try node.string()
                guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(value) else {
                    throw node.error("unknown level \"\(value)\"; use trace, debug, info, notice, warning or error")
                }
                return value
            } ?? "info"
        let logFormat =
            problems.value(of: "log_format", in: top) { node throws(ConfigurationError) in
                let value = try node.string()
                guard ["auto", "json", "human"].contains(value) else { throw node.error("use auto, json or human") }
                return value
            } ?? "auto"
        let dataDirectory = problems.value(of: "data_dir", in: top) { node throws(ConfigurationError) in
            try node.string()
        }
        let idempotencyDays = problems.value(of: "idempotency_retention_days", in: top) {
            node throws(ConfigurationError) in
            try node.int(in: 1...365)
        }
        let historyDays = problems.value(of: "history_retention_days", in: top) { node throws(ConfigurationError) in
            try node.int(in: 1...3650)
        }

        var assurance = AssuranceSettings()
        if let node = top.child("assurance") { assurance = parseAssurance(node, &problems) }

        var configuration = LatchkeyConfiguration(
            server: server,
            dataDirectory: dataDirectory ?? "./latchkey-data",
            logLevel: logLevel,
            logFormat: logFormat,
            idempotencyRetentionDays: idempotencyDays ?? 7,
            historyRetentionDays: historyDays ?? 30,
            seam: seam,
            adminToken: adminToken,
            sources: sources,
            properties: properties.map(\.property)
        )
        configuration.console = console
        if let node = top.child("notifications") { configuration.notifications = parseNotifications(node, &problems) }
        configuration.assurance = assurance
        configuration.store = store
        guard problems.all.isEmpty else { throw ConfigurationErrors(problems.all, partial: configuration) }
        return configuration
    }

    private static func yamlErrorLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    private static func parseServer(_ node: ConfigNode, _ problems: inout ConfigurationProblems) -> ServerSettings {
        node.reportUnknownKeys(Keys.server, into: &problems)
        var server = ServerSettings()
        if let (host, port) = problems.value(
            of: "bind", in: node,
            { bind throws(ConfigurationError) in
                let text = try bind.string()
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                    (0...65535).contains(port)
                else {
                    throw bind.error("expected host:port, e.g. 127.0.0.1:8080")
                }
                return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
            })
        {
            server.host = host
            server.port = port
        }
        if let value = problems.value(
            of: "trusted_proxies", in: node, { n throws(ConfigurationError) in try n.stringArray() })
        {
            server.trustedProxies = value
        }
        problems.int("max_body_bytes", in: node, 1_024...64 << 20) { server.maxBodyBytes = $0 }
        problems.int("max_head_bytes", in: node, 1_024...1 << 20) { server.maxHeadBytes = $0 }
        problems.int("max_connections", in: node, 16...1_000_000) { server.maxConnections = $0 }
        problems.int("event_loops", in: node, 1...64) { server.eventLoops = $0 }
        problems.int("head_timeout_seconds", in: node, 1...3_600) { server.headTimeoutSeconds = $0 }
        problems.int("body_idle_timeout_seconds", in: node, 1...3_600) { server.bodyIdleTimeoutSeconds = $0 }
        problems.int("keep_alive_timeout_seconds", in: node, 1...3_600) { server.keepAliveTimeoutSeconds = $0 }
        problems.int("drain_timeout_seconds", in: node, 0...3_600) { server.drainTimeoutSeconds = $0 }
        return server
    }

    private static func parseSeam(_ node: ConfigNode, _ problems: inout ConfigurationProblems) -> SeamSettings {
        node.reportUnknownKeys(Keys.seam, into: &problems)
        var seam = SeamSettings()
        if let text = problems.value(
            of: "endpoint", in: node,
            { n throws(ConfigurationError) in
                let text = try n.string()
                guard let url = URL(string: text), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                    throw n.error("expected an http(s) URL such as https://connect.getseam.com")
                }
                return text
            })
        {
            seam.endpoint = text
        }
        if let n = node.child("api_key") {
            seam.apiKey = n.isNull ? nil : problems.check { () throws(ConfigurationError) in try parseSecret(n) }
        }
        if let value = problems.value(of: "workspace_id", in: node, { n throws(ConfigurationError) in try n.string() })
        {
            seam.workspaceID = value
        }
        if let n = node.child("webhook_secret") {
            seam.webhookSecret = n.isNull ? nil : problems.check { () throws(ConfigurationError) in try parseSecret(n) }
        }
        problems.int("max_parallel_reservations", in: node, 1...64) { seam.maxParallelReservations = $0 }
        problems.int("max_attempts", in: node, 1...100) { seam.maxAttempts = $0 }
        problems.int("request_timeout_seconds", in: node, 1...300) { seam.requestTimeoutSeconds = $0 }
        return seam
    }

    private static func parseAssurance(_ node: ConfigNode, _ problems: inout ConfigurationProblems)
        -> AssuranceSettings
    {
        node.reportUnknownKeys(Keys.assurance, into: &problems)
        var settings = AssuranceSettings()
        if let hours = problems.value(
            of: "check_lead_hours", in: node,
            { list throws(ConfigurationError) in
                var hours: [Int] = []
                for item in try list.array() { hours.append(try item.int(in: 1...720)) }
                return hours
            })
        {
            settings.checkLeadHours = hours
        }
        problems.int("backup_code_lead_minutes", in: node, 0...2880) { settings.backupCodeLeadMinutes = $0 }
        problems.int("recheck_minutes", in: node, 1...1440) { settings.recheckMinutes = $0 }
        problems.int("check_every_seconds", in: node, 1...3600) { settings.checkEverySeconds = $0 }
        problems.int("drift_interval_seconds", in: node, 0...604_800) { settings.driftIntervalSeconds = $0 }
        return settings
    }

    private static func parseStore(_ node: ConfigNode, _ problems: inout ConfigurationProblems) -> StoreSettings {
        node.reportUnknownKeys(Keys.store, into: &problems)
        var store = StoreSettings()
        if let backend = problems.value(
            of: "backend", in: node,
            { n throws(ConfigurationError) in
                let text = try n.string()
                guard let backend = StoreSettings.Backend(rawValue: text) else {
                    throw n.error("unknown backend \"\(text)\"; use flat_files or postgresql")
                }
                return backend
            })
        {
            store.backend = backend
        }
        if let pg = node.child("postgresql"), !pg.isNull {
            pg.reportUnknownKeys(Keys.postgresql.union(Keys.retiredPostgreSQL), into: &problems)
            if let urlNode = pg.child("url"),
                let url = problems.check({ () throws(ConfigurationError) in try parseSecret(urlNode) })
            {
                var settings = PostgreSQLSettings(url: url)
                problems.int("pool_size", in: pg, 1...256) { settings.poolSize = $0 }
                problems.int("connect_timeout_seconds", in: pg, 1...300) { settings.connectTimeoutSeconds = $0 }
                problems.int("statement_timeout_seconds", in: pg, 0...3600) { settings.statementTimeoutSeconds = $0 }
                if let standby = pg.child("standby") {
                    problems.add(
                        standby.error(
                            "`standby` is no longer used: every instance on the database serves at once and the one "
                                + "holding the work lease runs the reconciler; remove the key"))
                }
                store.postgresql = settings
            } else if pg.child("url") == nil {
                problems.add(pg.error("missing `url:`; give the connection string as {env: LATCHKEY_DATABASE_URL}"))
            }
        }
        if store.backend == .postgresql && store.postgresql == nil && node.child("postgresql") == nil {
            problems.add(
                node.error(
                    "backend postgresql needs `postgresql: {url: {env: LATCHKEY_DATABASE_URL}}`; "
                        + "see deploy/latchkey.example.yaml"))
        }
        return store
    }

    /// `{env: NAME}`, `{file: PATH}` or `{value: LITERAL}`.
    static func parseSecret(_ node: ConfigNode) throws(ConfigurationError) -> SecretReference {
        guard node.node.mapping != nil else {
            throw node.error("a secret is a mapping: {env: NAME}, {file: PATH} or (sandbox only) {value: TEXT}")
        }
        if let unknown = node.unknownKeys(Keys.secret).first { throw unknown }
        if let env = node.child("env") { return .environment(try env.string()) }
        if let file = node.child("file") { return .file(try file.string()) }
        if let value = node.child("value") { return .inline(try value.string()) }
        throw node.error("a secret needs one of env, file or value")
    }

    /// The secrets of a source, each problem recorded; nil when there are none to use.
    private static func parseSecrets(
        _ node: ConfigNode?, owner: ConfigNode, _ problems: inout ConfigurationProblems
    ) -> [SecretReference]? {
        guard let node else {
            problems.add(owner.error("missing `secrets:`; list one or more {env: NAME} or {file: PATH}"))
            return nil
        }
        guard let items = problems.check({ () throws(ConfigurationError) in try node.array() }) else { return nil }
        guard !items.isEmpty else {
            problems.add(node.error("list at least one secret"))
            return nil
        }
        let secrets = items.compactMap { item in
            problems.check { () throws(ConfigurationError) in try parseSecret(item) }
        }
        return secrets.count == items.count ? secrets : nil
    }

    private static func parseSource(
        name: String, _ node: ConfigNode, _ problems: inout ConfigurationProblems
    ) -> SourceSettings? {
        var isUsable = true
        let isURLSafe = name.utf8.allSatisfy {
            $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (48...57).contains($0) || (97...122).contains($0)
        }
        if name.isEmpty || !isURLSafe {
            problems.add(node.error("a source name is used in the URL; use lower-case letters, digits, - and _"))
            isUsable = false
        }
        node.reportUnknownKeys(Keys.source, into: &problems)
        var adapter = name
        let adapters = knownAdapters.sorted().joined(separator: ", ")
        if let adapterNode = node.child("adapter") {
            if let text = problems.check({ () throws(ConfigurationError) in try adapterNode.string() }) {
                adapter = text
                if !knownAdapters.contains(text) {
                    problems.add(adapterNode.error("unknown adapter \"\(text)\"; use one of \(adapters)"))
                    isUsable = false
                }
            } else {
                isUsable = false
            }
        } else if !knownAdapters.contains(name) {
            problems.add(
                node.error(
                    "no adapter named \"\(name)\"; a source not named after its PMS needs `adapter:` with one of \(adapters)"
                ))
            isUsable = false
        }
        let secrets = parseSecrets(node.child("secrets"), owner: node, &problems)
        guard let schemeNode = node.child("scheme") else {
            problems.add(node.error("missing `scheme:`; use standard_webhooks, hmac_sha256, basic or path_token"))
            return nil
        }
        guard let scheme = problems.check({ () throws(ConfigurationError) in try schemeNode.string() }) else {
            return nil
        }
        let auth: AuthSettings?
        switch scheme {
        case "standard_webhooks", "svix":
            let tolerance = problems.value(of: "tolerance_seconds", in: node) { n throws(ConfigurationError) in
                try n.int(in: 1...3_600)
            }
            auth = secrets.map { .standardWebhooks(secrets: $0, toleranceSeconds: tolerance ?? 300) }
        case "hmac_sha256":
            let header = problems.value(of: "header", in: node) { n throws(ConfigurationError) in try n.string() }
            if node.child("header") == nil {
                problems.add(
                    node.error("hmac_sha256 needs `header:` (e.g. Signature for Hospitable, ms-signature for Lodgify)"))
            }
            let encoding = problems.value(of: "encoding", in: node) { n throws(ConfigurationError) in
                let text = try n.string()
                guard text == "hex" || text == "base64" else { throw n.error("use hex or base64") }
                return text
            }
            let prefix = problems.value(of: "prefix", in: node) { n throws(ConfigurationError) in try n.string() }
            if let header, let secrets, node.child("encoding") == nil || encoding != nil {
                auth = .bodyHMAC(header: header, prefix: prefix ?? "", encoding: encoding ?? "hex", secrets: secrets)
            } else {
                auth = nil
            }
        case "basic":
            let username = problems.value(of: "username", in: node) { n throws(ConfigurationError) in try n.string() }
            if node.child("username") == nil { problems.add(node.error("basic needs `username:`")) }
            auth = username.flatMap { username in secrets.map { .basic(username: username, secrets: $0) } }
        case "path_token":
            auth = secrets.map { .pathToken(secrets: $0) }
        case let other:
            problems.add(
                schemeNode.error("unknown scheme \"\(other)\"; use standard_webhooks, hmac_sha256, basic or path_token")
            )
            auth = nil
        }
        guard isUsable, let auth else { return nil }
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

    private static func parseProperty(
        _ node: ConfigNode, sourceNames: Set<String>, _ problems: inout ConfigurationProblems
    ) -> Property? {
        node.reportUnknownKeys(Keys.property, into: &problems)
        let name = problems.value(of: "name", in: node) { n throws(ConfigurationError) in try n.string() }
        if node.child("name") == nil {
            problems.add(node.error("missing `name:` (required: the property's name, used in code names)"))
        }
        let id = problems.value(of: "id", in: node) { n throws(ConfigurationError) in try n.string() }
        let zone = problems.value(of: "time_zone", in: node) { n throws(ConfigurationError) in
            let zone = try n.string()
            guard TimeZone(identifier: zone) != nil else {
                throw n.error(
                    "unknown time zone \"\(zone)\"; use an IANA name such as Europe/Berlin or America/New_York")
            }
            return zone
        }
        if node.child("time_zone") == nil {
            problems.add(node.error("missing `time_zone:` (an IANA name such as Europe/Berlin)"))
        }
        var listings: [String: [String]]?
        if let listingsNode = node.child("listings") {
            if let entries = problems.check({ () throws(ConfigurationError) in try listingsNode.mappingEntries() }) {
                var found: [String: [String]] = [:]
                for (source, ids) in entries {
                    guard sourceNames.contains(source) else {
                        problems.add(
                            ids.error("no source named \"\(source)\" under `sources:`; add it there or fix the name"))
                        continue
                    }
                    if let list = problems.check({ () throws(ConfigurationError) in try ids.stringArray() }) {
                        found[source] = list
                    }
                }
                listings = found
            }
        } else {
            problems.add(
                node.error("missing `listings:`; map each source to its listing ids, e.g. {guesty: [\"64f…\"]}"))
        }
        let devices = problems.value(of: "device_ids", in: node) { n throws(ConfigurationError) in
            let devices = try n.stringArray()
            guard !devices.isEmpty else {
                throw n.error("list at least one Seam device id; a property without locks cannot get codes")
            }
            guard Set(devices).count == devices.count else { throw n.error("a device id is listed twice") }
            return devices
        }
        if node.child("device_ids") == nil {
            problems.add(node.error("missing `device_ids:`; list the Seam device ids of the door locks"))
        }
        let checkIn = problems.value(of: "check_in_time", in: node, parseTime)
        let checkOut = problems.value(of: "check_out_time", in: node, parseTime)
        let bufferBefore = problems.value(of: "buffer_before_check_in_minutes", in: node) {
            n throws(ConfigurationError) in
            try n.int(in: 0...1_440)
        }
        let bufferAfter = problems.value(of: "buffer_after_check_out_minutes", in: node) {
            n throws(ConfigurationError) in
            try n.int(in: 0...1_440)
        }
        let codeLength = problems.value(of: "preferred_code_length", in: node) { n throws(ConfigurationError) in
            try n.int(in: 4...9)
        }
        let behavior = problems.value(of: "behavior_when_code_cannot_be_shared", in: node) {
            n throws(ConfigurationError) in
            let text = try n.string()
            guard let behavior = Property.CodeSharingBehavior(rawValue: text) else {
                throw n.error("use throw or create_random_code")
            }
            return behavior
        }
        let codeName = problems.value(of: "code_name", in: node) { n throws(ConfigurationError) in
            let template = try n.string()
            let unknown = Property.unknownPlaceholders(in: template)
            guard unknown.isEmpty else {
                let named = unknown.map { "{\($0)}" }.joined(separator: ", ")
                let known = Property.codeNamePlaceholders.map { "{\($0)}" }.joined(separator: ", ")
                throw n.error(
                    "unknown placeholder\(unknown.count == 1 ? "" : "s") \(named); the known ones are \(known)")
            }
            return template
        }

        guard let name, let zone, let listings, let devices else { return nil }
        var property = Property(
            id: id ?? slug(name), name: name, listings: listings, deviceIDs: devices, timeZone: zone)
        if let checkIn { property.defaultCheckIn = checkIn }
        if let checkOut { property.defaultCheckOut = checkOut }
        if let bufferBefore { property.bufferBeforeCheckInMinutes = bufferBefore }
        if let bufferAfter { property.bufferAfterCheckOutMinutes = bufferAfter }
        if let codeLength { property.preferredCodeLength = codeLength }
        if let behavior { property.codeSharingBehavior = behavior }
        if let codeName { property.codeNameTemplate = codeName }
        return property
    }

    private static func checkUniqueness(
        _ properties: [(index: Int, property: Property, line: Int?)], _ problems: inout ConfigurationProblems
    ) {
        var seenIDs: [String: Int] = [:]
        var seenListings: [String: String] = [:]
        for (index, property, line) in properties {
            if let first = seenIDs[property.id] {
                problems.add(
                    ConfigurationError(
                        key: "properties[\(index)].id", line: line,
                        message: "id \"\(property.id)\" is also used by properties[\(first)]; ids must be unique"))
            } else {
                seenIDs[property.id] = index
            }
            for (source, ids) in property.listings.sorted(by: { $0.key < $1.key }) {
                for listing in ids {
                    let key = "\(source)/\(listing)"
                    if let other = seenListings[key] {
                        problems.add(
                            ConfigurationError(
                                key: "properties[\(index)].listings.\(source)", line: line,
                                message:
                                    "listing \(listing) of \(source) is also mapped to property \"\(other)\"; a listing belongs to one property"
                            ))
                    } else {
                        seenListings[key] = property.id
                    }
                }
            }
        }
    }

    private static func slug(_ text: String) -> String {
        let lowered = text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(lowered).split(separator: "-").joined(separator: "-")
    }
}
