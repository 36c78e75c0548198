import Bookings
import Foundation
import Reconciler

/// The four events an endpoint can receive, by their Standard Webhooks `type`.
package enum NotificationType: String, Sendable, Codable, Hashable, CaseIterable {
    /// The group is on every lock of the property (set, or scheduled on it).
    case ready = "access.ready"
    /// The window moved while the group was ready; the PIN is unchanged.
    case changed = "access.changed"
    /// A lock failed to take the code, or a Seam call ended in a dead letter.
    case failed = "access.failed"
    /// The group was removed: cancelled, moved away, or the stay is over.
    case revoked = "access.revoked"
}

/// One event derived from a committed change of a reservation's record.
package struct AccessEvent: Sendable, Hashable {
    /// What happened.
    package var type: NotificationType
    /// Why, for `access.failed` and `access.revoked` (`cancelled`, `moved`, `stay_over`, a lock or dead letter
    /// message); never a PIN.
    package var reason: String?
    /// The locks the event is about (`access.failed`): empty for the whole group.
    package var deviceIDs: [String]
    /// A backup code pulled for a failed lock (`access.failed` of a pre-arrival check), sent only to endpoints
    /// with `include_pin`.
    package var backupCode: AccessPIN?

    /// Creates an event.
    package init(type: NotificationType, reason: String? = nil, deviceIDs: [String] = [], backupCode: AccessPIN? = nil)
    {
        self.type = type
        self.reason = reason
        self.deviceIDs = deviceIDs
        self.backupCode = backupCode
    }
}

