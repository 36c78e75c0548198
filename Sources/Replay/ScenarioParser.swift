import Foundation
import Yams

/// Reads scenario files.
///
/// ```yaml
/// name: guesty new booking
/// source: guesty                 # a source of the Latchkey configuration
/// description: optional text
/// order: strict                  # optional: keep this scenario's order under --shuffle
/// known_issue: text              # optional: report this scenario's differences without failing the run
/// deliveries:
///   - label: created             # optional
///     body: {event: reservation.new, reservation: {...}}   # or body_file: x.json, or body_raw: '{...}'
///     headers: {webhook-id: ...} # optional; sent unchanged, no re-signing
///     delay_ms: 100              # optional, default 0
///     sign: stale                # optional: false | stale | wrong_secret | other_source
///     expect_status: 401         # optional: a status or a list of statuses
///   - duplicate_of: 0            # re-send delivery 0 unchanged, same delivery id (a PMS retry)
/// expect:
///   "<reservation-id>":
///     group: present             # or absent
///     devices: [front_door, back_door]
///     starts_at: 2030-07-14T13:00:00Z
///     ends_at: 2030-07-17T09:00:00Z
///     same_pin_on_all_locks: true
/// ```
package enum ScenarioParser {
    /// Parses one scenario from YAML text.
    ///
    /// - Parameters:
    ///   - yaml: The file's text.
    ///   - file: The file's path, for messages and for resolving `body_file:` relative to it.
    /// - Returns: The scenario.
    /// - Throws: ``ScenarioError`` naming the key and line of the first problem.
    package static func parse(yaml: String, file: String? = nil) throws(ScenarioError) -> Scenario {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ScenarioError(file: file, key: "", line: nil, message: "the scenario file is empty")
            }
            root = node
        } catch let error as ScenarioError {
            throw error
        } catch {
            throw ScenarioError(file: file, key: "", line: nil, message: "not valid YAML: \(error)")
        }
        do {
            return try parse(ScenarioNode(node: root, path: ""), file: file)
        } catch {
            var located = error
            located.file = file
            throw located
        }
    }

    /// Reads and parses the scenario file at `path`.
    /// - Throws: ``ScenarioError`` when the file cannot be read or is not a valid scenario.
    package static func load(path: String) throws(ScenarioError) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(
                file: path, key: "", line: nil, message: "cannot read the scenario file; check the path")
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), file: path)
    }

    private static func parse(_ top: ScenarioNode, file: String?) throws(ScenarioError) -> Scenario {
        try top.rejectUnknownKeys(["name", "source", "description", "order", "known_issue", "deliveries", "expect"])
        let name = try top.required("name").string()
        let source = try top.required("source").string()
        let description = try top.child("description")?.string() ?? ""
        var strict = false
        if let order = top.child("order") {
            switch try order.string() {
            case "strict": strict = true
            case "any": strict = false
            default: throw order.error("use strict (keep this order under --shuffle) or any")
            }
        }
        let baseDirectory = file.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        var deliveries: [Delivery] = []
        for node in try top.required("deliveries").array() {
            if let original = node.child("duplicate_of") {
                try node.rejectUnknownKeys(["label", "duplicate_of", "delay_ms", "expect_status"])
                let index = try original.int(in: 0...Int.max)
                guard index < deliveries.count, deliveries[index].duplicateOf == nil else {
                    throw original.error(
                        "duplicate_of must name an earlier delivery (0-based) that is not itself a duplicate")
                }
                var copy = deliveries[index]
                copy.label = try node.child("label")?.string() ?? "\(copy.label ?? "#\(index)") again"
                copy.delayMilliseconds = try node.child("delay_ms")?.int(in: 0...600_000) ?? 0
                copy.expectedStatuses =
                    try node.child("expect_status").map { n throws(ScenarioError) in try statuses(n) }
                    ?? copy.expectedStatuses
                copy.duplicateOf = index
                deliveries.append(copy)
                continue
            }
            deliveries.append(try parseDelivery(node, baseDirectory: baseDirectory))
        }
        guard !deliveries.isEmpty else { throw try top.required("deliveries").error("list at least one delivery") }
        var expectations: [ReservationExpectation] = []
        if let expect = top.child("expect"), !expect.isNull {
            for (reservationID, node) in try expect.entries() {
                expectations.append(try parseExpectation(node, source: source, reservationID: reservationID))
            }
        }
        return Scenario(
            name: name, source: source, description: description, keepsOrderWhenShuffled: strict,
            deliveries: deliveries, expectations: expectations, file: file,
            knownIssue: try top.child("known_issue")?.string()
        )
    }

    private static func parseDelivery(_ node: ScenarioNode, baseDirectory: String?) throws(ScenarioError) -> Delivery {
        try node.rejectUnknownKeys([
            "label", "body", "body_file", "body_raw", "headers", "delay_ms", "sign", "expect_status",
        ])
        let bodies = ["body", "body_file", "body_raw"].compactMap { node.child($0) }
        guard bodies.count == 1 else { throw node.error("give exactly one of body, body_file or body_raw") }
        let body: DeliveryBody
        if let inline = node.child("body") {
            body = .json(try JSONBody(yaml: inline.node, path: inline.path))
        } else if let fileNode = node.child("body_file") {
            let name = try fileNode.string()
            let path = name.hasPrefix("/") ? name : (baseDirectory.map { "\($0)/\(name)" } ?? name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw fileNode.error("cannot read \(path); body_file is relative to the scenario file")
            }
            body = .raw(Array(data))
        } else {
            body = .raw(Array(try node.required("body_raw").string().utf8))
        }
        var headers: [(name: String, value: String)] = []
        if let headerNode = node.child("headers") {
            for (name, value) in try headerNode.entries() { headers.append((name, try value.string())) }
        }
        var sign = SignMode.valid
        if let signNode = node.child("sign") {
            let text = try signNode.string()
            switch text.lowercased() {
            case "true", "yes": sign = .valid
            case "false", "no": sign = .unsigned
            default:
                guard let mode = SignMode(rawValue: text), mode != .valid else {
                    throw signNode.error(
                        "use false, stale, wrong_secret or other_source (or leave it out to sign validly)")
                }
                sign = mode
            }
        }
        if sign != .valid, !headers.isEmpty {
            throw node.error("recorded headers are sent unchanged; `sign:` cannot be combined with `headers:`")
        }
        return Delivery(
            label: try node.child("label")?.string(), body: body, headers: headers,
            delayMilliseconds: try node.child("delay_ms")?.int(in: 0...600_000) ?? 0,
            sign: sign,
            expectedStatuses: try node.child("expect_status").map { n throws(ScenarioError) in try statuses(n) }
        )
    }

    /// `expect_status: 202` or `expect_status: [200, 202]`.
    private static func statuses(_ node: ScenarioNode) throws(ScenarioError) -> [Int] {
        let items = node.node.sequence != nil ? try node.array() : [node]
        var result: [Int] = []
        for item in items { result.append(try item.int(in: 100...599)) }
        return result
    }

    private static func parseExpectation(_ node: ScenarioNode, source: String, reservationID: String)
        throws(ScenarioError) -> ReservationExpectation
    {
        try node.rejectUnknownKeys(["group", "devices", "starts_at", "ends_at", "same_pin_on_all_locks"])
        let groupNode = try node.required("group")
        guard let group = ReservationExpectation.Group(rawValue: try groupNode.string()) else {
            throw groupNode.error("use present or absent")
        }
        var expectation = ReservationExpectation(source: source, reservationID: reservationID, group: group)
        if group == .absent {
            for key in ["devices", "starts_at", "ends_at", "same_pin_on_all_locks"] {
                if let extra = node.child(key) { throw extra.error("an absent group has no \(key); remove it") }
            }
            return expectation
        }
        if let devices = node.child("devices") {
            expectation.deviceIDs = try devices.array().map { n throws(ScenarioError) in try n.string() }
        }
        if let starts = node.child("starts_at") { expectation.startsAt = try starts.date() }
        if let ends = node.child("ends_at") { expectation.endsAt = try ends.date() }
        if let same = node.child("same_pin_on_all_locks") { expectation.samePinOnAllLocks = try same.bool() }
        return expectation
    }
}

