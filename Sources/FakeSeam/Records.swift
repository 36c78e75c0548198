import Foundation

/// An access code as the fake keeps it. ``json(workspaceID:)`` renders Seam's `access_code` object (§4).
package struct AccessCodeRecord: Sendable, Equatable {
    /// Seam's `status`.
    package enum Status: String, Sendable {
        /// Created, not yet on the lock (time-bound codes before `starts_at`).
        case unset
        /// Being programmed.
        case setting
        /// On the lock and working.
        case set
        /// Being removed after a delete or at `ends_at`.
        case removing
    }

    /// The id (UUID, lower case).
    package var id: String
    /// The lock it is on.
    package var deviceID: String
    /// Seam-side label.
    package var name: String?
    /// The PIN.
    package var code: String
    /// The linked group's key, when `create_multiple` generated the PIN.
    package var commonCodeKey: String?
    /// Start of a time-bound code's window.
    package var startsAt: Date?
    /// End of a time-bound code's window.
    package var endsAt: Date?
    /// When it was created (fake clock).
    package var createdAt: Date
    /// The current status.
    package var status: Status
    /// `errors[]` entries (§4.2).
    package var errors: [CodeIssue] = []
    /// `warnings[]` entries (§4.2).
    package var warnings: [CodeIssue] = []
    /// Whether the lock holds it with a native schedule.
    package var isScheduledOnDevice = false
    /// `is_external_modification_allowed`.
    package var isExternalModificationAllowed = false
    /// Whether it was created with `use_backup_access_code_pool` on a lock that has a pool.
    package var usesBackupPool = false
    /// `is_backup`: pulled from a lock's backup pool.
    package var isBackup = false
    /// `pulled_backup_access_code_id`: the backup code pulled for it.
    package var pulledBackupAccessCodeID: String?
    /// When the lock will have been programmed (fake clock): creation or last change plus the programming delay.
    var programmedAt: Date
    /// Whether it ever reached the lock (decides `removed_from_device`).
    var reachedDevice = false
    /// When removal completes, once `status` is `removing`.
    var removedAt: Date?
    /// Whether `failed_to_set_on_device` has been reported for the current programming attempt.
    var failureReported = false

    /// `is_backup_access_code_available`: a time-bound code with a pool and no backup pulled yet.
    package var isBackupAccessCodeAvailable: Bool {
        usesBackupPool && !isBackup && type == "time_bound" && pulledBackupAccessCodeID == nil && status != .removing
    }

    /// `time_bound` when both ends are set, else `ongoing`.
    package var type: String { startsAt != nil && endsAt != nil ? "time_bound" : "ongoing" }

    /// Seam's `access_code` object.
    package func json(workspaceID: String) -> JSONValue {
        [
            "access_code_id": .string(id),
            "workspace_id": .string(workspaceID),
            "device_id": .string(deviceID),
            "name": .string(name),
            "code": .string(code),
            "common_code_key": .string(commonCodeKey),
            "type": .string(type),
            "status": .string(status.rawValue),
            "created_at": .string(SeamTime.format(createdAt)),
            "starts_at": .string(startsAt.map(SeamTime.format)),
            "ends_at": .string(endsAt.map(SeamTime.format)),
            "errors": .array(errors.map(\.json)),
            "warnings": .array(warnings.map(\.json)),
            "is_managed": true,
            "is_backup": .bool(isBackup),
            "is_backup_access_code_available": .bool(isBackupAccessCodeAvailable),
            "pulled_backup_access_code_id": .string(pulledBackupAccessCodeID),
            "is_external_modification_allowed": .bool(isExternalModificationAllowed),
            "is_one_time_use": false,
            "is_offline_access_code": false,
            "is_scheduled_on_device": .bool(isScheduledOnDevice),
            "is_waiting_for_code_assignment": false,
            "pending_mutations": .array(pendingMutations),
        ]
    }

    private var pendingMutations: [JSONValue] {
        switch status {
        case .setting:
            [
                [
                    "mutation_code": "creating", "created_at": .string(SeamTime.format(createdAt)),
                    "message": "Programming the code on the lock.",
                ]
            ]
        case .removing:
            [
                [
                    "mutation_code": "deleting", "created_at": .string(SeamTime.format(removedAt ?? createdAt)),
                    "message": "Removing the code from the lock.",
                ]
            ]
        default: []
        }
    }
}

