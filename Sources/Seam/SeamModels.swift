import Foundation

// MARK: - Open string sets

/// An access code's type: `time_bound` (has `starts_at`/`ends_at`) or `ongoing`. Open: other values decode as-is.
package struct AccessCodeType: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    package let rawValue: String
    /// Creates a type from its wire value.
    package init(rawValue: String) { self.rawValue = rawValue }
    /// Valid between `starts_at` and `ends_at`.
    package static let timeBound = AccessCodeType(rawValue: "time_bound")
    /// Valid until deleted.
    package static let ongoing = AccessCodeType(rawValue: "ongoing")
    /// The wire value.
    package var description: String { rawValue }
}

/// An access code's status: `unset`, `setting`, `set`, `removing` or `unknown` (seam-api.md §4.1).
/// Open: values Seam adds later decode as-is.
package struct AccessCodeStatus: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    package let rawValue: String
    /// Creates a status from its wire value.
    package init(rawValue: String) { self.rawValue = rawValue }
    /// Created, not yet on the device.
    package static let unset = AccessCodeStatus(rawValue: "unset")
    /// Being programmed onto the device.
    package static let setting = AccessCodeStatus(rawValue: "setting")
    /// Active on the device.
    package static let set = AccessCodeStatus(rawValue: "set")
    /// Being removed from the device.
    package static let removing = AccessCodeStatus(rawValue: "removing")
    /// Seam cannot tell (e.g. the account is disconnected).
    package static let unknown = AccessCodeStatus(rawValue: "unknown")
    /// The wire value.
    package var description: String { rawValue }
}

/// What `create_multiple` does when a device cannot share the common code.
package enum CodeSharingBehavior: String, Codable, Sendable {
    /// Create nothing at all (Seam's default).
    case `throw`
    /// Give that device a random code of its own.
    case createRandomCode = "create_random_code"
}

// MARK: - Resources

/// An entry of `errors[]` or `warnings[]` on an access code or device: `error_code`/`warning_code` plus a message.
package struct SeamIssue: Codable, Hashable, Sendable {
    /// `error_code` or `warning_code`, e.g. `failed_to_set_on_device`, `delay_in_setting_on_device`.
    package var code: String
    /// Seam's message.
    package var message: String?
    /// When Seam noticed it.
    package var createdAt: Date?

    /// Creates an issue.
    package init(code: String, message: String? = nil, createdAt: Date? = nil) {
        self.code = code
        self.message = message
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case errorCode = "error_code"
        case warningCode = "warning_code"
        case message
        case createdAt = "created_at"
    }

    /// Decodes either an error (`error_code`) or a warning (`warning_code`).
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let code = try container.decodeIfPresent(String.self, forKey: .errorCode) {
            self.code = code
        } else {
            code = try container.decode(String.self, forKey: .warningCode)
        }
        message = try container.decodeIfPresent(String.self, forKey: .message)
        createdAt = try container.decodeIfPresent(Date.self, forKey: .createdAt)
    }

    /// Encodes as an error entry (`error_code`).
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .errorCode)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encodeIfPresent(createdAt, forKey: .createdAt)
    }
}

