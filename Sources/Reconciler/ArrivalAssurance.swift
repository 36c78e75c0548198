import Bookings
import Foundation
import Logging

// Pre-arrival assurance: before a guest arrives, every lock's code is read back from Seam (never taken from the
// record) and checked; a problem is repaired on that lock alone with the group's PIN, and a lock still failing at
// the backup point gets a code from its backup pool.

/// When the pre-arrival checks run, measured back from the moment the codes start working (check-in minus the
/// property's early buffer).
package struct ArrivalAssuranceSettings: Sendable, Hashable {
    /// The check points, in seconds before the codes start; each one entered runs a check. Default 48 h and 2 h
    /// (172,800 and 7,200). Empty turns the checks off.
    package var checkLeadTimes: [TimeInterval]
    /// The backup point, in seconds before the codes start: a check from here on pulls a backup code for every lock
    /// still failing (and is itself a check point). Default 1 h (3,600); 0 pulls none.
    package var backupCodeLeadTime: TimeInterval
    /// How long after a check that found problems (and repaired them) it runs again, in seconds. Default 600.
    package var recheckAfter: TimeInterval

    /// Creates settings with the documented defaults.
    package init(
        checkLeadTimes: [TimeInterval] = [48 * 3600, 2 * 3600], backupCodeLeadTime: TimeInterval = 3600,
        recheckAfter: TimeInterval = 600
    ) {
        self.checkLeadTimes = checkLeadTimes.filter { $0 > 0 }
        self.backupCodeLeadTime = max(0, backupCodeLeadTime)
        self.recheckAfter = max(1, recheckAfter)
    }

    /// Whether any check runs at all.
    package var isEnabled: Bool { !checkLeadTimes.isEmpty }
}

/// The result of one pre-arrival check of a reservation's codes, stored in its record
/// (``ReservationRecord/arrivalCheck``) and shown by the admin API. Only the latest check is kept; backup codes
/// pulled for the same arrival are carried from one check to the next.
///
/// A check whose ``outcome`` is ``Outcome/failed`` means the guest may not get in with the group's PIN on at least
/// one lock: ``LockFinding/backupCode`` then holds the backup code pulled for it, if one could be pulled.
package struct ArrivalCheck: Sendable, Codable, Hashable {
    /// What the check concluded.
    package enum Outcome: String, Sendable, Codable, Hashable, CaseIterable {
        /// Every lock holds the group's PIN, set or scheduled on the device, no errors, the right window.
        case passed
        /// Problems were found and repairs are under way; the check runs again after
        /// ``ArrivalAssuranceSettings/recheckAfter``.
        case repairing
        /// An earlier check of this arrival found problems; this one found none.
        case repaired
        /// At the backup point a lock was still failing (a backup code was pulled where the lock offers one), or
        /// the reservation's work is parked in a dead letter.
        case failed
    }

    /// When the check read the codes back (the reconciler's clock).
    package var checkedAt: Date
    /// The check point that triggered it, in seconds before the codes start (e.g. 172,800 for 48 h).
    package var leadTime: TimeInterval
    /// When the codes start working (check-in minus the early buffer): the arrival the check is for.
    package var accessStartsAt: Date
    /// What it concluded.
    package var outcome: Outcome
    /// One entry per lock of the property, in config order.
    package var locks: [LockFinding]

    /// Creates a value.
    package init(
        checkedAt: Date, leadTime: TimeInterval, accessStartsAt: Date, outcome: Outcome, locks: [LockFinding]
    ) {
        self.checkedAt = checkedAt
        self.leadTime = leadTime
        self.accessStartsAt = accessStartsAt
        self.outcome = outcome
        self.locks = locks
    }

    /// The encoder of the stored form (sorted keys, as every record).
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    /// The backup codes pulled for this arrival, one per lock at most.
    package var backupCodes: [BackupAccessCode] { locks.compactMap(\.backupCode) }
}

