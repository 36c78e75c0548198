import Bookings
import Foundation

/// The narrow slice of Seam's access-code API the reconciler needs. The coordinator adapts the `Seam`
/// client to it; tests use an in-memory double.
///
/// Every method throws ``AccessCodeServiceError`` for failures the service understands. Any other error
/// (except `CancellationError`) is treated as retryable with an unknown outcome.
package protocol AccessCodeService: Sendable {
    /// `/access_codes/create_multiple`: one linked group, one code per device, Seam choosing a shared PIN.
    /// - Parameters:
    ///   - deviceIDs: The locks, in the property's order.
    ///   - name: The codes' name; carries the reservation marker.
    ///   - startsAt: `starts_at`.
    ///   - endsAt: `ends_at`.
    ///   - preferredCodeLength: `preferred_code_length`, in digits.
    ///   - behavior: `behavior_when_code_cannot_be_shared`.
    /// - Returns: The created codes, one per device.
    func createMultiple(
        deviceIDs: [String], name: String, startsAt: Date, endsAt: Date, preferredCodeLength: Int,
        behavior: Property.CodeSharingBehavior
    ) async throws -> [CreatedCode]

    /// `/access_codes/create` with the group's PIN on one lock (a repair). With `commonCodeKey` the code joins
    /// that linked group, so `update_multiple` keeps covering it; without one (a group Seam gave no key) it
    /// stands alone.
    /// - Returns: The created code.
    func createSingle(
        deviceID: String, name: String, code: AccessPIN, commonCodeKey: String?, startsAt: Date, endsAt: Date
    ) async throws -> CreatedCode

    /// `/access_codes/update_multiple`: moves every code carrying `commonCodeKey` to the window and name.
    func updateMultiple(commonCodeKey: String, name: String, startsAt: Date, endsAt: Date) async throws

    /// `/access_codes/update` (time-bound): moves one code, for group members that lost the common key in a repair.
    func updateSingle(accessCodeID: String, name: String, startsAt: Date, endsAt: Date) async throws

    /// `/access_codes/delete`. A code that is already gone (404) must return normally: it counts as done.
    func delete(accessCodeID: String) async throws

    /// `/access_codes/list` by `device_id`, all pages.
    func listCodes(deviceID: String) async throws -> [ExistingCode]

    /// `/access_codes/pull_backup_access_code`: a code from the lock's backup pool that works at once, for a lock
    /// whose own code failed (the code must have been created with the pool, time-bound, on a lock that supports
    /// it). Pulling again for the same code gives the same backup code.
    /// - Parameter accessCodeID: The failing code.
    /// - Returns: The backup code.
    func pullBackupCode(accessCodeID: String) async throws -> BackupAccessCode
}

extension AccessCodeService {
    /// A service without a backup pool: always a permanent failure.
    package func pullBackupCode(accessCodeID: String) async throws -> BackupAccessCode {
        throw AccessCodeServiceError.permanent(message: "this Seam connection offers no backup access codes")
    }
}

/// A code pulled from a lock's backup pool (`backup_access_code` of `/access_codes/pull_backup_access_code`).
package struct BackupAccessCode: Sendable, Codable, Hashable {
    /// Seam's `access_code_id` of the backup code.
    package var accessCodeID: String
    /// The lock.
    package var deviceID: String
    /// The PIN (redacted in every description); `nil` when Seam has not shown it.
    package var code: AccessPIN?
    /// `starts_at`, when Seam gives one.
    package var startsAt: Date?
    /// `ends_at`, when Seam gives one.
    package var endsAt: Date?

    /// Creates a value.
    package init(accessCodeID: String, deviceID: String, code: AccessPIN?, startsAt: Date?, endsAt: Date?) {
        self.accessCodeID = accessCodeID
        self.deviceID = deviceID
        self.code = code
        self.startsAt = startsAt
        self.endsAt = endsAt
    }
}