/// A managed access code (seam-api.md §4). Fields Latchkey does not use are ignored when decoding.
package struct AccessCode: Codable, Hashable, Sendable {
    /// Seam's id of this code (one per device in a linked group).
    package var accessCodeID: String
    /// The lock it belongs to.
    package var deviceID: String
    /// The Seam-side label; Latchkey puts the reservation's identity here to adopt groups after a crash.
    package var name: String?
    /// The PIN. Null while Seam waits for a code assignment. Never log it.
    package var code: String?
    /// The key shared by a group made by `create_multiple` without a custom code; null otherwise.
    package var commonCodeKey: String?
    /// `time_bound` or `ongoing`.
    package var type: AccessCodeType
    /// Start of validity (time-bound codes).
    package var startsAt: Date?
    /// End of validity (time-bound codes).
    package var endsAt: Date?
    /// Where the code is in its life on the device.
    package var status: AccessCodeStatus
    /// Problems; empty when healthy. Missing in the body decodes as empty.
    package var errors: [SeamIssue]
    /// Warnings; empty when none. Missing in the body decodes as empty.
    package var warnings: [SeamIssue]
    /// Always true for codes Seam manages (unmanaged codes are a different resource). Missing decodes as true.
    package var isManaged: Bool
    /// When Seam created it.
    package var createdAt: Date
    /// The workspace, when Seam sends it.
    package var workspaceID: String?
    /// `is_scheduled_on_device`: the lock holds the code with a native schedule. Missing decodes as false.
    package var isScheduledOnDevice: Bool
    /// `is_backup_access_code_available`: a backup code can be pulled for it. Missing decodes as false.
    package var isBackupAccessCodeAvailable: Bool
    /// `pulled_backup_access_code_id`, once a backup code was pulled for it.
    package var pulledBackupAccessCodeID: String?
    /// `is_backup`: the code came from a backup pool. Missing decodes as false.
    package var isBackup: Bool

    /// Creates an access code value (tests and the fake).
    package init(
        accessCodeID: String, deviceID: String, name: String? = nil, code: String? = nil,
        commonCodeKey: String? = nil, type: AccessCodeType, startsAt: Date? = nil, endsAt: Date? = nil,
        status: AccessCodeStatus, errors: [SeamIssue] = [], warnings: [SeamIssue] = [], isManaged: Bool = true,
        createdAt: Date, workspaceID: String? = nil, isScheduledOnDevice: Bool = false,
        isBackupAccessCodeAvailable: Bool = false, pulledBackupAccessCodeID: String? = nil, isBackup: Bool = false
    ) {
        self.isScheduledOnDevice = isScheduledOnDevice
        self.isBackupAccessCodeAvailable = isBackupAccessCodeAvailable
        self.pulledBackupAccessCodeID = pulledBackupAccessCodeID
        self.isBackup = isBackup
        self.accessCodeID = accessCodeID
        self.deviceID = deviceID
        self.name = name
        self.code = code
        self.commonCodeKey = commonCodeKey
        self.type = type
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.status = status
        self.errors = errors
        self.warnings = warnings
        self.isManaged = isManaged
        self.createdAt = createdAt
        self.workspaceID = workspaceID
    }

    enum CodingKeys: String, CodingKey {
        case accessCodeID = "access_code_id"
        case deviceID = "device_id"
        case name, code
        case commonCodeKey = "common_code_key"
        case type
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case status, errors, warnings
        case isManaged = "is_managed"
        case createdAt = "created_at"
        case workspaceID = "workspace_id"
        case isScheduledOnDevice = "is_scheduled_on_device"
        case isBackupAccessCodeAvailable = "is_backup_access_code_available"
        case pulledBackupAccessCodeID = "pulled_backup_access_code_id"
        case isBackup = "is_backup"
    }

    /// Decodes Seam's wire shape, tolerating missing `errors`, `warnings` and `is_managed`.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        accessCodeID = try c.decode(String.self, forKey: .accessCodeID)
        deviceID = try c.decode(String.self, forKey: .deviceID)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        code = try c.decodeIfPresent(String.self, forKey: .code)
        commonCodeKey = try c.decodeIfPresent(String.self, forKey: .commonCodeKey)
        type = try c.decode(AccessCodeType.self, forKey: .type)
        startsAt = try c.decodeIfPresent(Date.self, forKey: .startsAt)
        endsAt = try c.decodeIfPresent(Date.self, forKey: .endsAt)
        status = try c.decode(AccessCodeStatus.self, forKey: .status)
        errors = try c.decodeIfPresent([SeamIssue].self, forKey: .errors) ?? []
        warnings = try c.decodeIfPresent([SeamIssue].self, forKey: .warnings) ?? []
        isManaged = try c.decodeIfPresent(Bool.self, forKey: .isManaged) ?? true
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        workspaceID = try c.decodeIfPresent(String.self, forKey: .workspaceID)
        isScheduledOnDevice = try c.decodeIfPresent(Bool.self, forKey: .isScheduledOnDevice) ?? false
        isBackupAccessCodeAvailable = try c.decodeIfPresent(Bool.self, forKey: .isBackupAccessCodeAvailable) ?? false
        pulledBackupAccessCodeID = try c.decodeIfPresent(String.self, forKey: .pulledBackupAccessCodeID)
        isBackup = try c.decodeIfPresent(Bool.self, forKey: .isBackup) ?? false
    }
}

