import Foundation

/// How long the fake's locks take, in seconds of the fake's clock.
package struct FakeSeamTiming: Sendable, Equatable {
    /// From create (or a change of PIN or window) until the lock holds the code; default 5 s.
    package var programmingDelay: TimeInterval = 5
    /// From delete (or `ends_at`) until the code is gone; default 5 s.
    package var removalDelay: TimeInterval = 5

    /// Creates timings.
    package init(programmingDelay: TimeInterval = 5, removalDelay: TimeInterval = 5) {
        self.programmingDelay = programmingDelay
        self.removalDelay = removalDelay
    }
}

/// Everything the fake knows, with every Seam operation as a mutating method. One owner: ``FakeSeamService``
/// keeps it in a `Mutex`. Time is always passed in (the fake's clock), so the logic is deterministic.
struct FakeSeamState: Sendable {
    /// The world it started from.
    let seed: FakeSeamSeed
    /// How long locks take.
    let timing: FakeSeamTiming
    private(set) var devices: [FakeDevice]
    /// Where each device id sits in ``devices`` (which never changes size or order). `settle` looks up the device
    /// of every code on every call, so a linear search made each call O(codes × devices): 90 % of the fake's CPU
    /// with 5 000 locks (scripts/bench/seam-latency).
    private let deviceIndex: [String: Int]
    private(set) var codes: [AccessCodeRecord] = []
    private(set) var attempts: [String: ActionAttemptRecord] = [:]
    /// Attempt ids in creation order.
    private var attemptOrder: [String] = []
    /// The events so far, in order (the latest ``maxEvents``).
    private(set) var events: [SeamEvent] = []
    /// How many events are kept for `/_fake/state` and `/events/list`.
    static let maxEvents = 10_000
    /// Events not yet handed to the webhook sender.
    private var undelivered: [SeamEvent] = []
    private var rng: SeededRandom
    /// Seam's per-device limits.
    var rateLimiter = DeviceRateLimiter()
    /// Whether ``rateLimiter`` applies.
    var enforceRateLimits = true
    /// Calls per route, device and minute of the fake's clock.
    private(set) var calls: [CallCount.Key: Int] = [:]

    /// The seeded world, with ids and PINs drawn from `randomSeed`.
    init(seed: FakeSeamSeed, timing: FakeSeamTiming, randomSeed: UInt64) {
        self.seed = seed
        self.timing = timing
        self.devices = seed.devices
        self.deviceIndex = Dictionary(
            seed.devices.enumerated().map { ($1.deviceID, $0) }, uniquingKeysWith: { first, _ in first })
        self.rng = SeededRandom(seed: randomSeed ^ 0x5EA3_F00D)
    }

    /// The workspace every object belongs to.
    var workspaceID: String { seed.workspaceID }

    // MARK: - Ids and PINs