/// A YAML node with the key path that led to it; typed accessors throw ``ScenarioError``.
struct ScenarioNode {
    let node: Node
    let path: String

    func error(_ message: String) -> ScenarioError {
        ScenarioError(file: nil, key: path, line: node.mark?.line, message: message)
    }

    var isNull: Bool { node.scalar != nil && node.tag.description.hasSuffix(":null") && node.scalar?.style == .plain }

    func child(_ key: String) -> ScenarioNode? {
        guard let mapping = node.mapping else { return nil }
        for (k, v) in mapping where k.scalar?.string == key {
            return ScenarioNode(node: v, path: path.isEmpty ? key : "\(path).\(key)")
        }
        return nil
    }

    func required(_ key: String) throws(ScenarioError) -> ScenarioNode {
        guard node.mapping != nil else { throw error("expected a mapping of keys to values") }
        guard let found = child(key) else { throw error("missing `\(key):`") }
        return found
    }

    func rejectUnknownKeys(_ allowed: Set<String>) throws(ScenarioError) {
        guard let mapping = node.mapping else { throw error("expected a mapping of keys to values") }
        for (key, _) in mapping {
            let name = key.scalar?.string ?? "?"
            guard allowed.contains(name) else {
                throw ScenarioError(
                    file: nil, key: path.isEmpty ? name : "\(path).\(name)", line: key.mark?.line,
                    message: "unknown key; known keys here are: \(allowed.sorted().joined(separator: ", "))"
                )
            }
        }
    }

    func entries() throws(ScenarioError) -> [(String, ScenarioNode)] {
        guard let mapping = node.mapping else { throw error("expected a mapping of keys to values") }
        return mapping.map { pair in
            let key = pair.key.scalar?.string ?? "?"
            return (key, ScenarioNode(node: pair.value, path: path.isEmpty ? key : "\(path).\(key)"))
        }
    }

    func array() throws(ScenarioError) -> [ScenarioNode] {
        guard let sequence = node.sequence else { throw error("expected a list") }
        return sequence.enumerated().map { ScenarioNode(node: $0.element, path: "\(path)[\($0.offset)]") }
    }

    func string() throws(ScenarioError) -> String {
        guard let scalar = node.scalar else { throw error("expected a text value") }
        return scalar.string
    }

    func int(in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        guard let value = Int(try string()) else { throw error("expected a whole number") }
        guard range.contains(value) else {
            throw error("\(value) is out of range \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    func bool() throws(ScenarioError) -> Bool {
        switch try string().lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw error("expected true or false")
        }
    }

    func date() throws(ScenarioError) -> Date {
        let text = try string()
        guard let date = RFC3339.parse(text) else {
            throw error(
                "expected an RFC 3339 time such as 2030-07-14T13:00:00Z or 2030-07-14T15:00:00+02:00, found \"\(text)\""
            )
        }
        return date
    }
}

/// RFC 3339 times, with or without fractional seconds.
package enum RFC3339 {
    /// Parses `2030-07-14T13:00:00Z`, `2030-07-14T15:00:00+02:00` or `2030-07-14T13:00:00.000Z`.
    /// - Returns: The instant, or `nil` when the text is not RFC 3339.
    package static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// Formats an instant as `2030-07-14T13:00:00Z`.
    package static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