/// What a pre-arrival check found on one lock, and what was done about it.
package struct LockFinding: Sendable, Codable, Hashable {
    /// A problem with the lock's code.
    package enum Problem: String, Sendable, Codable, Hashable, CaseIterable {
        /// No code carrying the reservation's marker on the lock.
        case missing
        /// Neither `set` nor `is_scheduled_on_device`: the lock does not hold it (yet).
        case notOnDevice = "not_on_device"
        /// Seam reports errors on it (``LockFinding/errorCodes``).
        case errors
        /// Its PIN is not the group's (changed at the lock).
        case wrongPIN = "wrong_pin"
        /// Its window is not the booking's.
        case wrongWindow = "wrong_window"
    }

    /// What was done.
    package enum Action: String, Sendable, Codable, Hashable, CaseIterable {
        /// Nothing was wrong.
        case none
        /// Re-created (or moved) on this lock alone with the group's PIN, inside the group.
        case repair
        /// Nothing to repair yet (the lock is still taking the code); checked again later.
        case wait
        /// A backup code is pulled (or was) from the lock's backup pool.
        case backupCode = "backup_code"
        /// Failing at the backup point, and the lock offers no backup code (``LockFinding/backupUnavailable``).
        case noBackup = "no_backup"
    }

    /// The lock.
    package var deviceID: String
    /// The code read back, or `nil` when there was none.
    package var accessCodeID: String?
    /// What is wrong; empty when nothing.
    package var problems: [Problem]
    /// Seam's `error_code`s on the code (e.g. `failed_to_set_on_device`, `device_offline`).
    package var errorCodes: [String]
    /// What was done.
    package var action: Action
    /// The backup code pulled for this lock, once pulled (its PIN is redacted in every description).
    package var backupCode: BackupAccessCode?
    /// Why no backup code could be pulled, when none could.
    package var backupUnavailable: String?

    /// Creates a value.
    package init(
        deviceID: String, accessCodeID: String?, problems: [Problem], errorCodes: [String] = [], action: Action,
        backupCode: BackupAccessCode? = nil, backupUnavailable: String? = nil
    ) {
        self.deviceID = deviceID
        self.accessCodeID = accessCodeID
        self.problems = problems
        self.errorCodes = errorCodes
        self.action = action
        self.backupCode = backupCode
        self.backupUnavailable = backupUnavailable
    }

    /// Whether a backup code is to be pulled for this lock and has not been yet.
    var wantsBackup: Bool { action == .backupCode && backupCode == nil && backupUnavailable == nil }
}

/// Counts of the pre-arrival checks since start, for `/metrics`.
package struct ArrivalCheckCounts: Sendable, Hashable {
    /// Checks run (each one reads every lock back).
    package var checks = 0
    /// Checks by outcome.
    package var outcomes: [ArrivalCheck.Outcome: Int] = [:]
    /// Locks given a repair by a check.
    package var repairs = 0
    /// Backup codes pulled.
    package var backupCodesPulled = 0

    /// Creates zero counts.
    package init() {}
}

extension Reconciler {
    // MARK: - Scheduling checks

    /// Starts a check for every reservation whose arrival entered a check point (or the backup point) since its
    /// last check, or whose last check is due again: the worker reads its codes back from Seam and evaluates
    /// them (``ArrivalCheck``). A dead-lettered reservation is not read: its check fails at once.
    /// Called periodically by the gateway; cheap when nothing is due (one pass over the records).
    /// - Returns: How many checks were started.
    /// - Throws: The store's errors (recording a dead-lettered reservation's failed check).
    @discardableResult
    package func scheduleArrivalChecks() async throws -> Int {
        guard configuration.arrival.isEnabled, !stopped else { return 0 }
        let now = clock.now()
        var started = 0
        // No sorting: one pass over every record, every `check_every_seconds`.
        for key in Array(records.keys) {
            guard arrivalChecksDue[key] == nil, let record = records[key], record.desired?.status == .confirmed,
                let (lead, spec) = arrivalCheckDue(record, now)
            else { continue }
            started += 1
            if record.blockedBy != nil {
                records[key]?.arrivalCheck = ArrivalCheck(
                    checkedAt: now, leadTime: lead, accessStartsAt: spec.window.startsAt, outcome: .failed,
                    locks: spec.deviceIDs.map {
                        LockFinding(deviceID: $0, accessCodeID: nil, problems: [], action: .none)
                    })
                count(records[key]?.arrivalCheck)
                logger.error(
                    "pre-arrival check failed: the reservation's work is parked in a dead letter; retry it",
                    metadata: ["reservation": "\(key)", "deadLetter": "\(record.blockedBy ?? "-")"])
                try await persistRecord(key)
                continue
            }
            arrivalChecksDue[key] = lead
            markUncertain(key, because: "pre-arrival check \(Self.hours(lead)) before arrival")
            schedule(key)
        }
        return started
    }