    /// A version-4 UUID from the seeded RNG.
    mutating func makeUUID() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
            hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }

    /// A random PIN of `length` digits that avoids weak patterns, breaks none of the devices' code constraints
    /// and is not already on any of `deviceIDs`.
    private mutating func makePIN(length: Int, avoidingOn deviceIDs: [String]) -> String {
        let taken = Set(codes.filter { deviceIDs.contains($0.deviceID) && $0.status != .removing }.map(\.code))
        let constraints = devices.filter { deviceIDs.contains($0.deviceID) }.flatMap(\.codeConstraints)
        var candidate = ""
        for _ in 0..<1000 {
            candidate = String((0..<length).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
            if !taken.contains(candidate) && !PINRules.isWeak(candidate)
                && PINRules.violations(of: candidate, constraints: constraints).isEmpty
            {
                return candidate
            }
        }
        return candidate
    }

    // MARK: - Lookups

    /// The device `id`, or `device_not_found`.
    func device(_ id: String) throws(SeamAPIError) -> FakeDevice {
        guard let index = deviceIndex[id] else { throw SeamAPIError.deviceNotFound(id) }
        return devices[index]
    }

    private func codeIndex(_ id: String) throws(SeamAPIError) -> Int {
        guard let index = codes.firstIndex(where: { $0.id == id }) else { throw SeamAPIError.accessCodeNotFound(id) }
        return index
    }

    /// The code `id`, or `access_code_not_found`.
    func code(_ id: String) throws(SeamAPIError) -> AccessCodeRecord { codes[try codeIndex(id)] }

    /// The code with PIN `pin` on `deviceID`, or `not_found`.
    func code(deviceID: String, pin: String) throws(SeamAPIError) -> AccessCodeRecord {
        guard let code = codes.first(where: { $0.deviceID == deviceID && $0.code == pin }) else {
            throw SeamAPIError(
                status: 404, type: "not_found",
                message: "No access code \(pin.isEmpty ? "" : "with that PIN ")on device \(deviceID).")
        }
        return code
    }

    /// Every action attempt, oldest first.
    var orderedAttempts: [ActionAttemptRecord] { attemptOrder.compactMap { attempts[$0] } }

    /// The attempt `id`, or `action_attempt_not_found`.
    func attempt(_ id: String) throws(SeamAPIError) -> ActionAttemptRecord {
        guard let attempt = attempts[id] else {
            throw SeamAPIError(
                status: 404, type: "action_attempt_not_found", message: "Action attempt \(id) not found.")
        }
        return attempt
    }

    private func hasLivePIN(_ pin: String, on deviceID: String, except id: String? = nil) -> Bool {
        codes.contains { $0.deviceID == deviceID && $0.code == pin && $0.status != .removing && $0.id != id }
    }

    // MARK: - Create

    /// The window and name shared by `create` and `create_multiple`.
    struct CodeFields {
        /// `name`.
        var name: String?
        /// `starts_at`.
        var startsAt: Date?
        /// `ends_at`.
        var endsAt: Date?
        /// `is_external_modification_allowed`; default false.
        var isExternalModificationAllowed = false
        /// `attempt_for_offline_device`; default true.
        var attemptForOfflineDevice = true
        /// `use_backup_access_code_pool`; default false. Ignored on locks without a pool.
        var useBackupPool = false
    }

    /// Checks a window: both ends or neither, `ends_at` after `starts_at` and in the future.
    static func checkWindow(startsAt: Date?, endsAt: Date?, now: Date) throws(SeamAPIError) {
        switch (startsAt, endsAt) {
        case (nil, nil): return
        case (let s?, let e?):
            if e <= s { throw SeamAPIError.invalidInput("ends_at", "ends_at must be after starts_at") }
            if e <= now { throw SeamAPIError.invalidInput("ends_at", "ends_at must be in the future") }
        default:
            throw SeamAPIError.invalidInput(
                startsAt == nil ? "starts_at" : "ends_at", "Both starts_at and ends_at must be provided together")
        }
    }

    /// Checks a PIN chosen by the caller against the device's lengths and code constraints.
    static func checkCustomPIN(_ pin: String, on device: FakeDevice) throws(SeamAPIError) {
        guard device.supportedCodeLengths.contains(pin.count) else {
            throw SeamAPIError.invalidInput("code", "Code must be \(device.lengthsText) digits for this device")
        }
        let broken = PINRules.violations(of: pin, constraints: device.codeConstraints)
        guard broken.isEmpty else {
            throw SeamAPIError.invalidInput(
                "code", "Code breaks this device's code constraints: \(broken.joined(separator: ", "))")
        }
    }

    private func checkReachable(_ device: FakeDevice, _ fields: CodeFields) throws(SeamAPIError) {
        if !device.online && !fields.attemptForOfflineDevice {
            throw SeamAPIError(
                status: 400, type: "device_offline",
                message:
                    "Device \(device.deviceID) is offline and attempt_for_offline_device is false; retry when it is online."
            )
        }
    }

    private mutating func insertCode(
        device: FakeDevice, pin: String, commonCodeKey: String?, fields: CodeFields, now: Date
    ) -> AccessCodeRecord {
        let timeBound = fields.startsAt != nil && fields.endsAt != nil
        let waiting = timeBound && (fields.startsAt ?? now) > now
        var record = AccessCodeRecord(
            id: makeUUID(), deviceID: device.deviceID, name: fields.name, code: pin, commonCodeKey: commonCodeKey,
            startsAt: fields.startsAt, endsAt: fields.endsAt, createdAt: now, status: waiting ? .unset : .setting,
            isExternalModificationAllowed: fields.isExternalModificationAllowed,
            programmedAt: now.addingTimeInterval(timing.programmingDelay)
        )
        record.usesBackupPool = fields.useBackupPool && device.supportsBackupPool
        codes.append(record)
        emit("access_code.created", code: record, at: now, extra: [:])
        return record
    }

    private mutating func newAttempt(_ type: ActionAttemptRecord.ActionType, codeID: String, completesAt: Date)
        -> ActionAttemptRecord
    {
        let attempt = ActionAttemptRecord(
            id: makeUUID(), actionType: type, accessCodeID: codeID, completesAt: completesAt, outcome: .pending)
        attempts[attempt.id] = attempt
        attemptOrder.append(attempt.id)
        return attempt
    }

    /// `/access_codes/create`.
    mutating func create(
        deviceID: String, code requested: String?, preferredLength: Int?, fields: CodeFields, commonCodeKey: String?,
        now: Date
    ) throws(SeamAPIError) -> (AccessCodeRecord, ActionAttemptRecord) {
        let device = try device(deviceID)
        try Self.checkWindow(startsAt: fields.startsAt, endsAt: fields.endsAt, now: now)
        try checkReachable(device, fields)
        // Codes sharing a common_code_key share the PIN: a new member takes the group's PIN.
        let groupPIN = commonCodeKey.flatMap { key in
            codes.first { $0.commonCodeKey == key && $0.status != .removing }?.code
        }
        let pin: String
        if let chosen = requested ?? groupPIN {
            guard device.canShareCode else {
                throw SeamAPIError.invalidInput(
                    "code", "Device \(deviceID) does not accept custom PINs (cannot_specify_pin_code); omit code")
            }
            if let groupPIN, requested != nil, requested != groupPIN {
                throw SeamAPIError.invalidInput(
                    "code", "Codes with common_code_key \(commonCodeKey ?? "") use PIN of the group; omit code")
            }
            try Self.checkCustomPIN(chosen, on: device)
            guard !hasLivePIN(chosen, on: deviceID) else {
                throw SeamAPIError(
                    status: 409, type: "duplicate_access_code",
                    message: "Device \(deviceID) already has an access code with this PIN; choose another code.")
            }
            pin = chosen
        } else {
            pin = makePIN(length: device.length(preferring: preferredLength), avoidingOn: [deviceID])
        }
        if enforceRateLimits { try rateLimiter.admit(.create, deviceIDs: [deviceID], now: now) }
        let record = insertCode(device: device, pin: pin, commonCodeKey: commonCodeKey, fields: fields, now: now)
        let attempt = newAttempt(.create, codeID: record.id, completesAt: record.programmedAt)
        return (record, attempt)
    }

    /// `/access_codes/create_multiple`: one PIN on every device that can take it (seam-api.md §3.2).
    mutating func createMultiple(
        deviceIDs rawIDs: [String], code requested: String?, preferredLength: Int?, randomWhenUnshareable: Bool,
        fields: CodeFields, now: Date
    ) throws(SeamAPIError) -> [AccessCodeRecord] {
        var deviceIDs: [String] = []
        for id in rawIDs where !deviceIDs.contains(id) { deviceIDs.append(id) }
        guard !deviceIDs.isEmpty else {
            throw SeamAPIError.invalidInput("device_ids", "Array must contain at least 1 element(s)")
        }
        var targets: [FakeDevice] = []
        for id in deviceIDs { targets.append(try device(id)) }
        try Self.checkWindow(startsAt: fields.startsAt, endsAt: fields.endsAt, now: now)
        for device in targets { try checkReachable(device, fields) }

        let shareable = targets.filter(\.canShareCode)
        let length: Int
        if let requested {
            length = requested.count
        } else {
            var common = Set(shareable.first?.supportedCodeLengths ?? [])
            for device in shareable.dropFirst() {
                let next = common.intersection(device.supportedCodeLengths)
                if !next.isEmpty { common = next }
            }
            if let preferredLength, common.contains(preferredLength) {
                length = preferredLength
            } else {
                length = common.min() ?? 4
            }
        }
        let sharingIDs = shareable.filter { device in
            device.supportedCodeLengths.contains(length)
                && (requested.map { PINRules.violations(of: $0, constraints: device.codeConstraints).isEmpty } ?? true)
        }.map(\.deviceID)
        let pin = requested ?? makePIN(length: length, avoidingOn: sharingIDs)
        let unshareable = targets.filter { !sharingIDs.contains($0.deviceID) || hasLivePIN(pin, on: $0.deviceID) }
        if !unshareable.isEmpty && !randomWhenUnshareable {
            let ids = unshareable.map(\.deviceID)
            throw SeamAPIError(
                status: 400, type: "cannot_share_code",
                message:
                    "The same code cannot be set on device(s) \(ids.joined(separator: ", ")) (length, provider or existing PIN); nothing was created. Pass behavior_when_code_cannot_be_shared: create_random_code to give them their own codes.",
                data: ["device_ids": .array(ids.map(JSONValue.string))]
            )
        }
        if enforceRateLimits { try rateLimiter.admit(.create, deviceIDs: deviceIDs, now: now) }
        let key = requested == nil ? "auto_set_by_create_multiple_\(makeUUID())" : nil
        return targets.map { device in
            if unshareable.contains(device) {
                let own = makePIN(length: device.length(preferring: preferredLength), avoidingOn: [device.deviceID])
                return insertCode(device: device, pin: own, commonCodeKey: nil, fields: fields, now: now)
            }
            return insertCode(device: device, pin: pin, commonCodeKey: key, fields: fields, now: now)
        }
    }

    /// `/access_codes/generate_code`: an access code (Seam's `access_code` object) with a PIN the device would
    /// accept now, `unset` and ongoing; nothing is stored, so its id is unknown to every other route.
    mutating func generateCode(deviceID: String, now: Date) throws(SeamAPIError) -> AccessCodeRecord {
        let device = try device(deviceID)
        let pin = makePIN(length: device.length(preferring: nil), avoidingOn: [deviceID])
        return AccessCodeRecord(
            id: makeUUID(), deviceID: device.deviceID, name: nil, code: pin, commonCodeKey: nil, startsAt: nil,
            endsAt: nil, createdAt: now, status: .unset, programmedAt: now)
    }

    // MARK: - Update

    /// What `/access_codes/update` may change.
    struct CodeChanges {
        /// A new name.
        var name: String?
        /// A new PIN.
        var code: String?
        /// A new start.
        var startsAt: Date?
        /// A new end.
        var endsAt: Date?
        /// `type: ongoing`: drop the window.
        var makeOngoing = false
        /// A new `is_external_modification_allowed`.
        var isExternalModificationAllowed: Bool?
    }

    /// `/access_codes/update`.
    mutating func update(id: String, changes: CodeChanges, now: Date) throws(SeamAPIError) -> ActionAttemptRecord {
        let index = try codeIndex(id)
        var record = codes[index]
        guard record.status != .removing else {
            throw SeamAPIError(
                status: 400, type: "access_code_being_deleted",
                message: "Access code \(id) is being deleted; create a new one instead.")
        }
        let device = try device(record.deviceID)
        if let pin = changes.code, pin != record.code {
            guard device.canShareCode else {
                throw SeamAPIError.invalidInput("code", "Device \(device.deviceID) does not accept custom PINs")
            }
            try Self.checkCustomPIN(pin, on: device)
            guard !hasLivePIN(pin, on: device.deviceID, except: id) else {
                throw SeamAPIError(
                    status: 409, type: "duplicate_access_code",
                    message: "Device \(device.deviceID) already has an access code with this PIN; choose another code.")
            }
        }
        let (startsAt, endsAt) =
            changes.makeOngoing ? (nil, nil) : (changes.startsAt ?? record.startsAt, changes.endsAt ?? record.endsAt)
        if changes.startsAt != nil || changes.endsAt != nil {
            try Self.checkWindow(startsAt: startsAt, endsAt: endsAt, now: now)
        }
        if enforceRateLimits { try rateLimiter.admit(.update, deviceIDs: [record.deviceID], now: now) }
        let reprogram =
            (changes.code.map { $0 != record.code } ?? false) || startsAt != record.startsAt || endsAt != record.endsAt
        let before = record
        if let name = changes.name { record.name = name }
        if let pin = changes.code { record.code = pin }
        if let allowed = changes.isExternalModificationAllowed { record.isExternalModificationAllowed = allowed }
        record.startsAt = startsAt
        record.endsAt = endsAt
        if reprogram { reprogramme(&record, now: now) }
        codes[index] = record
        if before.startsAt != startsAt || before.endsAt != endsAt {
            emitTimeFrameChanged(from: before, to: record, route: "/access_codes/update", at: now)
        }
        return newAttempt(.update, codeID: id, completesAt: reprogram ? record.programmedAt : now)
    }

    private func reprogramme(_ record: inout AccessCodeRecord, now: Date) {
        record.programmedAt = now.addingTimeInterval(timing.programmingDelay)
        record.failureReported = false
        record.errors.removeAll()
        record.isScheduledOnDevice = false
        let waiting = record.type == "time_bound" && (record.startsAt ?? now) > now
        record.status = waiting ? .unset : .setting
    }

    /// `/access_codes/update_multiple`: moves the window and name of every code of the group.
    mutating func updateMultiple(commonCodeKey: String, startsAt: Date?, endsAt: Date?, name: String?, now: Date)
        throws(SeamAPIError)
    {
        let indices = codes.indices.filter { codes[$0].commonCodeKey == commonCodeKey && codes[$0].status != .removing }
        guard let first = indices.first else {
            throw SeamAPIError(
                status: 404, type: "not_found",
                message: "No access codes have common_code_key \(commonCodeKey); it may have been deleted.")
        }
        let newStart = startsAt ?? codes[first].startsAt
        let newEnd = endsAt ?? codes[first].endsAt
        if startsAt != nil || endsAt != nil { try Self.checkWindow(startsAt: newStart, endsAt: newEnd, now: now) }
        if enforceRateLimits { try rateLimiter.admit(.update, deviceIDs: indices.map { codes[$0].deviceID }, now: now) }
        for index in indices {
            var record = codes[index]
            if let name { record.name = name }
            let moved = newStart != record.startsAt || newEnd != record.endsAt
            record.startsAt = newStart
            record.endsAt = newEnd
            if moved {
                reprogramme(&record, now: now)
                emitTimeFrameChanged(from: codes[index], to: record, route: "/access_codes/update_multiple", at: now)
            }
            codes[index] = record
        }
    }

    /// Emits `access_code.time_frame_changed` for a code moved through Seam by `route`.
    private mutating func emitTimeFrameChanged(
        from old: AccessCodeRecord, to new: AccessCodeRecord, route: String, at now: Date
    ) {
        emit(
            "access_code.time_frame_changed", code: new, at: now,
            extra: [
                "from": [
                    "starts_at": .string(old.startsAt.map(SeamTime.format)),
                    "ends_at": .string(old.endsAt.map(SeamTime.format)),
                ],
                "to": [
                    "starts_at": .string(new.startsAt.map(SeamTime.format)),
                    "ends_at": .string(new.endsAt.map(SeamTime.format)),
                ],
                "description": .string(
                    "The access code's time frame was changed through Seam (\(route)) "
                        + "from \(Self.window(old.startsAt, old.endsAt)) to \(Self.window(new.startsAt, new.endsAt))."),
            ])
    }

    // MARK: - Backup codes

    /// `/access_codes/pull_backup_access_code`: a code from the lock's backup pool, working at once (it was
    /// preloaded: an offline lock has it too) until the original ends. Pulling again gives the same backup code.
    /// Emits `access_code.backup_access_code_pulled` on the original.
    /// - Returns: The original (now with `pulled_backup_access_code_id`) and the backup code.
    /// - Throws: ``SeamAPIError`` `access_code_not_found`; 400 `access_code_not_time_bound` for an ongoing code;
    ///   400 `backup_access_code_pool_not_enabled` for a code created without a pool (or on a lock without one).
    mutating func pullBackup(id: String, now: Date) throws(SeamAPIError) -> (AccessCodeRecord, AccessCodeRecord) {
        let index = try codeIndex(id)
        let original = codes[index]
        if let pulled = original.pulledBackupAccessCodeID, let backup = codes.first(where: { $0.id == pulled }) {
            return (original, backup)
        }
        guard original.type == "time_bound", let endsAt = original.endsAt else {
            throw SeamAPIError(
                status: 400, type: "access_code_not_time_bound",
                message: "Backup access codes exist only for time-bound access codes; \(id) is ongoing.")
        }
        guard original.usesBackupPool, !original.isBackup else {
            throw SeamAPIError(
                status: 400, type: "backup_access_code_pool_not_enabled",
                message:
                    "Access code \(id) was not created with use_backup_access_code_pool on a device that supports it; "
                    + "no backup code can be pulled.")
        }
        let pin = makePIN(length: original.code.count, avoidingOn: [original.deviceID])
        var backup = AccessCodeRecord(
            id: makeUUID(), deviceID: original.deviceID, name: nil, code: pin, commonCodeKey: nil, startsAt: now,
            endsAt: endsAt, createdAt: now, status: .set, programmedAt: now)
        backup.isBackup = true
        backup.reachedDevice = true
        codes.append(backup)
        codes[index].pulledBackupAccessCodeID = backup.id
        codes[index].warnings.append(
            CodeIssue(
                code: "using_backup_access_code", message: "A backup access code was pulled for this code.",
                createdAt: now, kind: .warning))
        emit(
            "access_code.backup_access_code_pulled", code: codes[index], at: now,
            extra: ["backup_access_code_id": .string(backup.id)])
        return (codes[index], backup)
    }

    // MARK: - Delete

    /// `/access_codes/delete`: the code goes to `removing`, then is gone after the removal delay.
    mutating func delete(id: String, now: Date) throws(SeamAPIError) -> ActionAttemptRecord {
        let index = try codeIndex(id)
        if codes[index].status == .removing {
            return newAttempt(.delete, codeID: id, completesAt: codes[index].removedAt ?? now)
        }
        if enforceRateLimits { try rateLimiter.admit(.delete, deviceIDs: [codes[index].deviceID], now: now) }
        startRemoval(index, at: now)
        emit("access_code.deleted", code: codes[index], at: now, extra: ["code": .string(codes[index].code)])
        return newAttempt(.delete, codeID: id, completesAt: codes[index].removedAt ?? now)
    }

    private mutating func startRemoval(_ index: Int, at time: Date) {
        codes[index].status = .removing
        codes[index].removedAt = time.addingTimeInterval(timing.removalDelay)
        codes[index].warnings.append(
            CodeIssue(code: "being_deleted", message: "Access code is being deleted.", createdAt: time, kind: .warning))
    }

    // MARK: - Changes at the lock

    /// `POST /_fake/access_codes/change_at_lock`: someone removes or changes a code at the keypad, outside Seam.
    /// The code must have reached the lock (set, or scheduled on it). `deleted` drops it (`get` then 404s) and
    /// emits `access_code.deleted_external_to_seam`; `modified` gives it `newCode` (or a random PIN the lock
    /// accepts) and emits `access_code.modified_external_to_seam`.
    /// - Returns: the event emitted.
    /// - Throws: ``SeamAPIError`` `access_code_not_found`, or `invalid_input` for a code not on the lock or a PIN
    ///   the lock refuses, `duplicate_access_code` for a PIN already on it.
    mutating func changeAtLock(id: String, change: ChangeAtLock, now: Date) throws(SeamAPIError) -> SeamEvent {
        let index = try codeIndex(id)
        let record = codes[index]
        guard record.status != .removing, record.reachedDevice || record.isScheduledOnDevice else {
            throw SeamAPIError.invalidInput(
                "access_code_id", "Access code \(id) is not on the lock (status \(record.status.rawValue))")
        }
        switch change {
        case .deleted:
            codes.remove(at: index)
            emit(
                "access_code.deleted_external_to_seam", code: record, at: now,
                extra: ["event_description": "An access code was deleted outside of Seam, at the lock."])
        case .modified(let newCode):
            let device = try device(record.deviceID)
            let pin: String
            if let newCode {
                try Self.checkCustomPIN(newCode, on: device)
                guard newCode == record.code || !hasLivePIN(newCode, on: device.deviceID, except: id) else {
                    throw SeamAPIError(
                        status: 409, type: "duplicate_access_code",
                        message: "Device \(device.deviceID) already has an access code with this PIN.")
                }
                pin = newCode
            } else {
                pin = makePIN(length: record.code.count, avoidingOn: [device.deviceID])
            }
            codes[index].code = pin
            emit(
                "access_code.modified_external_to_seam", code: codes[index], at: now,
                extra: ["event_description": "An access code was modified outside of Seam, at the lock."])
        }
        return events[events.count - 1]
    }

    // MARK: - Devices

    /// Puts a lock on- or offline. Coming online retries codes that failed to set.
    mutating func setOnline(_ online: Bool, deviceID: String, now: Date) throws(SeamAPIError) {
        guard let index = deviceIndex[deviceID] else { throw SeamAPIError.deviceNotFound(deviceID) }
        devices[index].online = online
        guard online else { return }
        for i in codes.indices where codes[i].deviceID == deviceID && codes[i].failureReported {
            reprogramme(&codes[i], now: now)
        }
    }

    // MARK: - Time

    /// Carries every code and attempt forward to `now`: programming finishes, windows open and close,
    /// removals complete, failures on offline locks are reported. Events are stamped with when they happened.
    mutating func settle(now: Date) {
        var index = 0
        while index < codes.count {
            if settleCode(at: index, now: now) { index += 1 } else { codes.remove(at: index) }
        }
        let due = attempts.values.filter { $0.outcome == .pending && $0.completesAt <= now }
        for attempt in due {
            let result = outcome(of: attempt)
            attempts[attempt.id]?.outcome = result
        }
    }

    /// Settles one code; `false` when it is gone.
    private mutating func settleCode(at index: Int, now: Date) -> Bool {
        var record = codes[index]
        defer { if index < codes.count, codes[index].id == record.id { codes[index] = record } }
        if record.status != .removing, let endsAt = record.endsAt, endsAt <= now {
            codes[index] = record
            startRemoval(index, at: endsAt)
            record = codes[index]
        }
        if record.status == .removing {
            guard let removedAt = record.removedAt, removedAt <= now else { return true }
            if record.reachedDevice { emit("access_code.removed_from_device", code: record, at: removedAt, extra: [:]) }
            return false
        }
        // A backup code sits in the lock's pool already: nothing to programme, offline or not.
        guard !record.isBackup else { return true }
        let due = programmingDue(record)
        if record.status == .unset, !record.isScheduledOnDevice, !record.failureReported,
            now >= due.addingTimeInterval(-timing.programmingDelay), now < due
        {
            record.status = .setting  // the lock is being programmed (preloading a scheduled code)
        }
        guard due <= now, let device = try? device(record.deviceID) else { return true }
        guard device.online else {
            if !record.failureReported {
                record.failureReported = true
                // Seam keeps trying: a code that could not be set shows `setting`, with the errors.
                record.status = .setting
                record.errors = [
                    CodeIssue(
                        code: "failed_to_set_on_device", message: "Failed to set code on device.",
                        createdAt: due, kind: .accessCodeError),
                    CodeIssue(
                        code: "device_offline", message: "Device is offline.", createdAt: due,
                        kind: .deviceError),
                ]
                emit(
                    "access_code.failed_to_set_on_device", code: record, at: due,
                    extra: [
                        "access_code_errors": .array(record.errors.filter { $0.kind == .accessCodeError }.map(\.json)),
                        "access_code_warnings": [],
                        "device_errors": .array(record.errors.filter { $0.kind == .deviceError }.map(\.json)),
                        "device_warnings": [], "connected_account_errors": [], "connected_account_warnings": [],
                    ])
            }
            return true
        }
        if let startsAt = record.startsAt, startsAt > now {
            if !record.isScheduledOnDevice {
                record.isScheduledOnDevice = true
                record.reachedDevice = true
                record.status = .unset  // natively scheduled: `unset` until `starts_at` (seam-api.md §4.1)
                emit(
                    "access_code.scheduled_on_device", code: record, at: due,
                    extra: ["code": .string(record.code)])
            }
            return true
        }
        if record.status != .set {
            record.status = .set
            record.reachedDevice = true
            record.isScheduledOnDevice = record.type == "time_bound"
            let at = max(record.programmedAt, record.startsAt ?? record.programmedAt)
            emit("access_code.set_on_device", code: record, at: at, extra: ["code": .string(record.code)])
        }
        return true
    }

    /// How far ahead a lock preloads a natively scheduled code: 72 h before `starts_at` (seam-api.md §4.1).
    static let preloadLead: TimeInterval = 72 * 3600

    /// When the lock has been programmed with the code: its programming delay after creation (or the last
    /// change), but for a time-bound code starting more than 72 h later, the delay after the preload point.
    func programmingDue(_ record: AccessCodeRecord) -> Date {
        guard let startsAt = record.startsAt, record.type == "time_bound" else { return record.programmedAt }
        return max(record.programmedAt, startsAt.addingTimeInterval(-Self.preloadLead + timing.programmingDelay))
    }

    private func outcome(of attempt: ActionAttemptRecord) -> ActionAttemptRecord.Outcome {
        guard let record = codes.first(where: { $0.id == attempt.accessCodeID }) else {
            return .success([:])
        }
        switch attempt.actionType {
        case .delete: return .success([:])
        case .create, .update:
            if record.failureReported {
                return .error(
                    type: "device_offline", message: "Device \(record.deviceID) is offline; the code could not be set.")
            }
            return .success(["access_code": record.json(workspaceID: workspaceID)])
        }
    }

    // MARK: - Events and counters

    private mutating func emit(_ type: String, code: AccessCodeRecord, at time: Date, extra: [String: JSONValue]) {
        let id = makeUUID()
        var object: [String: JSONValue] = [
            "event_id": .string(id), "event_type": .string(type), "workspace_id": .string(workspaceID),
            "created_at": .string(SeamTime.format(time)), "occurred_at": .string(SeamTime.format(time)),
            "access_code_id": .string(code.id), "device_id": .string(code.deviceID),
            "connected_account_id": .string(seed.connectedAccountID),
            "event_description": .string(Self.describe(type)),
            "device_custom_metadata": [:], "connected_account_custom_metadata": [:],
        ]
        for (key, value) in extra { object[key] = value }
        let event = SeamEvent(id: id, type: type, occurredAt: time, json: .object(object))
        events.append(event)
        if events.count > Self.maxEvents { events.removeFirst(events.count - Self.maxEvents) }
        undelivered.append(event)
    }

    /// A time frame for a person: "2026-12-06T15:00:00.000Z – 2026-12-09T11:00:00.000Z", or "ongoing".
    private static func window(_ startsAt: Date?, _ endsAt: Date?) -> String {
        guard startsAt != nil || endsAt != nil else { return "ongoing" }
        return "\(startsAt.map(SeamTime.format) ?? "…") – \(endsAt.map(SeamTime.format) ?? "…")"
    }

    private static func describe(_ type: String) -> String {
        switch type {
        case "access_code.created": "An access code was created."
        case "access_code.scheduled_on_device": "An access code was scheduled on the device."
        case "access_code.set_on_device": "An access code was set on the device."
        case "access_code.failed_to_set_on_device": "An access code failed to be set on the device."
        case "access_code.time_frame_changed": "An access code's time frame was changed."
        case "access_code.deleted": "An access code was deleted."
        case "access_code.removed_from_device": "An access code was removed from the device."
        case "access_code.backup_access_code_pulled": "A backup access code was pulled for an access code."
        default: type
        }
    }

    /// Hands over the events not yet taken, oldest first.
    mutating func takeUndeliveredEvents() -> [SeamEvent] {
        defer { undelivered.removeAll() }
        return undelivered.enumerated().sorted {
            ($0.element.occurredAt, $0.offset) < ($1.element.occurredAt, $1.offset)
        }.map(\.element)
    }

    /// Counts one call of `route` for each of `deviceIDs` (or for no device) in the current minute.
    mutating func count(route: String, deviceIDs: [String], now: Date) {
        let minute = Int((now.timeIntervalSince1970 / 60).rounded(.down))
        for deviceID in deviceIDs.isEmpty ? [""] : deviceIDs {
            calls[CallCount.Key(route: route, deviceID: deviceID, minute: minute), default: 0] += 1
        }
    }
}

