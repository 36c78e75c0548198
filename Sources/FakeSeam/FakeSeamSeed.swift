import Foundation

/// One lock the fake serves, as written in a seed file.
///
/// Seed file shape (JSON): `{"workspace_id": "…", "devices": [{"device_id": "…", "display_name": "Front Door",
/// "device_type": "august_lock", "online": true, "supported_code_lengths": [4,5,6], "can_share_code": true,
/// "code_constraints": ["no_all_same_digits"], "supports_backup_access_code_pool": true}]}`. Every field but
/// `device_id` has a default.
package struct FakeDevice: Codable, Sendable, Equatable {
    /// The device id (a UUID, lower case).
    package var deviceID: String
    /// The name people see; default "Door".
    package var displayName: String
    /// Seam's `device_type`, e.g. `august_lock`, `schlage_lock`; default `august_lock`.
    package var deviceType: String
    /// The manufacturer shown in `properties.manufacturer`; default derived from `device_type` (`august`).
    package var manufacturer: String
    /// Whether the lock is reachable; codes on an offline lock fail to set. Default `true`.
    package var online: Bool
    /// PIN lengths the lock accepts, in digits; default 4…8.
    package var supportedCodeLengths: [Int]
    /// Whether the lock can take a PIN chosen elsewhere (a shared, linked code or a custom `code`).
    /// `false` models providers that generate their own PINs (`cannot_specify_pin_code`). Default `true`.
    package var canShareCode: Bool
    /// Extra `constraint_type`s reported in `properties.code_constraints`; `no_all_same_digits` and
    /// `no_ascending_or_descending_sequence` are also enforced on generated PINs. Default none.
    package var codeConstraints: [String]
    /// `properties.max_active_codes_supported`; default 250.
    package var maxActiveCodes: Int
    /// `properties.supports_backup_access_code_pool`: codes created with `use_backup_access_code_pool` get a backup
    /// pool, and `/access_codes/pull_backup_access_code` works for them. Default `false`.
    package var supportsBackupPool: Bool

    /// Creates a device.
    package init(
        deviceID: String,
        displayName: String = "Door",
        deviceType: String = "august_lock",
        manufacturer: String? = nil,
        online: Bool = true,
        supportedCodeLengths: [Int] = Array(4...8),
        canShareCode: Bool = true,
        codeConstraints: [String] = [],
        maxActiveCodes: Int = 250,
        supportsBackupPool: Bool = false
    ) {
        self.supportsBackupPool = supportsBackupPool
        self.deviceID = deviceID.lowercased()
        self.displayName = displayName
        self.deviceType = deviceType
        self.manufacturer = manufacturer ?? FakeDevice.manufacturer(of: deviceType)
        self.online = online
        self.supportedCodeLengths = supportedCodeLengths.sorted()
        self.canShareCode = canShareCode
        self.codeConstraints = codeConstraints
        self.maxActiveCodes = maxActiveCodes
    }

    private static func manufacturer(of deviceType: String) -> String {
        deviceType.split(separator: "_").first.map(String.init) ?? deviceType
    }

    private enum CodingKeys: String, CodingKey {
        case deviceID = "device_id"
        case displayName = "display_name"
        case deviceType = "device_type"
        case manufacturer, online
        case supportedCodeLengths = "supported_code_lengths"
        case canShareCode = "can_share_code"
        case codeConstraints = "code_constraints"
        case maxActiveCodes = "max_active_codes_supported"
        case supportsBackupPool = "supports_backup_access_code_pool"
    }

    /// Decodes a seed entry, applying the defaults above.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            deviceID: try c.decode(String.self, forKey: .deviceID),
            displayName: try c.decodeIfPresent(String.self, forKey: .displayName) ?? "Door",
            deviceType: try c.decodeIfPresent(String.self, forKey: .deviceType) ?? "august_lock",
            manufacturer: try c.decodeIfPresent(String.self, forKey: .manufacturer),
            online: try c.decodeIfPresent(Bool.self, forKey: .online) ?? true,
            supportedCodeLengths: try c.decodeIfPresent([Int].self, forKey: .supportedCodeLengths) ?? Array(4...8),
            canShareCode: try c.decodeIfPresent(Bool.self, forKey: .canShareCode) ?? true,
            codeConstraints: try c.decodeIfPresent([String].self, forKey: .codeConstraints) ?? [],
            maxActiveCodes: try c.decodeIfPresent(Int.self, forKey: .maxActiveCodes) ?? 250,
            supportsBackupPool: try c.decodeIfPresent(Bool.self, forKey: .supportsBackupPool) ?? false
        )
    }
}

