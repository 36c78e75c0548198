import Console
import Foundation
import Notifications
import Reconciler

/// What the console shows of the pre-arrival checks (the reservation's ``ArrivalCheck``) and of the notifications
/// (the dispatcher's outbox rows), turned into the console's own value types. Never a PIN or a backup code.
struct ConsoleAddOnsBridge: ConsoleAddOns {
    let reconciler: Reconciler
    /// The notification outbox, or nil without `notifications:` (then no notification lines).
    let dispatcher: NotificationDispatcher?

    func preArrivalCheck(source: String, reservationID: String) async -> PreArrivalCheck? {
        let key = ReservationKey(source: source, reservationID: reservationID)
        guard let check = await reconciler.reservation(key)?.arrivalCheck else { return nil }
        return PreArrivalCheck(at: check.checkedAt, tone: Self.tone(check.outcome), text: Self.describe(check))
    }

    func notifications(source: String, reservationID: String) async -> [NotificationLine] {
        guard let dispatcher else { return [] }
        let rows = await dispatcher.notifications(for: ReservationKey(source: source, reservationID: reservationID))
        return rows.reversed().flatMap(Self.lines)
    }

    func failedNotifications() async -> [NotificationLine] {
        guard let dispatcher else { return [] }
        return await dispatcher.troubled().reversed().flatMap(Self.lines).filter { !$0.succeeded }
    }

    /// One line per endpoint that the row goes to.
    static func lines(_ row: StoredNotification) -> [NotificationLine] {
        row.deliveries.sorted { $0.key < $1.key }.map { endpoint, delivery in
            let state =
                switch delivery.state {
                case .delivered: "delivered"
                case .expired: "given up after \(delivery.attempts) attempts"
                case .pending where delivery.attempts > 0: "retrying (\(delivery.attempts) attempts)"
                case .pending: "waiting"
                }
            let why = delivery.lastError.map { ", last answer \($0)" } ?? ""
            return NotificationLine(
                at: delivery.finishedAt ?? row.occurredAt, channel: endpoint,
                text: "\(row.type.rawValue): \(state)\(why)", succeeded: delivery.state == .delivered,
                reservation: row.reservation.description)
        }
    }

    static func tone(_ outcome: ArrivalCheck.Outcome) -> Tone {
        switch outcome {
        case .passed, .repaired: .ok
        case .repairing: .pending
        case .failed: .attention
        }
    }

    /// "Passed 48 h before arrival", or what failed on which lock and what was done.
    static func describe(_ check: ArrivalCheck) -> String {
        let hours = Int((check.leadTime / 3_600).rounded())
        let head = "\(check.outcome.rawValue.capitalized), \(hours) h before arrival"
        let findings = check.locks.filter { !$0.problems.isEmpty }.map { lock in
            let problems = lock.problems.map { $0.rawValue.replacingOccurrences(of: "_", with: " ") }
            let action =
                switch lock.action {
                case .none: ""
                case .repair: ", repairing"
                case .wait: ", waiting for the lock"
                case .backupCode: lock.backupCode == nil ? ", pulling a backup code" : ", backup code pulled"
                case .noBackup: ", no backup code available"
                }
            return "\(lock.deviceID): \(problems.joined(separator: ", "))\(action)"
        }
        return findings.isEmpty ? head : "\(head). \(findings.joined(separator: "; "))"
    }
}