/// One `errors[]` or `warnings[]` entry of an access code (§4.2).
package struct CodeIssue: Sendable, Equatable {
    /// The error or warning code, e.g. `device_offline`, `failed_to_set_on_device`, `being_deleted`.
    package var code: String
    /// A message for a person.
    package var message: String
    /// When it was raised.
    package var createdAt: Date
    /// What it is about: the code itself, the device, or a warning.
    package var kind: Kind

    /// What an issue is about.
    package enum Kind: Sendable, Equatable {
        /// An access-code error (`is_access_code_error: true`).
        case accessCodeError
        /// A device error copied onto the code (`is_device_error: true`).
        case deviceError
        /// A warning (`warning_code`).
        case warning
    }

    /// The wire object.
    package var json: JSONValue {
        switch kind {
        case .accessCodeError:
            [
                "error_code": .string(code), "message": .string(message),
                "created_at": .string(SeamTime.format(createdAt)), "is_access_code_error": true,
            ]
        case .deviceError:
            [
                "error_code": .string(code), "message": .string(message),
                "created_at": .string(SeamTime.format(createdAt)), "is_device_error": true,
            ]
        case .warning:
            [
                "warning_code": .string(code), "message": .string(message),
                "created_at": .string(SeamTime.format(createdAt)),
            ]
        }
    }
}

/// An action attempt (§5): created by `create`, `update` and `delete`, finished on the fake's clock.
package struct ActionAttemptRecord: Sendable, Equatable {
    /// `CREATE_ACCESS_CODE`, `UPDATE_ACCESS_CODE` or `DELETE_ACCESS_CODE`.
    package enum ActionType: String, Sendable {
        /// From `/access_codes/create`.
        case create = "CREATE_ACCESS_CODE"
        /// From `/access_codes/update`.
        case update = "UPDATE_ACCESS_CODE"
        /// From `/access_codes/delete`.
        case delete = "DELETE_ACCESS_CODE"
    }

    /// Where it stands.
    package enum Outcome: Sendable, Equatable {
        /// Still running.
        case pending
        /// Done; `result` as sent.
        case success(JSONValue)
        /// Failed with Seam's `{type, message}`.
        case error(type: String, message: String)
    }

    /// The id (UUID).
    package var id: String
    /// The action.
    package var actionType: ActionType
    /// The code it acts on.
    package var accessCodeID: String
    /// When it finishes (fake clock).
    var completesAt: Date
    /// The outcome so far.
    package var outcome: Outcome

    /// Seam's `action_attempt` object.
    package var json: JSONValue {
        var object: [String: JSONValue] = [
            "action_attempt_id": .string(id), "action_type": .string(actionType.rawValue),
            "result": nil, "error": nil,
        ]
        switch outcome {
        case .pending: object["status"] = "pending"
        case .success(let result):
            object["status"] = "success"
            object["result"] = result
        case .error(let type, let message):
            object["status"] = "error"
            object["error"] = ["type": .string(type), "message": .string(message)]
        }
        return .object(object)
    }
}

/// What someone did to a code at the lock, outside Seam (`POST /_fake/access_codes/change_at_lock`).
package enum ChangeAtLock: Sendable, Equatable {
    /// Removed it from the keypad.
    case deleted
    /// Changed its PIN: to the one given, or (with `nil`) to a random one the lock accepts.
    case modified(code: String?)
}

/// A Seam event (§9.2), kept for `/_fake/state` and sent to the webhook when one is configured.
package struct SeamEvent: Sendable, Equatable {
    /// The id (UUID); also the `svix-id` of its delivery.
    package var id: String
    /// E.g. `access_code.set_on_device`.
    package var type: String
    /// When it happened (fake clock).
    package var occurredAt: Date
    /// The whole event object as sent.
    package var json: JSONValue
}