/// A constraint a lock puts on PINs or names (`device.properties.code_constraints[]`).
package struct CodeConstraint: Codable, Hashable, Sendable {
    /// e.g. `no_zeros`, `cannot_start_with_12`, `name_length`.
    package var constraintType: String
    /// For `name_length`.
    package var minLength: Int?
    /// For `name_length`.
    package var maxLength: Int?

    /// Creates a constraint.
    package init(constraintType: String, minLength: Int? = nil, maxLength: Int? = nil) {
        self.constraintType = constraintType
        self.minLength = minLength
        self.maxLength = maxLength
    }

    enum CodingKeys: String, CodingKey {
        case constraintType = "constraint_type"
        case minLength = "min_length"
        case maxLength = "max_length"
    }
}

/// The part of `device.properties` Latchkey reads.
package struct DeviceProperties: Codable, Hashable, Sendable {
    /// The name the provider shows.
    package var name: String?
    /// Whether the device is reachable.
    package var online: Bool?
    /// PIN lengths the lock accepts, e.g. `[4,5,6,7,8]`.
    package var supportedCodeLengths: [Int]?
    /// How many codes the lock holds, e.g. 250.
    package var maxActiveCodesSupported: Int?
    /// PIN and name rules.
    package var codeConstraints: [CodeConstraint]?
    /// `supports_backup_access_code_pool`: codes on it can be created with a backup pool.
    package var supportsBackupAccessCodePool: Bool?

    /// Creates properties; every field defaults to absent.
    package init(
        name: String? = nil, online: Bool? = nil, supportedCodeLengths: [Int]? = nil,
        maxActiveCodesSupported: Int? = nil, codeConstraints: [CodeConstraint]? = nil,
        supportsBackupAccessCodePool: Bool? = nil
    ) {
        self.supportsBackupAccessCodePool = supportsBackupAccessCodePool
        self.name = name
        self.online = online
        self.supportedCodeLengths = supportedCodeLengths
        self.maxActiveCodesSupported = maxActiveCodesSupported
        self.codeConstraints = codeConstraints
    }

    enum CodingKeys: String, CodingKey {
        case name, online
        case supportedCodeLengths = "supported_code_lengths"
        case maxActiveCodesSupported = "max_active_codes_supported"
        case codeConstraints = "code_constraints"
        case supportsBackupAccessCodePool = "supports_backup_access_code_pool"
    }
}

