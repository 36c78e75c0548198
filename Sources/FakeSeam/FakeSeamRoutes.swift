import Foundation
import HTTPServer

/// The verbs each route accepts (seam-api.md §1.2).
enum SeamRoutes {
    /// Every API route with its verbs.
    static let table: [(path: String, methods: [String])] = [
        ("/access_codes/create", ["POST"]),
        ("/access_codes/create_multiple", ["POST", "PUT"]),
        ("/access_codes/update", ["POST", "PUT", "PATCH"]),
        ("/access_codes/update_multiple", ["POST", "PATCH"]),
        ("/access_codes/delete", ["POST", "DELETE"]),
        ("/access_codes/get", ["GET", "POST"]),
        ("/access_codes/list", ["GET", "POST"]),
        ("/access_codes/generate_code", ["GET", "POST"]),
        ("/access_codes/pull_backup_access_code", ["POST"]),
        ("/devices/get", ["GET", "POST"]),
        ("/devices/list", ["GET", "POST"]),
        ("/action_attempts/get", ["GET", "POST"]),
        ("/events/list", ["GET", "POST"]),
    ]
}

extension FakeSeamService {
    /// Builds the router: API routes with their verbs, then control routes.
    func makeRouter() -> Router {
        var router = Router()
        for (path, methods) in SeamRoutes.table {
            let operation = Self.operation(for: path)
            for method in methods {
                router.add(method, path) { request, responder in
                    self.serveAPI(request, route: path, respond: responder, operation: operation)
                }
            }
        }
        addControlRoutes(to: &router)
        return router
    }

    private typealias Operation =
        @Sendable (inout FakeSeamState, inout RequestParameters, Date) throws(SeamAPIError) -> JSONValue

    private static func operation(for path: String) -> Operation {
        switch path {
        case "/access_codes/create": createCode
        case "/access_codes/create_multiple": createMultiple
        case "/access_codes/update": updateCode
        case "/access_codes/update_multiple": updateMultiple
        case "/access_codes/delete": deleteCode
        case "/access_codes/get": getCode
        case "/access_codes/list": listCodes
        case "/access_codes/generate_code": generateCode
        case "/access_codes/pull_backup_access_code": pullBackupCode
        case "/devices/get": getDevice
        case "/devices/list": listDevices
        case "/action_attempts/get": getAttempt
        default: listEvents
        }
    }

    // MARK: - Access codes

    private static func codeFields(_ p: inout RequestParameters) -> FakeSeamState.CodeFields {
        FakeSeamState.CodeFields(
            name: p.string("name"), startsAt: p.date("starts_at"), endsAt: p.date("ends_at"),
            isExternalModificationAllowed: p.bool("is_external_modification_allowed") ?? p.bool(
                "allow_external_modification") ?? false,
            attemptForOfflineDevice: p.bool("attempt_for_offline_device") ?? true,
            useBackupPool: p.bool("use_backup_access_code_pool") ?? false
        )
    }

    private static func preferredLength(_ p: inout RequestParameters) -> Int? {
        guard let n = p.number("preferred_code_length") else { return nil }
        guard n == n.rounded(), n >= 1 else {
            p.fail("preferred_code_length", "Expected a positive whole number")
            return nil
        }
        return Int(n)
    }

    private static func createCode(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let deviceID = p.uuid("device_id", required: true)
        let code = p.code()
        let length = preferredLength(&p)
        let fields = codeFields(&p)
        let key = p.string("common_code_key")
        try p.check()
        let (record, attempt) = try state.create(
            deviceID: deviceID ?? "", code: code, preferredLength: length, fields: fields, commonCodeKey: key, now: now)
        return ["access_code": record.json(workspaceID: state.workspaceID), "action_attempt": attempt.json]
    }

    private static func createMultiple(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let deviceIDs = p.stringArray("device_ids", required: true) ?? []
        for id in deviceIDs where UUID(uuidString: id) == nil { p.fail("device_ids", "Invalid uuid: \(id)") }
        let behavior = p.oneOf("behavior_when_code_cannot_be_shared", ["throw", "create_random_code"]) ?? "throw"
        let code = p.code()
        let length = preferredLength(&p)
        let fields = codeFields(&p)
        for unsupported in [
            "common_code_key", "is_offline_access_code", "is_one_time_use", "max_time_rounding", "sync",
        ] where p.has(unsupported) {
            p.fail(unsupported, "Unrecognized key for /access_codes/create_multiple")
        }
        try p.check()
        let records = try state.createMultiple(
            deviceIDs: deviceIDs.map { $0.lowercased() }, code: code, preferredLength: length,
            randomWhenUnshareable: behavior == "create_random_code", fields: fields, now: now)
        return ["access_codes": .array(records.map { $0.json(workspaceID: state.workspaceID) })]
    }

