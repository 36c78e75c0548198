import Foundation
import Reconciler

/// The outcome for one reservation: what was expected, what Seam holds, and every difference.
package struct ReservationVerdict: Sendable, Equatable {
    /// The reservation.
    package var key: ReservationKey
    /// What the scenario expects.
    package var expected: ReservationExpectation
    /// The reservation's live codes (those not being removed), by device id.
    package var observed: [ObservedAccessCode]
    /// What differs, one line each, empty when the state matches. Never contains a PIN.
    package var differences: [String]

    /// Whether Seam holds what was expected.
    package var matches: Bool { differences.isEmpty }
    /// Whether the run passes on this reservation: it matches, or its scenario declares a known issue.
    package var isAcceptable: Bool { matches || expected.knownIssue != nil }
}

/// Compares the expected end state of reservations with the access codes Seam holds.
///
/// A code belongs to a reservation when its name carries the reservation's marker (see ``ReservationMarker``).
/// Codes in `removing` state are on their way out and count as gone.
package enum StateComparison {
    /// One verdict per expectation, in the order given.
    ///
    /// - Parameters:
    ///   - expectations: The expected states.
    ///   - codes: Every access code Seam holds on the devices of interest.
    /// - Returns: The verdicts.
    package static func compare(_ expectations: [ReservationExpectation], with codes: [ObservedAccessCode])
        -> [ReservationVerdict]
    {
        let live = codes.filter { !$0.isBeingRemoved }
        return expectations.map { expected in
            let marker = ReservationMarker.marker(source: expected.source, reservationID: expected.reservationID)
            let mine = live.filter { ($0.name ?? "").contains(marker) }.sorted {
                ($0.deviceID, $0.id) < ($1.deviceID, $1.id)
            }
            return ReservationVerdict(
                key: expected.key, expected: expected, observed: mine, differences: differences(expected, mine))
        }
    }

    private static func differences(_ expected: ReservationExpectation, _ codes: [ObservedAccessCode]) -> [String] {
        switch expected.group {
        case .absent:
            guard !codes.isEmpty else { return [] }
            return ["expected no group, found \(codes.count) code(s) on \(devicesText(codes.map(\.deviceID)))"]
        case .present:
            guard !codes.isEmpty else { return ["expected a group, found no code"] }
        }
        var diffs: [String] = []
        let devices = codes.map(\.deviceID)
        if let wanted = expected.deviceIDs, Set(wanted) != Set(devices) || devices.count != Set(devices).count {
            let missing = Set(wanted).subtracting(devices).sorted()
            let extra = Set(devices).subtracting(wanted).sorted()
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing on \(missing.joined(separator: ", "))") }
            if !extra.isEmpty { parts.append("also on \(extra.joined(separator: ", "))") }
            let repeated = Dictionary(grouping: devices, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            if !repeated.isEmpty { parts.append("more than one code on \(repeated.joined(separator: ", "))") }
            diffs.append(
                "devices: expected \(devicesText(wanted)), found \(devicesText(devices))"
                    + (parts.isEmpty ? "" : " (\(parts.joined(separator: "; ")))"))
        }
        if let startsAt = expected.startsAt {
            let wrong = codes.filter { $0.startsAt != startsAt }
            if !wrong.isEmpty {
                diffs.append(
                    "starts_at: expected \(RFC3339.format(startsAt)), found \(timesText(wrong.map(\.startsAt)))")
            }
        }
        if let endsAt = expected.endsAt {
            let wrong = codes.filter { $0.endsAt != endsAt }
            if !wrong.isEmpty {
                diffs.append("ends_at: expected \(RFC3339.format(endsAt)), found \(timesText(wrong.map(\.endsAt)))")
            }
        }
        if expected.samePinOnAllLocks {
            let pins = Set(codes.map { $0.code ?? "" })
            if pins.contains("") {
                diffs.append(
                    "same PIN on all locks: \(codes.filter { ($0.code ?? "").isEmpty }.count) code(s) have no PIN yet")
            } else if pins.count > 1 {
                diffs.append("same PIN on all locks: found \(pins.count) different PINs across \(codes.count) locks")
            }
            let keys = Set(codes.map { $0.commonCodeKey ?? "" })
            if keys.count > 1 || keys.contains("") {
                diffs.append("linked group: the codes do not share one common_code_key")
            }
        }
        return diffs
    }

    private static func devicesText(_ ids: [String]) -> String {
        ids.isEmpty ? "none" : "[" + ids.sorted().joined(separator: ", ") + "]"
    }

    private static func timesText(_ times: [Date?]) -> String {
        Set(times.map { $0.map(RFC3339.format) ?? "none" }).sorted().joined(separator: ", ")
    }
}

/// The marker Latchkey appends to the name of each code of a reservation, from the reconciler's
/// `CodeNaming.marker(for:)`: `[lk:<source>:<reservation-id>]`, or `[lk:#<16 hex digits>]` for long ids or ids
/// with other characters than `A–Z a–z 0–9 . _ -`.
package enum ReservationMarker {
    /// The marker of a reservation.
    package static func marker(source: String, reservationID: String) -> String {
        CodeNaming.marker(for: .init(source: source, reservationID: reservationID))
    }

    /// The readable reservation of a code name (`[lk:<source>:<id>]`), or `nil` for a hashed or missing marker.
    package static func reservation(inName name: String) -> ReservationKey? {
        guard let start = name.range(of: "[lk:", options: .backwards),
            let end = name[start.upperBound...].firstIndex(of: "]")
        else { return nil }
        let inner = name[start.upperBound..<end]
        guard !inner.hasPrefix("#"), let colon = inner.firstIndex(of: ":") else { return nil }
        return ReservationKey(
            source: String(inner[..<colon]), reservationID: String(inner[inner.index(after: colon)...]))
    }
}
