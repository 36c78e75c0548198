import Foundation
import Reconciler

/// A recorded series of PMS deliveries for one source and the state Seam must end up in.
///
/// Written as YAML in `Tests/Scenarios/<pms>/*.yaml`; see ``ScenarioParser`` for the format.
package struct Scenario: Sendable, Equatable {
    /// The scenario's name, shown in the report. No default.
    package var name: String
    /// The Latchkey source the deliveries are posted to (`/webhooks/{source}`); must be configured. No default.
    package var source: String
    /// Free text saying what the scenario checks. Default empty.
    package var description: String
    /// Whether the deliveries keep their written order when the run is shuffled (`order: strict`): for
    /// PMSs whose bodies carry no version, so the receipt order decides the result. Default `false`.
    package var keepsOrderWhenShuffled: Bool
    /// The deliveries, in the order the PMS sent them. At least one.
    package var deliveries: [Delivery]
    /// The final state in Seam, per reservation id of this source. May be empty (e.g. a bad-signature scenario
    /// that only checks statuses).
    package var expectations: [ReservationExpectation]
    /// The file the scenario was read from, when it was read from one (for messages and `body_file:`).
    package var file: String?
    /// A known shortcoming that makes this scenario fail today (`known_issue: text`): its differences are
    /// reported but do not fail the run. Default `nil`.
    package var knownIssue: String?

    /// Creates a scenario.
    package init(
        name: String, source: String, description: String = "", keepsOrderWhenShuffled: Bool = false,
        deliveries: [Delivery], expectations: [ReservationExpectation], file: String? = nil, knownIssue: String? = nil
    ) {
        self.name = name
        self.source = source
        self.description = description
        self.keepsOrderWhenShuffled = keepsOrderWhenShuffled
        self.deliveries = deliveries
        self.expectations = expectations
        self.file = file
        self.knownIssue = knownIssue
    }

    /// The expectations with the scenario's known issue carried onto each (for the report).
    package var expectationsWithKnownIssue: [ReservationExpectation] {
        expectations.map { expectation in
            var copy = expectation
            copy.knownIssue = copy.knownIssue ?? knownIssue
            return copy
        }
    }
}

