import Bookings
import Foundation
import Reconciler
import Synchronization

/// An in-memory ``StateStore`` for unit tests; keeps every entry in a dictionary.
actor InMemoryStateStore: StateStore {
    /// The failure a broken disk gives.
    struct DiskFull: Error {}

    private(set) var values: [String: [UInt8]] = [:]
    private var failingPuts: [(prefix: String, skip: Int, remaining: Int)] = []

    /// Makes `count` puts of keys under `prefix` fail, after `skip` of them succeeded.
    func failPuts(prefix: String, skip: Int = 0, count: Int = 1) {
        failingPuts.append((prefix, skip, count))
    }

    func put(_ key: String, _ value: [UInt8]) async throws {
        if let index = failingPuts.firstIndex(where: { key.hasPrefix($0.prefix) && $0.remaining > 0 }) {
            if failingPuts[index].skip > 0 {
                failingPuts[index].skip -= 1
            } else {
                failingPuts[index].remaining -= 1
                throw DiskFull()
            }
        }
        values[key] = value
    }

    /// How many ``putAll(_:)`` calls there were, and how many keys each carried.
    private(set) var putAllSizes: [Int] = []

    /// All or nothing, as the journal's one transaction is: a failing key (see ``failPuts(prefix:skip:count:)``)
    /// fails the call and stores none of them.
    func putAll(_ entries: [(key: String, value: [UInt8])]) async throws {
        putAllSizes.append(entries.count)
        let saved = values
        do {
            for entry in entries { try await put(entry.key, entry.value) }
        } catch {
            values = saved
            throw error
        }
    }

    func delete(_ key: String) async throws {
        values[key] = nil
    }

    /// How many ``commit(_:)`` calls there were.
    private(set) var commits = 0

    /// All or nothing, as the journal's one transaction is.
    func commit(_ writes: [StateWrite]) async throws {
        commits += 1
        let saved = values
        do {
            for write in writes {
                switch write {
                case .put(let key, let value): try await put(key, value)
                case .delete(let key): try await delete(key)
                }
            }
        } catch {
            values = saved
            throw error
        }
    }

    func entries(prefix: String) async throws -> [(key: String, value: [UInt8])] {
        values.filter { $0.key.hasPrefix(prefix) }.map { (key: $0.key, value: $0.value) }
    }

    /// The keys under `prefix`.
    func keys(prefix: String) -> [String] {
        values.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// Every stored value as text, for "this secret is not stored here" checks.
    func text(prefix: String) -> String {
        values.filter { $0.key.hasPrefix(prefix) }.map { String(decoding: $0.value, as: UTF8.self) }.joined()
    }
}

/// A unit-test double of Seam's access-code API: codes in a dictionary, calls recorded, failures on demand.
actor FakeAccessCodes: AccessCodeService {
    /// The calls, by route name, in order.
    enum Route: String, Sendable {
        case createMultiple, createSingle, updateMultiple, updateSingle, delete, listCodes, pullBackup
    }

    /// One recorded call.
    struct Call: Sendable, Equatable {
        var route: Route
        var devices: [String]
    }

    /// How a call misbehaves.
    enum Fault: Sendable {
        /// Throw without doing anything.
        case fail(AccessCodeServiceError)
        /// Do the work, then throw (a timeout after Seam acted).
        case failAfterActing(AccessCodeServiceError)
        /// Suspend before doing anything until the task is cancelled (a crash before the request left).
        case hangBefore
        /// Do the work, then suspend until cancelled (a crash before the answer was stored).
        case hangAfter
        /// No fault: the call goes through (to fault a later call of the same route).
        case pass
    }

    private(set) var codes: [String: ExistingCode] = [:]
    private(set) var calls: [Call] = []
    /// Locks that cannot take a shared PIN (`behavior_when_code_cannot_be_shared` applies).
    var cannotShare: Set<String> = []
    private var faults: [Route: [Fault]] = [:]
    private var nextID = 1
    private var nextPIN = 4711
    private let delay: Duration?
    private var inFlightPerDevice: [String: Int] = [:]
    private(set) var inFlight = 0
    private(set) var maxInFlight = 0
    private(set) var maxInFlightOnOneDevice = 0

    private var isHolding = false
    private var held: [CheckedContinuation<Void, Never>] = []

    init(delay: Duration? = nil) {
        self.delay = delay
    }

    /// From now on, calls wait inside the service (in flight) until ``release()``.
    func hold() { isHolding = true }

    /// Lets every held call, and every later one, go on.
    func release() {
        isHolding = false
        let waiting = held
        held = []
        for call in waiting { call.resume() }
    }

    /// Queues faults for the next calls of `route`, in order.
    func inject(_ route: Route, _ newFaults: Fault...) {
        faults[route, default: []].append(contentsOf: newFaults)
    }

    /// How many calls of `route` were made.
    func count(_ route: Route) -> Int {
        calls.count { $0.route == route }
    }

    /// The codes on `deviceID`.
    func codes(on deviceID: String) -> [ExistingCode] {
        codes.values.filter { $0.deviceID == deviceID }.sorted { $0.accessCodeID < $1.accessCodeID }
    }

    /// Marks locks as unable to share a PIN.
    func setCannotShare(_ devices: Set<String>) {
        cannotShare = devices
    }

    /// Removes a code behind Latchkey's back.
    func removeBehindOurBack(_ accessCodeID: String) {
        codes[accessCodeID] = nil
    }

    /// Locks that are offline: codes created on them carry Seam's errors and stay `setting`.
    private(set) var offline: Set<String> = []
    /// Whether new codes get a backup pool (`is_backup_access_code_available`).
    private(set) var backupPool = false

    /// Takes locks off- or online (codes already there keep their state until ``setOnLock(_:status:scheduled:errors:)``).
    func setOffline(_ devices: Set<String>) { offline = devices }

    /// Gives new codes a backup pool.
    func enableBackupPool() { backupPool = true }

    /// Sets what Seam says about a code on its lock.
    func setOnLock(
        _ accessCodeID: String, status: ExistingCode.Status, scheduled: Bool = false, errors: [String] = []
    ) {
        codes[accessCodeID]?.status = status
        codes[accessCodeID]?.isScheduledOnDevice = scheduled
        codes[accessCodeID]?.errors = errors
    }

    /// Every code on the lock as Seam shows one that reached it: scheduled there, no errors.
    func scheduleEverything() {
        for id in codes.keys where !offline.contains(codes[id]?.deviceID ?? "") {
            setOnLock(id, status: .unset, scheduled: true)
        }
    }

    /// Changes a code outside Latchkey: its PIN, its window.
    func changeBehindOurBack(_ accessCodeID: String, pin: String? = nil, endsAt: Date? = nil) {
        if let pin { codes[accessCodeID]?.code = AccessPIN(pin) }
        if let endsAt { codes[accessCodeID]?.endsAt = endsAt }
    }

    /// Adds a code made by hand (in Seam's console, say).
    func addByHand(device: String, name: String, pin: String, startsAt: Date, endsAt: Date) -> String {
        insert(device, name, AccessPIN(pin), nil, startsAt, endsAt).accessCodeID
    }

    // MARK: AccessCodeService

    func createMultiple(
        deviceIDs: [String], name: String, startsAt: Date, endsAt: Date, preferredCodeLength: Int,
        behavior: Property.CodeSharingBehavior
    ) async throws -> [CreatedCode] {
        try await perform(.createMultiple, deviceIDs) {
            if behavior == .throw, let device = deviceIDs.first(where: cannotShare.contains) {
                throw AccessCodeServiceError.permanent(message: "\(device) cannot share a code with the other locks")
            }
            let pin = AccessPIN(String(nextPIN))
            nextPIN += 1
            let commonKey = "auto_set_by_create_multiple_\(nextID)"
            return deviceIDs.map { device in
                let shares = !cannotShare.contains(device)
                let own = shares ? pin : AccessPIN(String(9000 + nextID))
                let code = insert(device, name, own, shares ? commonKey : nil, startsAt, endsAt)
                return CreatedCode(
                    accessCodeID: code.accessCodeID, deviceID: device, code: own, commonCodeKey: code.commonCodeKey)
            }
        }
    }

    func createSingle(
        deviceID: String, name: String, code: AccessPIN, commonCodeKey: String?, startsAt: Date, endsAt: Date
    ) async throws -> CreatedCode {
        try await perform(.createSingle, [deviceID]) {
            if codes.values.contains(where: { $0.deviceID == deviceID && $0.code == code }) {
                throw AccessCodeServiceError.permanent(message: "duplicate_access_code: PIN already on \(deviceID)")
            }
            // As Seam: codes of one common_code_key share one PIN.
            if let commonCodeKey, let groupPIN = codes.values.first(where: { $0.commonCodeKey == commonCodeKey })?.code,
                groupPIN != code
            {
                throw AccessCodeServiceError.permanent(message: "invalid_input: code differs from the group's PIN")
            }
            let created = insert(deviceID, name, code, commonCodeKey, startsAt, endsAt)
            return CreatedCode(
                accessCodeID: created.accessCodeID, deviceID: deviceID, code: code, commonCodeKey: commonCodeKey)
        }
    }

    func updateMultiple(commonCodeKey: String, name: String, startsAt: Date, endsAt: Date) async throws {
        let members = codes.values.filter { $0.commonCodeKey == commonCodeKey }
        try await perform(.updateMultiple, members.map(\.deviceID).sorted()) {
            for member in members {
                codes[member.accessCodeID]?.name = name
                codes[member.accessCodeID]?.startsAt = startsAt
                codes[member.accessCodeID]?.endsAt = endsAt
            }
        }
    }

    func updateSingle(accessCodeID: String, name: String, startsAt: Date, endsAt: Date) async throws {
        try await perform(.updateSingle, codes[accessCodeID].map { [$0.deviceID] } ?? []) {
            guard codes[accessCodeID] != nil else {
                throw AccessCodeServiceError.permanent(message: "access_code_not_found: \(accessCodeID)")
            }
            codes[accessCodeID]?.name = name
            codes[accessCodeID]?.startsAt = startsAt
            codes[accessCodeID]?.endsAt = endsAt
        }
    }

    func delete(accessCodeID: String) async throws {
        try await perform(.delete, codes[accessCodeID].map { [$0.deviceID] } ?? []) {
            codes[accessCodeID] = nil
        }
    }

    func listCodes(deviceID: String) async throws -> [ExistingCode] {
        try await perform(.listCodes, [deviceID]) { codes(on: deviceID) }
    }

    func pullBackupCode(accessCodeID: String) async throws -> BackupAccessCode {
        try await perform(.pullBackup, codes[accessCodeID].map { [$0.deviceID] } ?? []) {
            guard let original = codes[accessCodeID] else {
                throw AccessCodeServiceError.permanent(message: "access_code_not_found: \(accessCodeID)")
            }
            guard original.isBackupAccessCodeAvailable || original.pulledBackupAccessCodeID != nil else {
                throw AccessCodeServiceError.permanent(message: "backup_access_code_pool_not_enabled")
            }
            if let pulled = original.pulledBackupAccessCodeID, let backup = codes[pulled] {
                return BackupAccessCode(
                    accessCodeID: pulled, deviceID: backup.deviceID, code: backup.code, startsAt: backup.startsAt,
                    endsAt: backup.endsAt)
            }
            var backup = insert(original.deviceID, "", AccessPIN("8642"), nil, original.startsAt!, original.endsAt!)
            backup.name = nil
            backup.status = .set
            backup.errors = []
            backup.isBackupAccessCodeAvailable = false
            codes[backup.accessCodeID] = backup
            codes[accessCodeID]?.pulledBackupAccessCodeID = backup.accessCodeID
            codes[accessCodeID]?.isBackupAccessCodeAvailable = false
            return BackupAccessCode(
                accessCodeID: backup.accessCodeID, deviceID: backup.deviceID, code: backup.code,
                startsAt: backup.startsAt, endsAt: backup.endsAt)
        }
    }

    // MARK: Mechanics

    private func insert(
        _ device: String, _ name: String, _ pin: AccessPIN, _ commonKey: String?, _ startsAt: Date, _ endsAt: Date
    ) -> ExistingCode {
        let isOffline = offline.contains(device)
        let code = ExistingCode(
            accessCodeID: "ac-\(nextID)", deviceID: device, name: name, code: pin, commonCodeKey: commonKey,
            startsAt: startsAt, endsAt: endsAt, status: isOffline ? .setting : .unset,
            errors: isOffline ? ["failed_to_set_on_device", "device_offline"] : [],
            isBackupAccessCodeAvailable: backupPool)
        nextID += 1
        codes[code.accessCodeID] = code
        return code
    }

    private func perform<Result: Sendable>(
        _ route: Route, _ devices: [String], _ work: () throws -> Result
    ) async throws -> Result {
        calls.append(Call(route: route, devices: devices))
        inFlight += 1
        maxInFlight = max(maxInFlight, inFlight)
        for device in devices {
            inFlightPerDevice[device, default: 0] += 1
            maxInFlightOnOneDevice = max(maxInFlightOnOneDevice, inFlightPerDevice[device] ?? 0)
        }
        defer {
            inFlight -= 1
            for device in devices {
                inFlightPerDevice[device, default: 1] -= 1
            }
        }
        if isHolding {
            await withCheckedContinuation { held.append($0) }
        }
        if let delay {
            try await Task.sleep(for: delay)
        }
        let fault = faults[route]?.isEmpty == false ? faults[route]?.removeFirst() : nil
        switch fault {
        case .fail(let error):
            throw error
        case .hangBefore:
            try await Task.sleep(for: .seconds(3600))
            throw CancellationError()
        case .failAfterActing(let error):
            _ = try work()
            throw error
        case .hangAfter:
            _ = try work()
            try await Task.sleep(for: .seconds(3600))
            throw CancellationError()
        case nil, .pass:
            return try work()
        }
    }
}

/// A clock the test drives: sleeping jumps time forward at once and records how long was asked for.
final class TestClock: ReconcilerClock {
    private let state: Mutex<(now: Date, sleeps: [TimeInterval])>

    init(now: Date) {
        state = Mutex((now: now, sleeps: []))
    }

    func now() -> Date {
        state.withLock { $0.now }
    }

    func sleep(until deadline: Date) async throws {
        state.withLock {
            $0.sleeps.append(deadline.timeIntervalSince($0.now))
            $0.now = max($0.now, deadline)
        }
        try Task.checkCancellation()
        await Task.yield()
    }

    /// Moves time forward.
    func advance(by seconds: TimeInterval) {
        state.withLock { $0.now = $0.now.addingTimeInterval(seconds) }
    }

    /// The sleeps asked for, in seconds.
    var sleeps: [TimeInterval] {
        state.withLock { $0.sleeps }
    }
}

/// A pacer that makes the first call per device wait until a fixed instant, and records what it was asked.
final class RecordingPacer: SeamPacer {
    private let state = Mutex<(asked: [String], denied: Set<String>)>((asked: [], denied: []))
    private let waitUntil: Date

    init(waitUntil: Date) {
        self.waitUntil = waitUntil
    }

    func permission(for operation: SeamOperationKind, deviceID: String, at now: Date) async -> Date? {
        state.withLock {
            $0.asked.append("\(operation.rawValue):\(deviceID)")
            if $0.denied.insert(deviceID).inserted, now < waitUntil {
                return waitUntil
            }
            return nil
        }
    }

    /// `operation:device` for every question, in order.
    var asked: [String] {
        state.withLock { $0.asked }
    }
}