    /// The check point due for `record` at `now` and its group, or `nil` when no check is due.
    func arrivalCheckDue(_ record: ReservationRecord, _ now: Date) -> (TimeInterval, GroupSpec)? {
        guard case .group(let spec) = desiredAccess(record) else { return nil }
        let start = spec.window.startsAt
        guard now < start else { return nil }
        let settings = configuration.arrival
        let points = settings.checkLeadTimes + (settings.backupCodeLeadTime > 0 ? [settings.backupCodeLeadTime] : [])
        guard let lead = points.filter({ now >= start.addingTimeInterval(-$0) }).min() else { return nil }
        guard let last = record.arrivalCheck, last.accessStartsAt == start,
            last.checkedAt >= start.addingTimeInterval(-lead)
        else { return (lead, spec) }
        // Checked since this point was entered: again only when repairs were under way.
        guard last.outcome == .repairing, now >= last.checkedAt.addingTimeInterval(settings.recheckAfter) else {
            return nil
        }
        return (lead, spec)
    }

    /// The pre-arrival counts since start.
    package var arrivalCheckCounts: ArrivalCheckCounts { arrivalCounts }

    // MARK: - Evaluating a read-back

    /// Evaluates what a read-back found for a reservation whose check is due, and stores the result in `record`:
    /// each lock's problems, the repairs the planner will make (a failing code marked ``LockCodeStatus/failedToSet``
    /// so it is re-created with the same PIN; missing and altered codes the read-back marked already), and, from
    /// the backup point on, the backup codes to pull for locks still failing.
    func evaluateArrival(
        _ key: ReservationKey, lead: TimeInterval, listed: [String: ExistingCode], record: inout ReservationRecord
    ) {
        guard case .group(let spec) = desiredAccess(record) else { return }
        let now = clock.now()
        let start = spec.window.startsAt
        let pastBackup =
            configuration.arrival.backupCodeLeadTime > 0
            && now >= start.addingTimeInterval(-configuration.arrival.backupCodeLeadTime)
        let previous = record.arrivalCheck?.accessStartsAt == start ? record.arrivalCheck : nil
        var locks: [LockFinding] = []
        for device in spec.deviceIDs {
            let code = listed[device]
            let index = record.applied?.codes.firstIndex { $0.deviceID == device }
            let applied = index.flatMap { record.applied?.codes[$0] }
            var problems: [LockFinding.Problem] = []
            if let code {
                if !code.errors.isEmpty { problems.append(.errors) }
                if code.status != .set && !code.isScheduledOnDevice { problems.append(.notOnDevice) }
                if applied?.status == .altered { problems.append(.wrongPIN) }
                if code.startsAt != spec.window.startsAt || code.endsAt != spec.window.endsAt {
                    problems.append(.wrongWindow)
                }
            } else {
                problems.append(.missing)
            }
            var finding = LockFinding(
                deviceID: device, accessCodeID: code?.accessCodeID, problems: problems, errorCodes: code?.errors ?? [],
                action: problems.isEmpty ? .none : .repair,
                backupCode: previous?.locks.first { $0.deviceID == device }?.backupCode)
            let failing = problems.contains(.errors) || problems.contains(.notOnDevice)
            if let code, let index, failing {
                if pastBackup {
                    // Failing at the backup point: the guest gets a backup code; no more re-creating meanwhile.
                    if finding.backupCode != nil || code.isBackupAccessCodeAvailable
                        || code.pulledBackupAccessCodeID != nil
                    {
                        finding.action = .backupCode
                    } else {
                        finding.action = .noBackup
                        finding.backupUnavailable = "the lock offers no backup access code for this code"
                    }
                    if record.applied?.codes[index].status == .failedToSet {
                        record.applied?.codes[index].status = .unconfirmed
                    }
                } else if problems.contains(.errors) {
                    record.applied?.codes[index].status = .failedToSet
                } else if problems == [.notOnDevice] {
                    finding.action = .wait
                }
            }
            locks.append(finding)
        }
        let outcome: ArrivalCheck.Outcome
        if locks.allSatisfy({ $0.problems.isEmpty }) {
            // Repaired when the last check of this arrival still had work under way (or had failed).
            let wasFixing = previous.map { $0.outcome == .repairing || $0.outcome == .failed } ?? false
            outcome = wasFixing ? .repaired : .passed
        } else if locks.contains(where: { $0.action == .backupCode || $0.action == .noBackup }) {
            outcome = .failed
        } else {
            outcome = .repairing
        }
        let check = ArrivalCheck(checkedAt: now, leadTime: lead, accessStartsAt: start, outcome: outcome, locks: locks)
        record.arrivalCheck = check
        arrivalCounts.repairs += locks.count { $0.action == .repair }
        count(check)
        let level: Logger.Level = outcome == .failed ? .error : outcome == .repairing ? .warning : .info
        logger.log(
            level: level, "pre-arrival check \(outcome.rawValue)",
            metadata: [
                "reservation": "\(key)", "lead": "\(Self.hours(lead))",
                "problems":
                    "\(locks.filter { !$0.problems.isEmpty }.map { "\($0.deviceID): \($0.problems.map(\.rawValue).joined(separator: "+"))" }.joined(separator: ", "))",
            ])
    }