/// The pure rules that turn a reservation's record before and after one committed step into `access.*` events.
///
/// Every rule is here and nowhere else; each compares the two durable states, so an event is derived exactly once
/// per transition, whatever step (a Seam call's result, a Seam webhook, a read-back, a booking) made it. A rule
/// that needs a new field of ``ReservationRecord`` (a pre-arrival check's result) is one more `if` in
/// ``failures(before:after:deadLetter:)`` or ``derive(before:after:deadLetter:now:)``.
package enum AccessEvents {
    /// The events of one transition, in the order they are sent: failures first, then revoked, ready, changed.
    /// - Parameters:
    ///   - before: The record as last committed, or `nil` when there was none.
    ///   - after: The record being committed, or `nil` when it is deleted (forgetting a past stay: no event).
    ///   - deadLetter: The dead letter written in the same transaction, if any (its message is the reason).
    ///   - now: The instant of the commit (a stay is over when every code's window has ended).
    /// - Returns: The events, possibly none.
    package static func derive(
        before: ReservationRecord?, after: ReservationRecord?, deadLetter: DeadLetter? = nil, now: Date
    ) -> [AccessEvent] {
        guard let after else { return [] }
        var events = failures(before: before, after: after, deadLetter: deadLetter)
        let wasLive = before?.applied?.hasLiveCode ?? false
        let isLive = after.applied?.hasLiveCode ?? false
        if wasLive, !isLive, let reason = revocation(before: before, after: after, now: now) {
            events.append(AccessEvent(type: .revoked, reason: reason))
        }
        let wasReady = isReady(before)
        let ready = isReady(after)
        if ready, !wasReady || before?.applied?.pin != after.applied?.pin {
            // Newly on every lock, or on every lock with another PIN (the guest needs the new one).
            events.append(AccessEvent(type: .ready))
        } else if ready, wasReady, let window = window(of: after), window != self.window(of: before) {
            events.append(AccessEvent(type: .changed))
        }
        return events
    }

    /// `access.failed`: a lock newly failed to take its code (unless the latest pre-arrival check already names it);
    /// a step newly parked in a dead letter; a pre-arrival check failed, or a backup code was pulled.
    static func failures(before: ReservationRecord?, after: ReservationRecord, deadLetter: DeadLetter?)
        -> [AccessEvent]
    {
        var events: [AccessEvent] = []
        let failedBefore = Set(before?.applied?.codes.filter { $0.status == .failedToSet }.map(\.deviceID) ?? [])
        // A lock the latest pre-arrival check already names is being handled (repaired, then a backup code):
        // each failed repair of it is not news.
        let known = Set(after.arrivalCheck?.locks.filter { !$0.problems.isEmpty }.map(\.deviceID) ?? [])
        let failedNow = after.applied?.codes.filter {
            $0.status == .failedToSet && !failedBefore.contains($0.deviceID) && !known.contains($0.deviceID)
        }
        if let failedNow, !failedNow.isEmpty {
            events.append(
                AccessEvent(
                    type: .failed, reason: "failed_to_set_on_device", deviceIDs: failedNow.map(\.deviceID)))
        }
        if let letter = after.blockedBy, letter != before?.blockedBy {
            let detail = deadLetter.map { "\($0.operation): \($0.message)" } ?? "dead letter \(letter)"
            events.append(AccessEvent(type: .failed, reason: "dead_letter: \(detail)"))
        }
        if after.desired?.status == .confirmed {
            events += arrivalCheckFailures(before: before?.arrivalCheck, after: after.arrivalCheck)
        }
        return events
    }

    /// `access.failed` of a pre-arrival check: once when a check of an arrival first fails (naming the failing
    /// locks and their problems), and once per backup code newly pulled for a lock (carrying that code).
    static func arrivalCheckFailures(before: ArrivalCheck?, after: ArrivalCheck?) -> [AccessEvent] {
        guard let after, after.outcome == .failed else { return [] }
        let sameArrival = before?.accessStartsAt == after.accessStartsAt
        var events: [AccessEvent] = []
        let failing = after.locks.filter { !$0.problems.isEmpty }
        if !(sameArrival && before?.outcome == .failed), !failing.isEmpty {
            let detail = failing.map { lock in
                "\(lock.deviceID) \(lock.problems.map(\.rawValue).joined(separator: ","))"
            }
            events.append(
                AccessEvent(
                    type: .failed, reason: "pre_arrival_check: \(detail.joined(separator: "; "))",
                    deviceIDs: failing.map(\.deviceID)))
        }
        let pulledBefore = Set(sameArrival ? (before?.backupCodes.map(\.deviceID) ?? []) : [])
        for backup in after.backupCodes where !pulledBefore.contains(backup.deviceID) {
            events.append(
                AccessEvent(
                    type: .failed, reason: "pre_arrival_check: backup code pulled", deviceIDs: [backup.deviceID],
                    backupCode: backup.code))
        }
        return events
    }

    /// Why a group that had live codes has none now, or `nil` when it is not a revocation (a lock's code being
    /// repaired while the booking still wants it).
    static func revocation(before: ReservationRecord?, after: ReservationRecord, now: Date) -> String? {
        if let status = after.desired?.status, status != .confirmed { return status.rawValue }
        let windows =
            (before?.applied?.codes ?? []).map(\.window.endsAt)
            + (after.applied?.codes ?? []).map(
                \.window.endsAt)
        if let end = windows.max(), end <= now { return "stay_over" }
        if after.applied == nil { return "moved" }
        return nil
    }

    /// Whether the group is on every one of its locks: each code present and set (or scheduled) on its lock.
    /// - Parameter record: A record, or `nil`.
    package static func isReady(_ record: ReservationRecord?) -> Bool {
        guard let codes = record?.applied?.codes, !codes.isEmpty else { return false }
        return codes.allSatisfy { $0.isLive && isOnLock($0.status) }
    }

    /// Whether a code with this status is on its lock (or scheduled on it).
    static func isOnLock(_ status: LockCodeStatus) -> Bool {
        status == .set || status == .scheduled
    }

    /// The group's window when every code has the same one, else `nil` (a move under way).
    package static func window(of record: ReservationRecord?) -> CodeWindow? {
        guard let codes = record?.applied?.codes, let first = codes.first?.window,
            codes.allSatisfy({ $0.window == first })
        else { return nil }
        return first
    }
}