/// A code returned by a create call.
package struct CreatedCode: Sendable, Codable, Hashable {
    /// Seam's `access_code_id`.
    package var accessCodeID: String
    /// Seam's `device_id`.
    package var deviceID: String
    /// The PIN, or `nil` while Seam is still assigning it.
    package var code: AccessPIN?
    /// Seam's `common_code_key`, or `nil` (custom code, or a lock that could not share).
    package var commonCodeKey: String?

    /// Creates a value.
    package init(accessCodeID: String, deviceID: String, code: AccessPIN?, commonCodeKey: String?) {
        self.accessCodeID = accessCodeID
        self.deviceID = deviceID
        self.code = code
        self.commonCodeKey = commonCodeKey
    }
}

/// A code as `/access_codes/list` shows it.
package struct ExistingCode: Sendable, Codable, Hashable {
    /// Seam's `status`.
    package enum Status: String, Sendable, Codable, Hashable, CaseIterable {
        /// Programming in progress.
        case setting
        /// On the lock.
        case set
        /// Not yet on the lock (the initial state of time-bound codes).
        case unset
        /// Being removed (deleted or expired).
        case removing
        /// Seam cannot tell.
        case unknown
    }

    /// Seam's `access_code_id`.
    package var accessCodeID: String
    /// Seam's `device_id`.
    package var deviceID: String
    /// Seam's `name`, when set.
    package var name: String?
    /// The PIN, when assigned.
    package var code: AccessPIN?
    /// Seam's `common_code_key`.
    package var commonCodeKey: String?
    /// `starts_at`, for time-bound codes.
    package var startsAt: Date?
    /// `ends_at`, for time-bound codes.
    package var endsAt: Date?
    /// Seam's `status`.
    package var status: Status
    /// The `error_code`s of Seam's `errors[]` (e.g. `failed_to_set_on_device`, `device_offline`); empty when healthy.
    package var errors: [String]
    /// `is_scheduled_on_device`: the lock holds the code with a native schedule (it works from `starts_at`).
    package var isScheduledOnDevice: Bool
    /// `is_backup_access_code_available`: a backup code can be pulled for it.
    package var isBackupAccessCodeAvailable: Bool
    /// `pulled_backup_access_code_id`, once a backup code was pulled for it.
    package var pulledBackupAccessCodeID: String?

    /// Creates a value.
    package init(
        accessCodeID: String, deviceID: String, name: String?, code: AccessPIN?, commonCodeKey: String?,
        startsAt: Date?, endsAt: Date?, status: Status, errors: [String] = [], isScheduledOnDevice: Bool = false,
        isBackupAccessCodeAvailable: Bool = false, pulledBackupAccessCodeID: String? = nil
    ) {
        self.errors = errors
        self.isScheduledOnDevice = isScheduledOnDevice
        self.isBackupAccessCodeAvailable = isBackupAccessCodeAvailable
        self.pulledBackupAccessCodeID = pulledBackupAccessCodeID
        self.accessCodeID = accessCodeID
        self.deviceID = deviceID
        self.name = name
        self.code = code
        self.commonCodeKey = commonCodeKey
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.status = status
    }
}

/// A failure of an ``AccessCodeService`` call, classified by the service.
package enum AccessCodeServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Worth trying again: network trouble, timeout, 429, 5xx. `retryAfter` is the server's
    /// `Retry-After`, in seconds, when it sent one.
    case retryable(message: String, retryAfter: TimeInterval?)
    /// Will not succeed by repeating it (4xx other than 429): the message says what Seam refused.
    case permanent(message: String)
    /// Seam was not called at all (the circuit breaker is open because Seam looks down): nothing happened, so
    /// the attempt neither counts against ``ReconcilerConfiguration/maxAttempts`` nor leaves an unknown outcome.
    /// `retryAfter` is when to try again, in seconds.
    case notCalled(message: String, retryAfter: TimeInterval)

    /// The service's message.
    package var message: String {
        switch self {
        case .retryable(let message, _), .permanent(let message), .notCalled(let message, _): message
        }
    }

    /// A one-line description with the classification.
    package var description: String {
        switch self {
        case .retryable(let message, let retryAfter):
            "retryable Seam failure: \(message)" + (retryAfter.map { " (retry after \($0) s)" } ?? "")
        case .permanent(let message):
            "permanent Seam failure: \(message)"
        case .notCalled(let message, let retryAfter):
            "Seam not called: \(message) (try again after \(retryAfter) s)"
        }
    }
}