/// A device (lock) in the workspace.
package struct Device: Codable, Hashable, Sendable {
    /// Seam's device id.
    package var deviceID: String
    /// e.g. `august_lock`, `schlage_lock`.
    package var deviceType: String
    /// A display name, when Seam sends one.
    package var displayName: String?
    /// The workspace.
    package var workspaceID: String?
    /// The connected account the device comes through.
    package var connectedAccountID: String?
    /// When the device was added.
    package var createdAt: Date?
    /// e.g. `["access_code", "lock"]`. Missing decodes as empty.
    package var capabilitiesSupported: [String]
    /// Whether online access codes can be programmed now.
    package var canProgramOnlineAccessCodes: Bool?
    /// Provider properties Latchkey reads.
    package var properties: DeviceProperties
    /// Device errors; missing decodes as empty.
    package var errors: [SeamIssue]
    /// Device warnings; missing decodes as empty.
    package var warnings: [SeamIssue]

    /// Creates a device value (tests and the fake).
    package init(
        deviceID: String, deviceType: String, displayName: String? = nil, workspaceID: String? = nil,
        connectedAccountID: String? = nil, createdAt: Date? = nil, capabilitiesSupported: [String] = [],
        canProgramOnlineAccessCodes: Bool? = nil, properties: DeviceProperties = DeviceProperties(),
        errors: [SeamIssue] = [], warnings: [SeamIssue] = []
    ) {
        self.deviceID = deviceID
        self.deviceType = deviceType
        self.displayName = displayName
        self.workspaceID = workspaceID
        self.connectedAccountID = connectedAccountID
        self.createdAt = createdAt
        self.capabilitiesSupported = capabilitiesSupported
        self.canProgramOnlineAccessCodes = canProgramOnlineAccessCodes
        self.properties = properties
        self.errors = errors
        self.warnings = warnings
    }

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id"
        case deviceType = "device_type"
        case displayName = "display_name"
        case workspaceID = "workspace_id"
        case connectedAccountID = "connected_account_id"
        case createdAt = "created_at"
        case capabilitiesSupported = "capabilities_supported"
        case canProgramOnlineAccessCodes = "can_program_online_access_codes"
        case properties, errors, warnings
    }

    /// Decodes Seam's wire shape, tolerating missing lists and properties.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        deviceID = try c.decode(String.self, forKey: .deviceID)
        deviceType = try c.decode(String.self, forKey: .deviceType)
        displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
        workspaceID = try c.decodeIfPresent(String.self, forKey: .workspaceID)
        connectedAccountID = try c.decodeIfPresent(String.self, forKey: .connectedAccountID)
        createdAt = try c.decodeIfPresent(Date.self, forKey: .createdAt)
        capabilitiesSupported = try c.decodeIfPresent([String].self, forKey: .capabilitiesSupported) ?? []
        canProgramOnlineAccessCodes = try c.decodeIfPresent(Bool.self, forKey: .canProgramOnlineAccessCodes)
        properties =
            try c.decodeIfPresent(DeviceProperties.self, forKey: .properties)
            ?? DeviceProperties()
        errors = try c.decodeIfPresent([SeamIssue].self, forKey: .errors) ?? []
        warnings = try c.decodeIfPresent([SeamIssue].self, forKey: .warnings) ?? []
    }
}

/// Seam's record of an asynchronous action (update, delete) (seam-api.md §5).
package struct ActionAttempt: Codable, Hashable, Sendable {
    /// An action attempt's failure: Seam's type and message.
    package struct Failure: Codable, Hashable, Sendable {
        /// e.g. `failed_to_delete_access_code`.
        package var type: String
        /// Seam's message.
        package var message: String

        /// Creates a failure.
        package init(type: String, message: String) {
            self.type = type
            self.message = message
        }
    }

    /// Seam's id of the attempt.
    package var actionAttemptID: String
    /// e.g. `DELETE_ACCESS_CODE`.
    package var actionType: String
    /// `pending`, `success` or `error`.
    package var status: String
    /// Set when `status` is `error`.
    package var error: Failure?

    /// Creates an action attempt value (tests and the fake).
    package init(actionAttemptID: String, actionType: String, status: String, error: Failure? = nil) {
        self.actionAttemptID = actionAttemptID
        self.actionType = actionType
        self.status = status
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case actionAttemptID = "action_attempt_id"
        case actionType = "action_type"
        case status, error
    }
}

/// The `pagination` object of list responses.
struct Pagination: Codable, Sendable {
    var hasNextPage: Bool
    var nextPageCursor: String?

    enum CodingKeys: String, CodingKey {
        case hasNextPage = "has_next_page"
        case nextPageCursor = "next_page_cursor"
    }
}