    private static func updateCode(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let id = p.uuid("access_code_id", required: true)
        _ = p.uuid("device_id")
        let type = p.oneOf("type", ["ongoing", "time_bound"])
        let changes = FakeSeamState.CodeChanges(
            name: p.string("name"), code: p.code(), startsAt: p.date("starts_at"), endsAt: p.date("ends_at"),
            makeOngoing: type == "ongoing",
            isExternalModificationAllowed: p.bool("is_external_modification_allowed")
                ?? p.bool("allow_external_modification")
        )
        if type == "time_bound", let id, (try? state.code(id))?.type == "ongoing",
            changes.startsAt == nil || changes.endsAt == nil
        {
            p.fail("type", "A time_bound code needs both starts_at and ends_at")
        }
        try p.check()
        return ["action_attempt": try state.update(id: id ?? "", changes: changes, now: now).json]
    }

    private static func pullBackupCode(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let id = p.uuid("access_code_id", required: true)
        try p.check()
        let (original, backup) = try state.pullBackup(id: id ?? "", now: now)
        return [
            "access_code": original.json(workspaceID: state.workspaceID),
            "backup_access_code": backup.json(workspaceID: state.workspaceID),
        ]
    }

    private static func updateMultiple(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let key = p.string("common_code_key", required: true)
        let startsAt = p.date("starts_at")
        let endsAt = p.date("ends_at")
        let name = p.string("name")
        for unsupported in ["code", "type"] where p.has(unsupported) {
            p.fail(unsupported, "Unrecognized key for /access_codes/update_multiple")
        }
        try p.check()
        try state.updateMultiple(commonCodeKey: key ?? "", startsAt: startsAt, endsAt: endsAt, name: name, now: now)
        return [:]
    }

    private static func deleteCode(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let id = p.uuid("access_code_id", required: true)
        _ = p.uuid("device_id")
        _ = p.bool("sync")
        try p.check()
        return ["action_attempt": try state.delete(id: id ?? "", now: now).json]
    }

    private static func getCode(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let id = p.uuid("access_code_id")
        let deviceID = p.uuid("device_id")
        let code = p.string("code")
        if id == nil && (deviceID == nil || code == nil) && p.errors.isEmpty {
            p.fail("access_code_id", "Specify access_code_id, or device_id and code")
        }
        try p.check()
        let record = if let id { try state.code(id) } else { try state.code(deviceID: deviceID ?? "", pin: code ?? "") }
        return ["access_code": record.json(workspaceID: state.workspaceID)]
    }

    private static func listCodes(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let deviceID = p.uuid("device_id")
        let ids = p.stringArray("access_code_ids").map { $0.map { $0.lowercased() } }
        let search = p.string("search")?.lowercased()
        let page = Page(&p)
        try p.check()
        if let deviceID { _ = try state.device(deviceID) }
        let matching = state.codes.filter { code in
            (deviceID == nil || code.deviceID == deviceID) && (ids == nil || ids!.contains(code.id))
                && (search == nil || search!.isEmpty
                    || [code.name?.lowercased() ?? "", code.code, code.id].contains { $0.contains(search!) })
        }
        let (slice, pagination) = page.cut(matching)
        return [
            "access_codes": .array(slice.map { $0.json(workspaceID: state.workspaceID) }), "pagination": pagination,
        ]
    }

    private static func generateCode(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let deviceID = p.uuid("device_id", required: true)
        try p.check()
        let generated = try state.generateCode(deviceID: deviceID ?? "", now: now)
        return ["generated_code": generated.json(workspaceID: state.workspaceID)]
    }

    // MARK: - Devices, attempts, events

    private static func getDevice(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let id = p.uuid("device_id", required: true)
        try p.check()
        return ["device": state.deviceJSON(try state.device(id ?? ""))]
    }

    private static func listDevices(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let ids = p.stringArray("device_ids").map { $0.map { $0.lowercased() } }
        let type = p.string("device_type")
        let types = p.stringArray("device_types")
        let page = Page(&p)
        try p.check()
        let matching = state.devices.filter { device in
            (ids == nil || ids!.contains(device.deviceID)) && (type == nil || device.deviceType == type)
                && (types == nil || types!.contains(device.deviceType))
        }
        let (slice, pagination) = page.cut(matching)
        return ["devices": .array(slice.map { state.deviceJSON($0) }), "pagination": pagination]
    }

    private static func getAttempt(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let id = p.uuid("action_attempt_id", required: true)
        try p.check()
        return ["action_attempt": try state.attempt(id ?? "").json]
    }