/// The world the fake starts from: a workspace and its locks.
package struct FakeSeamSeed: Codable, Sendable, Equatable {
    /// The workspace every object belongs to (a UUID).
    package var workspaceID: String
    /// The connected account every device hangs off (a UUID).
    package var connectedAccountID: String
    /// The locks.
    package var devices: [FakeDevice]

    /// Creates a seed.
    package init(workspaceID: String, connectedAccountID: String, devices: [FakeDevice]) {
        self.workspaceID = workspaceID.lowercased()
        self.connectedAccountID = connectedAccountID.lowercased()
        self.devices = devices
    }

    private enum CodingKeys: String, CodingKey {
        case workspaceID = "workspace_id"
        case connectedAccountID = "connected_account_id"
        case devices
    }

    /// Decodes a seed file; the workspace and account ids default to the built-in seed's.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            workspaceID: try c.decodeIfPresent(String.self, forKey: .workspaceID) ?? FakeSeamSeed.defaultWorkspaceID,
            connectedAccountID: try c.decodeIfPresent(String.self, forKey: .connectedAccountID)
                ?? FakeSeamSeed.defaultConnectedAccountID,
            devices: try c.decode([FakeDevice].self, forKey: .devices)
        )
    }

    /// Loads a seed file.
    /// - Throws: ``FakeSeamSeedError`` naming the file and what was wrong.
    package static func load(contentsOf path: String) throws(FakeSeamSeedError) -> FakeSeamSeed {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FakeSeamSeedError(path: path, reason: "the file cannot be read; check the path and its permissions")
        }
        let seed: FakeSeamSeed
        do {
            seed = try JSONDecoder().decode(FakeSeamSeed.self, from: data)
        } catch {
            throw FakeSeamSeedError(
                path: path, reason: "it is not a valid seed (\(error)); see FakeDevice for the shape")
        }
        try seed.validate(path: path)
        return seed
    }

    /// Checks ids and lengths.
    /// - Throws: ``FakeSeamSeedError`` for a non-UUID or repeated id, or a device without usable lengths.
    package func validate(path: String = "<seed>") throws(FakeSeamSeedError) {
        var seen = Set<String>()
        for device in devices {
            guard UUID(uuidString: device.deviceID) != nil else {
                throw FakeSeamSeedError(path: path, reason: "device_id \(device.deviceID) is not a UUID")
            }
            guard seen.insert(device.deviceID).inserted else {
                throw FakeSeamSeedError(path: path, reason: "device_id \(device.deviceID) appears twice")
            }
            guard !device.supportedCodeLengths.isEmpty,
                device.supportedCodeLengths.allSatisfy({ (4...12).contains($0) })
            else {
                throw FakeSeamSeedError(
                    path: path, reason: "device \(device.deviceID) needs supported_code_lengths within 4…12")
            }
        }
    }

    /// The built-in workspace id.
    package static let defaultWorkspaceID = "00000000-0000-4000-8000-00000000a000"
    /// The built-in connected account id.
    package static let defaultConnectedAccountID = "00000000-0000-4000-8000-00000000ac00"

    /// Device ids of the built-in seed, for tests and demos.
    package enum DefaultDevice {
        /// "Front Door", August, 4–8 digits, online, with a backup code pool.
        package static let frontDoor = "11111111-1111-4111-8111-000000000001"
        /// "Back Door", Yale, 4–8 digits, online, with a backup code pool.
        package static let backDoor = "11111111-1111-4111-8111-000000000002"
        /// "Garage", Schlage, exactly 4 digits, online.
        package static let garage = "11111111-1111-4111-8111-000000000003"
        /// "Shed", August, 4–8 digits, offline, with a backup code pool.
        package static let shed = "11111111-1111-4111-8111-000000000004"
        /// "Pool Gate", Salto-like: 6 digits, cannot take a shared PIN.
        package static let poolGate = "11111111-1111-4111-8111-000000000005"
    }

    /// The seed used when none is given: two August/Yale locks with 4–8 digits, a Schlage with exactly 4,
    /// an offline lock, and one that cannot share a code; the August and Yale locks have a backup code pool.
    package static let defaultSeed = FakeSeamSeed(
        workspaceID: defaultWorkspaceID,
        connectedAccountID: defaultConnectedAccountID,
        devices: [
            FakeDevice(
                deviceID: DefaultDevice.frontDoor, displayName: "Front Door", deviceType: "august_lock",
                supportsBackupPool: true),
            FakeDevice(
                deviceID: DefaultDevice.backDoor, displayName: "Back Door", deviceType: "yale_lock",
                supportsBackupPool: true),
            FakeDevice(
                deviceID: DefaultDevice.garage, displayName: "Garage", deviceType: "schlage_lock",
                supportedCodeLengths: [4]),
            FakeDevice(
                deviceID: DefaultDevice.shed, displayName: "Shed", deviceType: "august_lock", online: false,
                supportsBackupPool: true),
            FakeDevice(
                deviceID: DefaultDevice.poolGate, displayName: "Pool Gate", deviceType: "salto_lock",
                supportedCodeLengths: [6], canShareCode: false, codeConstraints: ["cannot_specify_pin_code"]),
        ]
    )
}

/// A seed file that cannot be used.
package struct FakeSeamSeedError: Error, Sendable, CustomStringConvertible {
    /// The seed file's path.
    package var path: String
    /// What was wrong and what to do.
    package var reason: String
    /// A message for a person.
    package var description: String { "Seed file \(path): \(reason)." }
}
