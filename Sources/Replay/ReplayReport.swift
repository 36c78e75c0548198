import Foundation

/// A delivery that got a status its scenario did not expect.
package struct StatusMismatch: Sendable, Equatable {
    /// The scenario's name.
    package var scenario: String
    /// The delivery's label, or `#<index>`.
    package var delivery: String
    /// Whether it was an injected duplicate send.
    package var isDuplicate: Bool
    /// The expected statuses as text, e.g. `401` or `2xx`.
    package var expected: String
    /// The status received, or the transport error.
    package var received: String
    /// The scenario's known issue, if any (the mismatch then does not fail the run).
    package var knownIssue: String?
}

/// What a replay did and found: counts of answers, and per reservation the final state in Seam compared with
/// the scenarios' expectations.
package struct ReplayReport: Sendable, Equatable {
    /// Requests sent (including injected duplicates).
    package var sent = 0
    /// 202 answers.
    package var accepted = 0
    /// 200 answers whose body says `duplicate`.
    package var duplicates = 0
    /// Other 2xx answers.
    package var ignored = 0
    /// Non-2xx answers, by status.
    package var rejected: [Int: Int] = [:]
    /// Requests without an HTTP answer.
    package var transportErrors = 0
    /// How many of the sends were duplicates injected by `--duplicate-rate`.
    package var injectedDuplicates = 0
    /// Deliveries whose status differed from the scenario's `expect_status` (or its default).
    package var statusMismatches: [StatusMismatch] = []
    /// One verdict per expected reservation.
    package var verdicts: [ReservationVerdict] = []
    /// Whether the Seam state was read at all (no expectations or no reader: `false`).
    package var stateChecked = false
    /// Seconds from the last answer until the state matched, or `nil` when it never did (or was not checked).
    package var convergenceSeconds: Double?
    /// Seconds the sending took.
    package var sendingSeconds: Double = 0
    /// A problem reading the Seam state, when the last read failed.
    package var stateError: String?

    /// Creates an empty report.
    package init() {}

    /// All rejected answers.
    package var rejectedTotal: Int { rejected.values.reduce(0, +) }

    /// Whether every status was as expected and every reservation holds its expected state.
    package var passed: Bool {
        statusMismatches.allSatisfy { $0.knownIssue != nil } && stateError == nil && verdicts.allSatisfy(\.isAcceptable)
    }

    /// Failures first, then known issues, then matches.
    private static func rank(of verdict: ReservationVerdict) -> Int {
        verdict.matches ? 2 : verdict.isAcceptable ? 1 : 0
    }

    /// Adds one answer to the counts.
    mutating func count(_ outcome: DeliveryOutcome, isDuplicate: Bool) {
        sent += 1
        if isDuplicate { injectedDuplicates += 1 }
        switch outcome {
        case .accepted: accepted += 1
        case .duplicate: duplicates += 1
        case .ignored: ignored += 1
        case .rejected(let status): rejected[status, default: 0] += 1
        case .transportError: transportErrors += 1
        }
    }

    /// The report as text for a person: counts, status mismatches, then each reservation (differences first).
    /// Contains no PIN, secret or signature.
    package func render() -> String {
        var lines: [String] = []
        let rejectedText =
            rejected.isEmpty
            ? "0"
            : "\(rejectedTotal) ("
                + rejected.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        lines.append("Replay: \(passed ? "PASS" : "FAIL")")
        lines.append(
            "  sent \(sent)" + (injectedDuplicates > 0 ? " (\(injectedDuplicates) injected duplicates)" : "")
                + ", accepted \(accepted), duplicates \(duplicates), ignored \(ignored), rejected \(rejectedText), transport errors \(transportErrors)"
        )
        lines.append(String(format: "  sending took %.2f s", sendingSeconds))
        if !statusMismatches.isEmpty {
            lines.append("Unexpected statuses (\(statusMismatches.count)):")
            for mismatch in statusMismatches {
                let mark = mismatch.knownIssue == nil ? "✗" : "~"
                lines.append(
                    "  \(mark) \(mismatch.scenario) › \(mismatch.delivery)\(mismatch.isDuplicate ? " (duplicate send)" : ""): expected \(mismatch.expected), got \(mismatch.received)"
                )
            }
        }
        if let stateError { lines.append("Seam state could not be read: \(stateError)") }
        if stateChecked {
            let matching = verdicts.filter(\.matches).count
            let converged =
                convergenceSeconds.map { String(format: "converged after %.2f s", $0) } ?? "did not converge"
            lines.append("Seam state: \(matching)/\(verdicts.count) reservations as expected, \(converged)")
            for verdict in verdicts.sorted(by: { (Self.rank(of: $0), $0.key) < (Self.rank(of: $1), $1.key) }) {
                let summary = verdict.observed.isEmpty ? "no group" : "group on \(verdict.observed.count) lock(s)"
                let mark = verdict.matches ? "✓" : verdict.isAcceptable ? "~" : "✗"
                lines.append("  \(mark) \(verdict.key): expected \(verdict.expected.group.rawValue), \(summary)")
                for difference in verdict.differences { lines.append("      - \(difference)") }
                if let issue = verdict.expected.knownIssue {
                    lines.append(
                        verdict.matches ? "      (known issue no longer seen: \(issue))" : "      known issue: \(issue)"
                    )
                }
            }
        } else if !verdicts.isEmpty {
            lines.append("Seam state: not checked")
        }
        return lines.joined(separator: "\n")
    }
}