    private static func listEvents(_ state: inout FakeSeamState, _ p: inout RequestParameters, _ now: Date)
        throws(SeamAPIError) -> JSONValue
    {
        let since = p.date("since")
        let codeID = p.uuid("access_code_id")
        let deviceID = p.uuid("device_id")
        let eventType = p.string("event_type")
        let limit = p.number("limit").map(Int.init) ?? 500
        try p.check()
        let matching = state.events.filter { event in
            (since == nil || event.occurredAt >= since!) && (eventType == nil || event.type == eventType)
                && (codeID == nil || event.json["access_code_id"]?.stringValue == codeID)
                && (deviceID == nil || event.json["device_id"]?.stringValue == deviceID)
        }
        return ["events": .array(matching.prefix(max(0, limit)).map(\.json))]
    }
}

/// `limit` and `page_cursor` of a list route, and the `pagination` object it answers with.
struct Page {
    /// Items per page; Seam's default is 55000.
    let limit: Int
    /// Where the page starts.
    let offset: Int

    /// Reads `limit` (default 55000) and `page_cursor`, recording validation errors in `p`.
    init(_ p: inout RequestParameters) {
        let limit = p.number("limit") ?? 55_000
        if limit < 1 || limit != limit.rounded() { p.fail("limit", "Expected a positive whole number") }
        self.limit = max(1, Int(min(limit, 1_000_000)))
        if let cursor = p.string("page_cursor"), !cursor.isEmpty {
            let decoded = Data(base64Encoded: cursor).flatMap { String(data: $0, encoding: .utf8) }
            let offset = decoded.flatMap { $0.hasPrefix("offset:") ? Int($0.dropFirst(7)) : nil }
            if offset == nil {
                p.fail("page_cursor", "Invalid page_cursor; pass next_page_cursor from the previous page")
            }
            self.offset = offset ?? 0
        } else {
            self.offset = 0
        }
    }

    /// This page of `items` and the `pagination` object.
    func cut<T>(_ items: [T]) -> ([T], JSONValue) {
        let start = min(offset, items.count)
        let end = min(start + limit, items.count)
        let hasNext = end < items.count
        let cursor: JSONValue = hasNext ? .string(Data("offset:\(end)".utf8).base64EncodedString()) : nil
        return (
            Array(items[start..<end]),
            ["has_next_page": .bool(hasNext), "next_page_cursor": cursor, "next_page_url": nil]
        )
    }
}

extension FakeSeamState {
    /// The devices a call names, for the per-device counters: `device_id`, `device_ids`, the code's device for
    /// `access_code_id`, or every device of a `common_code_key` group.
    func devicesNamed(by parameters: RequestParameters) -> [String] {
        var p = parameters
        if let ids = p.stringArray("device_ids") { return ids.map { $0.lowercased() } }
        if let id = p.string("device_id") { return [id.lowercased()] }
        if let id = p.string("access_code_id"), let code = try? code(id.lowercased()) { return [code.deviceID] }
        if let key = p.string("common_code_key") { return codes.filter { $0.commonCodeKey == key }.map(\.deviceID) }
        return []
    }

    /// Seam's `device` object.
    func deviceJSON(_ device: FakeDevice) -> JSONValue {
        let created = SeamTime.format(Date(timeIntervalSince1970: 1_700_000_000))
        let errors: [JSONValue] =
            device.online
            ? []
            : [
                [
                    "error_code": "device_offline", "message": "Device is offline", "is_device_error": true,
                    "created_at": .string(created),
                ]
            ]
        return [
            "device_id": .string(device.deviceID), "workspace_id": .string(workspaceID),
            "connected_account_id": .string(seed.connectedAccountID), "device_type": .string(device.deviceType),
            "display_name": .string(device.displayName), "created_at": .string(created),
            "is_managed": true, "custom_metadata": [:], "space_ids": [],
            "capabilities_supported": ["access_code", "lock"],
            "can_program_online_access_codes": true, "can_remotely_lock": true, "can_remotely_unlock": true,
            "errors": .array(errors), "warnings": [],
            "properties": [
                "online": .bool(device.online), "name": .string(device.displayName),
                "appearance": ["name": .string(device.displayName)],
                "manufacturer": .string(device.manufacturer),
                "model": [
                    "display_name": .string(device.displayName),
                    "manufacturer_display_name": .string(device.manufacturer.capitalized),
                ],
                "supported_code_lengths": .array(device.supportedCodeLengths.map(JSONValue.int)),
                "max_active_codes_supported": .int(device.maxActiveCodes),
                "code_constraints": .array(device.codeConstraints.map { ["constraint_type": .string($0)] }),
                "supports_backup_access_code_pool": .bool(device.supportsBackupPool), "locked": true,
                "can_program_online_access_codes": true,
            ],
        ]
    }
}
