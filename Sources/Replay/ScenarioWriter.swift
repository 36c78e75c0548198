import Foundation
import Yams

/// Writes a scenario as YAML that ``ScenarioParser`` reads back to the same scenario.
package enum ScenarioWriter {
    /// The scenario as YAML text.
    /// - Throws: ``ReplayError`` when the YAML emitter fails.
    package static func yaml(_ scenario: Scenario) throws(ReplayError) -> String {
        var top: [(Node, Node)] = [
            (Node("name"), text(scenario.name)),
            (Node("source"), Node(scenario.source)),
        ]
        if !scenario.description.isEmpty { top.append((Node("description"), text(scenario.description))) }
        if scenario.keepsOrderWhenShuffled { top.append((Node("order"), Node("strict"))) }
        if let issue = scenario.knownIssue { top.append((Node("known_issue"), text(issue))) }
        top.append((Node("deliveries"), .sequence(.init(scenario.deliveries.map(node(for:))))))
        var expect: [(Node, Node)] = []
        for expectation in scenario.expectations {
            var fields: [(Node, Node)] = [(Node("group"), Node(expectation.group.rawValue))]
            if let devices = expectation.deviceIDs {
                fields.append((Node("devices"), .sequence(.init(devices.map { Node($0) }, Tag(.seq), .flow))))
            }
            if let startsAt = expectation.startsAt {
                fields.append((Node("starts_at"), text(RFC3339.format(startsAt))))
            }
            if let endsAt = expectation.endsAt { fields.append((Node("ends_at"), text(RFC3339.format(endsAt)))) }
            if expectation.samePinOnAllLocks { fields.append((Node("same_pin_on_all_locks"), Node("true"))) }
            expect.append((text(expectation.reservationID), .mapping(.init(fields))))
        }
        top.append((Node("expect"), .mapping(.init(expect))))
        do {
            return try Yams.serialize(node: .mapping(.init(top)), width: -1)
        } catch {
            throw ReplayError("cannot write the scenario as YAML: \(error)")
        }
    }

    private static func node(for delivery: Delivery) -> Node {
        var fields: [(Node, Node)] = []
        if let label = delivery.label { fields.append((Node("label"), text(label))) }
        if let original = delivery.duplicateOf {
            fields.append((Node("duplicate_of"), Node(String(original))))
        } else {
            switch delivery.body {
            case .json(let value): fields.append((Node("body"), value.yamlNode))
            case .raw(let bytes): fields.append((Node("body_raw"), text(String(decoding: bytes, as: UTF8.self))))
            }
            if !delivery.headers.isEmpty {
                fields.append(
                    (Node("headers"), .mapping(.init(delivery.headers.map { (Node($0.name), text($0.value)) }))))
            }
            if delivery.sign != .valid { fields.append((Node("sign"), Node(delivery.sign.rawValue))) }
        }
        if delivery.delayMilliseconds > 0 {
            fields.append((Node("delay_ms"), Node(String(delivery.delayMilliseconds))))
        }
        if let statuses = delivery.expectedStatuses {
            fields.append(
                (Node("expect_status"), .sequence(.init(statuses.map { Node(String($0)) }, Tag(.seq), .flow))))
        }
        return .mapping(.init(fields))
    }

    /// A double-quoted string, so YAML never reads it as a number, date or boolean.
    private static func text(_ value: String) -> Node {
        Node(value, Tag(.str), .doubleQuoted)
    }
}