    func count(_ check: ArrivalCheck?) {
        guard let check else { return }
        arrivalCounts.checks += 1
        arrivalCounts.outcomes[check.outcome, default: 0] += 1
    }

    // MARK: - Pulling backup codes

    /// The backup-code pull to make for `record`, or `nil`: only while the booking still wants the group, on that
    /// lock, for the arrival the check was about (a cancelled or moved guest gets no backup code).
    func backupPull(for record: ReservationRecord) -> OutboxIntent.Operation? {
        guard let check = record.arrivalCheck,
            let finding = check.locks.first(where: {
                $0.wantsBackup && wantsArrival(check, on: $0.deviceID, record: record)
            }),
            let id = finding.accessCodeID
        else { return nil }
        return .pullBackupCode(deviceID: finding.deviceID, accessCodeID: id)
    }

    /// The delete of a backup code pulled for an arrival the booking no longer has on that lock (cancelled, moved
    /// to other locks or another day), or `nil`. Seam keeps a pulled backup code working until the original code
    /// ends, so it is deleted first: a former guest must never keep access.
    func strayBackupCodeDelete(for record: ReservationRecord) -> OutboxIntent.Operation? {
        guard let check = record.arrivalCheck,
            let stray = check.locks.first(where: {
                $0.backupCode != nil && !wantsArrival(check, on: $0.deviceID, record: record)
            }),
            let backup = stray.backupCode
        else { return nil }
        return .deleteCode(deviceID: stray.deviceID, accessCodeID: backup.accessCodeID, forRepair: false)
    }

    /// Whether the booking still wants its group on `deviceID` for the arrival `check` was about.
    func wantsArrival(_ check: ArrivalCheck, on deviceID: String, record: ReservationRecord) -> Bool {
        guard case .group(let spec) = desiredAccess(record) else { return false }
        return spec.window.startsAt == check.accessStartsAt && spec.deviceIDs.contains(deviceID)
    }

    /// Forgets a backup code once deleted (see ``strayBackupCodeDelete(for:)``); nothing when none has that id.
    func forgetBackupCode(_ accessCodeID: String, for key: ReservationKey) {
        guard let locks = records[key]?.arrivalCheck?.locks,
            let index = locks.firstIndex(where: { $0.backupCode?.accessCodeID == accessCodeID })
        else { return }
        records[key]?.arrivalCheck?.locks[index].backupCode = nil
        records[key]?.arrivalCheck?.locks[index].backupUnavailable = "deleted: the booking no longer wants this lock"
    }

    /// Pulls a backup code and records it in the reservation's check. A lock that offers none (a permanent
    /// failure) is recorded as such, not parked: the check has failed either way, and the failure is visible.
    func pullBackupCode(deviceID: String, accessCodeID: String, for key: ReservationKey) async throws {
        try await pace(.create, [deviceID])
        let result: Result<BackupAccessCode, AccessCodeServiceError>
        do {
            result = .success(try await service.pullBackupCode(accessCodeID: accessCodeID))
        } catch AccessCodeServiceError.permanent(let message) {
            result = .failure(.permanent(message: message))
        }
        guard let index = records[key]?.arrivalCheck?.locks.firstIndex(where: { $0.deviceID == deviceID }) else {
            return
        }
        switch result {
        case .success(let backup):
            records[key]?.arrivalCheck?.locks[index].backupCode = backup
            arrivalCounts.backupCodesPulled += 1
            logger.error(
                "backup access code pulled for a lock that failed to take the group's code before arrival",
                metadata: ["reservation": "\(key)", "device": "\(deviceID)", "backup": "\(backup.accessCodeID)"])
        case .failure(let error):
            records[key]?.arrivalCheck?.locks[index].action = .noBackup
            records[key]?.arrivalCheck?.locks[index].backupUnavailable = error.message
            logger.error(
                "no backup access code could be pulled for a failing lock",
                metadata: ["reservation": "\(key)", "device": "\(deviceID)", "error": "\(error.message)"])
        }
    }

    /// `48 h`, `90 min`: a lead time for logs.
    static func hours(_ seconds: TimeInterval) -> String {
        seconds >= 3600 && seconds.truncatingRemainder(dividingBy: 3600) == 0
            ? "\(Int(seconds / 3600)) h" : "\(Int(seconds / 60)) min"
    }
}
