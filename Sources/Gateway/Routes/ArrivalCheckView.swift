import Foundation
import Reconciler

/// A reservation's latest pre-arrival check (`arrival_check` of `GET /v1/reservations/{source}/{id}`).
struct ArrivalCheckView: Encodable {
    /// One lock's finding.
    struct Lock: Encodable {
        var deviceID: String
        var accessCodeID: String?
        var problems: [String]
        var errorCodes: [String]
        var action: String
        var backupCode: BackupCode?
        var backupUnavailable: String?

        enum CodingKeys: String, CodingKey {
            case deviceID = "device_id"
            case accessCodeID = "access_code_id"
            case problems
            case errorCodes = "error_codes"
            case action
            case backupCode = "backup_code"
            case backupUnavailable = "backup_unavailable"
        }
    }

    /// A backup code pulled for a lock; its PIN only with `?include_pin=true`.
    struct BackupCode: Encodable {
        var accessCodeID: String
        var pin: String?
        var startsAt: String?
        var endsAt: String?

        enum CodingKeys: String, CodingKey {
            case accessCodeID = "access_code_id"
            case pin
            case startsAt = "starts_at"
            case endsAt = "ends_at"
        }
    }

    var checkedAt: String
    var leadSeconds: Int
    var accessStartsAt: String
    var outcome: String
    var locks: [Lock]
    var backupCodesPulled: Int

    enum CodingKeys: String, CodingKey {
        case checkedAt = "checked_at"
        case leadSeconds = "lead_seconds"
        case accessStartsAt = "access_starts_at"
        case outcome, locks
        case backupCodesPulled = "backup_codes_pulled"
    }

    init(_ check: ArrivalCheck, includePIN: Bool) {
        checkedAt = check.checkedAt.ISO8601Format()
        leadSeconds = Int(check.leadTime)
        accessStartsAt = check.accessStartsAt.ISO8601Format()
        outcome = check.outcome.rawValue
        backupCodesPulled = check.backupCodes.count
        locks = check.locks.map { lock in
            Lock(
                deviceID: lock.deviceID, accessCodeID: lock.accessCodeID, problems: lock.problems.map(\.rawValue),
                errorCodes: lock.errorCodes, action: lock.action.rawValue,
                backupCode: lock.backupCode.map {
                    BackupCode(
                        accessCodeID: $0.accessCodeID, pin: includePIN ? $0.code?.digits : nil,
                        startsAt: $0.startsAt?.ISO8601Format(), endsAt: $0.endsAt?.ISO8601Format())
                },
                backupUnavailable: lock.backupUnavailable)
        }
    }
}