/// One recorded webhook delivery.
package struct Delivery: Sendable, Equatable {
    /// A short label for reports, e.g. `created`. Default: `#<position>`.
    package var label: String?
    /// The body bytes to send.
    package var body: DeliveryBody
    /// Headers recorded with the delivery. When present they are sent as they are and the delivery is not
    /// signed again (a captured delivery replayed byte for byte). Default empty.
    package var headers: [(name: String, value: String)]
    /// How long to wait before sending this delivery, in milliseconds. Default 0.
    package var delayMilliseconds: Int
    /// How the harness signs the delivery. Default ``SignMode/valid``.
    package var sign: SignMode
    /// The statuses the delivery may get. Default: any 2xx for a validly signed delivery, 401 for the
    /// negative sign modes.
    package var expectedStatuses: [Int]?
    /// The index of an earlier delivery of the same scenario that this one re-sends byte for byte with the same
    /// delivery id, as a PMS retry does (`duplicate_of: 0`). Default `nil`.
    package var duplicateOf: Int?

    /// Creates a delivery.
    package init(
        label: String? = nil, body: DeliveryBody, headers: [(name: String, value: String)] = [],
        delayMilliseconds: Int = 0, sign: SignMode = .valid, expectedStatuses: [Int]? = nil, duplicateOf: Int? = nil
    ) {
        self.label = label
        self.body = body
        self.headers = headers
        self.delayMilliseconds = delayMilliseconds
        self.sign = sign
        self.expectedStatuses = expectedStatuses
        self.duplicateOf = duplicateOf
    }

    /// Compares deliveries, headers in order.
    package static func == (lhs: Delivery, rhs: Delivery) -> Bool {
        lhs.label == rhs.label && lhs.body == rhs.body && lhs.delayMilliseconds == rhs.delayMilliseconds
            && lhs.sign == rhs.sign && lhs.expectedStatuses == rhs.expectedStatuses
            && lhs.duplicateOf == rhs.duplicateOf
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    /// Whether `status` is what this delivery should get.
    package func accepts(status: Int) -> Bool {
        if let expectedStatuses { return expectedStatuses.contains(status) }
        return sign.isNegative ? status == 401 : (200..<300).contains(status)
    }

    /// The expectation as text for reports, e.g. `401` or `2xx`.
    package var expectedStatusText: String {
        if let expectedStatuses { return expectedStatuses.map(String.init).joined(separator: "|") }
        return sign.isNegative ? "401" : "2xx"
    }
}

/// The bytes of a delivery's body.
package enum DeliveryBody: Sendable, Equatable {
    /// A JSON value written inline in the scenario, sent as compact JSON.
    case json(JSONBody)
    /// Exact bytes (`body_file:` or `body_raw:`), sent unchanged; needed when recorded headers carry a
    /// signature over them.
    case raw([UInt8])

    /// The bytes to send.
    package var bytes: [UInt8] {
        switch self {
        case .json(let value): value.bytes
        case .raw(let bytes): bytes
        }
    }
}

/// How the harness authenticates one delivery.
package enum SignMode: String, Sendable, Equatable, CaseIterable {
    /// Signed as the PMS would, with the source's first configured secret.
    case valid
    /// No signature, credentials or token at all (`sign: false`).
    case unsigned = "false"
    /// Standard Webhooks only: a valid signature over a timestamp older than the source's tolerance (`sign: stale`).
    case stale
    /// Signed as the PMS would, but with a secret Latchkey does not know (`sign: wrong_secret`).
    case wrongSecret = "wrong_secret"
    /// Signed with another configured source's scheme and secret (`sign: other_source`).
    case otherSource = "other_source"

    /// Whether Latchkey must refuse the delivery.
    package var isNegative: Bool { self != .valid }
}

/// What Seam must hold for one reservation once Latchkey has converged.
package struct ReservationExpectation: Sendable, Equatable {
    /// Whether the reservation's linked group exists.
    package enum Group: String, Sendable, Equatable {
        /// A group of access codes exists.
        case present
        /// No access code of the reservation exists.
        case absent
    }

    /// The source of the reservation (the scenario's source). No default.
    package var source: String
    /// The PMS's reservation id. No default.
    package var reservationID: String
    /// Whether the group exists. No default.
    package var group: Group
    /// The Seam device ids the group must cover, exactly; `nil` to not check. Default `nil`.
    package var deviceIDs: [String]?
    /// The codes' `starts_at`; `nil` to not check. Default `nil`.
    package var startsAt: Date?
    /// The codes' `ends_at`; `nil` to not check. Default `nil`.
    package var endsAt: Date?
    /// Whether every code of the group must carry the same PIN. Default `false` (not checked).
    package var samePinOnAllLocks: Bool
    /// The scenario's known issue, if any: a difference is reported but does not fail the run. Default `nil`.
    package var knownIssue: String?

    /// Creates an expectation.
    package init(
        source: String, reservationID: String, group: Group, deviceIDs: [String]? = nil,
        startsAt: Date? = nil, endsAt: Date? = nil, samePinOnAllLocks: Bool = false, knownIssue: String? = nil
    ) {
        self.source = source
        self.reservationID = reservationID
        self.group = group
        self.deviceIDs = deviceIDs
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.samePinOnAllLocks = samePinOnAllLocks
        self.knownIssue = knownIssue
    }

    /// The key of the reservation.
    package var key: ReservationKey { ReservationKey(source: source, reservationID: reservationID) }
}

/// A scenario file that cannot be used, naming the file, the key and the line.
package struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, when known.
    package var file: String?
    /// The dotted key path, e.g. `deliveries[2].sign`.
    package var key: String
    /// The 1-based line, when known.
    package var line: Int?
    /// What is wrong and what to do.
    package var message: String

    /// Creates an error.
    package init(file: String?, key: String, line: Int?, message: String) {
        self.file = file
        self.key = key
        self.line = line
        self.message = message
    }

    /// `file:line: key: message`.
    package var description: String {
        var place = file ?? ""
        if let line { place += place.isEmpty ? "line \(line)" : ":\(line)" }
        let prefix = place.isEmpty ? "" : "\(place): "
        return key.isEmpty ? "\(prefix)\(message)" : "\(prefix)\(key): \(message)"
    }
}