/// Calls counted per route, device and minute, for assertions in tests.
package struct CallCount: Sendable, Hashable {
    /// What a count is of.
    package struct Key: Sendable, Hashable {
        /// The route, e.g. `/access_codes/create_multiple`.
        package var route: String
        /// The device the call named, or empty when it named none.
        package var deviceID: String
        /// Minutes since the Unix epoch on the fake's clock.
        package var minute: Int
    }
    /// What is counted.
    package var key: Key
    /// How many calls.
    package var count: Int

    /// The wire object in `/_fake/state`.
    var json: JSONValue {
        [
            "route": .string(key.route), "device_id": .string(key.deviceID.isEmpty ? nil : key.deviceID),
            "minute": .int(key.minute), "count": .int(count),
        ]
    }
}

extension FakeDevice {
    /// `preferred` when the lock supports it, else its shortest length.
    func length(preferring preferred: Int?) -> Int {
        if let preferred, supportedCodeLengths.contains(preferred) { return preferred }
        return supportedCodeLengths.first ?? 4
    }

    /// The lengths as text, e.g. "4-8" or "4".
    var lengthsText: String {
        guard let low = supportedCodeLengths.first, let high = supportedCodeLengths.last else { return "4" }
        return low == high ? "\(low)" : "\(low)-\(high)"
    }
}

extension String {
    /// This string with `0`s in front up to `width` characters.
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
