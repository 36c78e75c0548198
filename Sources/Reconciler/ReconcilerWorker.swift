import Bookings
import Foundation
import Logging

// The worker: one Seam call at a time per reservation through the durable outbox (`Outbox`), its retries, dead
// letters and recovery, and the reconciler's writes to its `StateStore`.

extension Reconciler {
    // MARK: - The worker

    func run(_ key: ReservationKey) async {
        do {
            var previous: OutboxIntent.Operation?
            while !Task.isCancelled, records[key]?.blockedBy == nil, let operation = nextOperation(for: key) {
                // A step that succeeded must change the state; the same step again means it cannot converge.
                // (A read-back repeats when a Seam event made the record uncertain again while it listed.)
                guard operation != previous || operation == .readBack else {
                    logger.warning(
                        "the same step was planned twice in a row; parked as a dead letter",
                        metadata: ["reservation": "\(key)", "operation": "\(operation.label)"])
                    try await parkUnconverging(operation, for: key)
                    return finish(key)
                }
                switch try await execute(operation, for: key) {
                case .succeeded: previous = operation
                case .abandoned: previous = nil
                case .parked: return finish(key)
                }
            }
            if !Task.isCancelled, durableOutbox.intents[key] != nil, records[key]?.blockedBy == nil,
                nextOperation(for: key) == nil
            {
                // A store failure after a successful call left its intent (and the result only in memory): nothing
                // is left to do, so store the record and drop the intent.
                try await commit(durableOutbox.end(key, record: encodedRecord(key)))
            }
        } catch is CancellationError {
            logger.debug("worker stopped", metadata: ["reservation": "\(key)"])
        } catch {
            logger.warning(
                "reservation work stopped: state could not be stored; trying again in \(configuration.storeRetryDelay) s",
                metadata: ["reservation": "\(key)", "error": "\(error)"])
            retryAfterStoreFailure(key)
        }
        finish(key)
    }

    /// Works on `key` again after ``ReconcilerConfiguration/storeRetryDelay``: a store that failed (a full disk)
    /// usually recovers without any new event for the reservation to wake it.
    func retryAfterStoreFailure(_ key: ReservationKey) {
        guard !stopped, storeRetries[key] == nil else { return }
        let clock = self.clock
        let wake = clock.now().addingTimeInterval(configuration.storeRetryDelay)
        storeRetries[key] = Task {
            do {
                try await clock.sleep(until: wake)
            } catch {
                return
            }
            self.endStoreRetry(key)
        }
    }

    func endStoreRetry(_ key: ReservationKey) {
        guard storeRetries.removeValue(forKey: key) != nil else { return }
        schedule(key)
        resumeIdleWaitersIfIdle()
    }

    /// The call to make next for a reservation: a pending look-up first, else the planned step's call.
    func nextOperation(for key: ReservationKey) -> OutboxIntent.Operation? {
        guard let record = records[key] else { return nil }
        // A backup code of an arrival the booking no longer has goes before anything else (even a read-back).
        if let delete = strayBackupCodeDelete(for: record) { return delete }
        // A read-back lists every lock the reservation may have a code on and adopts codes carrying its marker:
        // it answers a pending look-up too.
        if let lookup = record.pendingLookup {
            return record.readBackReason != nil ? .readBack : .lookUp(lookup)
        }
        // A guest arriving soon whose lock failed gets the backup code before anything else is tried.
        if record.readBackReason == nil, let pull = backupPull(for: record) {
            return pull
        }
        return Self.operation(for: plan(record), key: key)
    }

    /// The Seam call that carries out `step`, or `nil` for ``PlannedStep/none(_:)``.
    static func operation(for step: PlannedStep, key: ReservationKey) -> OutboxIntent.Operation? {
        switch step {
        case .none:
            return nil
        case .create(let spec):
            return .createGroup(spec)
        case .moveWindow(let commonCodeKey, let window, let name):
            return .moveGroup(commonCodeKey: commonCodeKey, window: window, name: name)
        case .moveCode(let accessCodeID, let window, let name):
            return .moveCode(accessCodeID: accessCodeID, window: window, name: name)
        case .remove(let codes), .recreate(let codes, _):
            return codes.lazy.compactMap { code in
                code.accessCodeID.map {
                    OutboxIntent.Operation.deleteCode(deviceID: code.deviceID, accessCodeID: $0, forRepair: false)
                }
            }.first
        case .readBack:
            return .readBack
        case .repair(let repair):
            if let stale = repair.staleAccessCodeID {
                return .deleteCode(deviceID: repair.deviceID, accessCodeID: stale, forRepair: true)
            }
            return .repairCode(
                deviceID: repair.deviceID, window: repair.window, name: repair.name,
                marker: CodeNaming.marker(for: key))
        }
    }

    /// How one ``execute(_:for:)`` ended.
    enum Outcome {
        /// The call succeeded and its result is stored.
        case succeeded
        /// Between retries the plan changed; the intent was dropped (a create of unknown outcome became a look-up).
        case abandoned
        /// The intent became a dead letter; the reservation is blocked.
        case parked
    }

    /// Makes one call with retries, through the outbox's write sequence (``Outbox``): the intent before a call that
    /// changes Seam, the attempts after each failure, the result and the intent's end in one write after it.
    func execute(_ operation: OutboxIntent.Operation, for key: ReservationKey) async throws -> Outcome {
        var intent = OutboxIntent(
            id: UUID().uuidString.lowercased(), reservation: key, operation: operation, failedAttempts: 0,
            outcomeUnknown: false, createdAt: clock.now())
        let durable = operation.kind != .list
        if durable {
            try await commit(durableOutbox.begin(intent))
        }
        var waited = false
        while true {
            try Task.checkCancellation()
            if intent.failedAttempts > 0 || waited, nextOperation(for: key) != operation {
                try await abandon(intent)
                return .abandoned
            }
            let answered: Bool
            do {
                try await call(intent)
                answered = true
            } catch {
                answered = false
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                if error is ReconcilerError { throw error }
                let failure = (error as? AccessCodeServiceError) ?? .retryable(message: "\(error)", retryAfter: nil)
                if case .notCalled(_, let retryAfter) = failure {
                    // Seam is resting (circuit open): wait without using up an attempt, however long it lasts.
                    logger.debug(
                        "Seam not called; waiting",
                        metadata: [
                            "reservation": "\(key)", "operation": "\(operation.label)", "seconds": "\(retryAfter)",
                        ])
                    waited = true
                    try await clock.sleep(until: clock.now().addingTimeInterval(max(retryAfter, 0.1)))
                    continue
                }
                intent.failedAttempts += 1
                if case .retryable = failure, operation.createsCodes {
                    // Seam may have acted before the failure reached us (a timeout, a dropped connection).
                    intent.outcomeUnknown = true
                }
                logger.debug(
                    "Seam call failed",
                    metadata: [
                        "reservation": "\(key)", "operation": "\(operation.label)", "error": "\(failure)",
                        "attempt": "\(intent.failedAttempts)",
                    ])
                guard case .retryable(_, let retryAfter) = failure, intent.failedAttempts < configuration.maxAttempts
                else {
                    try await park(intent, message: failure.message)
                    return .parked
                }
                if durable {
                    try await commit(durableOutbox.attemptFailed(intent))
                }
                let delay = configuration.backoff(
                    afterFailures: intent.failedAttempts, retryAfter: retryAfter, jitter: jitter)
                try await clock.sleep(until: clock.now().addingTimeInterval(delay))
            }
            guard answered else { continue }
            // The result and the intent's end, one write. A store failure here is not Seam's: it stops this pass
            // (the reservation is worked on again after `storeRetryDelay`), with the result kept in memory.
            try await commit(durableOutbox.end(key, record: encodedRecord(key)))
            return .succeeded
        }
    }

    /// One attempt of `intent`'s call, and its result recorded in memory (``execute(_:for:)`` stores it).
    func call(_ intent: OutboxIntent) async throws {
        let key = intent.reservation
        switch intent.operation {
        case .createGroup(let spec):
            let lookup = CodeLookup(
                propertyID: spec.propertyID, deviceIDs: spec.deviceIDs, marker: spec.marker, window: spec.window,
                name: spec.name)
            // A planned create means no group; one here came from an earlier attempt whose result was not stored.
            let recorded = records[key]?.applied?.hasLiveCode == true
            if intent.outcomeUnknown, try await isSettled(recorded, orAdoptedBy: lookup, for: key) {
                return
            }
            try await pace(.create, spec.deviceIDs)
            let created = try await service.createMultiple(
                deviceIDs: spec.deviceIDs, name: spec.name, startsAt: spec.window.startsAt,
                endsAt: spec.window.endsAt, preferredCodeLength: spec.preferredCodeLength, behavior: spec.behavior)
            records[key]?.applied = Self.group(from: created, spec: spec)
        case .moveGroup(let commonCodeKey, let window, let name):
            let members = records[key]?.applied?.codes.filter { $0.commonCodeKey == commonCodeKey } ?? []
            try await pace(.update, members.map(\.deviceID))
            try await service.updateMultiple(
                commonCodeKey: commonCodeKey, name: name, startsAt: window.startsAt, endsAt: window.endsAt)
            updateCodes(of: key, where: { $0.commonCodeKey == commonCodeKey }, window: window, name: name)
        case .moveCode(let accessCodeID, let window, let name):
            let device = records[key]?.applied?.codes.first { $0.accessCodeID == accessCodeID }?.deviceID
            try await pace(.update, device.map { [$0] } ?? [])
            try await service.updateSingle(
                accessCodeID: accessCodeID, name: name, startsAt: window.startsAt, endsAt: window.endsAt)
            updateCodes(of: key, where: { $0.accessCodeID == accessCodeID }, window: window, name: name)
        case .deleteCode(let deviceID, let accessCodeID, let forRepair):
            try await pace(.delete, [deviceID])
            try await service.delete(accessCodeID: accessCodeID)
            recordDeletion(of: accessCodeID, for: key, keepingLock: forRepair)
        case .repairCode(let deviceID, let window, let name, let marker):
            let code = records[key]?.applied?.codes.first { $0.deviceID == deviceID }
            guard let applied = records[key]?.applied, let pin = code?.pin ?? applied.pin else { return }
            let lookup = CodeLookup(
                propertyID: applied.propertyID, deviceIDs: [deviceID], marker: marker, window: window, name: name)
            if intent.outcomeUnknown, try await isSettled(code?.needsRepair == false, orAdoptedBy: lookup, for: key) {
                return
            }
            try await pace(.create, [deviceID])
            // Inside the group: Seam gives the code the group's `common_code_key` (and so its PIN), and
            // `update_multiple` keeps moving it with the others. A lock that had a PIN of its own (it could not
            // share the group's) gets that one back, alone.
            let joinsGroup = pin == applied.pin
            let created = try await service.createSingle(
                deviceID: deviceID, name: name, code: pin, commonCodeKey: joinsGroup ? applied.commonCodeKey : nil,
                startsAt: window.startsAt, endsAt: window.endsAt)
            replaceCode(
                of: key,
                with: AppliedCode(
                    deviceID: deviceID, accessCodeID: created.accessCodeID, pin: created.code ?? pin,
                    commonCodeKey: created.commonCodeKey, window: window, name: name, status: .unconfirmed))
        case .lookUp(let lookup):
            _ = try await lookUpAndAdopt(lookup, for: key)
            records[key]?.pendingLookup = nil
        case .readBack:
            try await readBack(key)
        case .pullBackupCode(let deviceID, let accessCodeID):
            try await pullBackupCode(deviceID: deviceID, accessCodeID: accessCodeID, for: key)
        }
    }

    /// Whether a create of unknown outcome needs no new call: its result is already recorded, or the look-up
    /// found and adopted the codes it made.
    func isSettled(_ recorded: Bool, orAdoptedBy lookup: CodeLookup, for key: ReservationKey) async throws
        -> Bool
    {
        if recorded { return true }
        return try await lookUpAndAdopt(lookup, for: key)
    }

    /// Lists the lookup's locks and adopts codes whose names carry the marker and that the record does not know.
    /// - Returns: Whether anything was adopted.
    func lookUpAndAdopt(_ lookup: CodeLookup, for key: ReservationKey) async throws -> Bool {
        let known = Set(records[key]?.applied?.codes.compactMap(\.accessCodeID) ?? [])
        var found: [String: ExistingCode] = [:]
        for device in lookup.deviceIDs {
            try await pace(.list, [device])
            let codes = try await service.listCodes(deviceID: device)
            found[device] = codes.first {
                $0.deviceID == device && $0.status != .removing && !known.contains($0.accessCodeID)
                    && ($0.name?.contains(lookup.marker) ?? false)
            }
        }
        guard !found.isEmpty else { return false }
        logger.debug(
            "adopted codes found by marker", metadata: ["reservation": "\(key)", "codes": "\(found.count)"])
        let adopted = lookup.deviceIDs.compactMap { device in
            found[device].map { AppliedCode(adopting: $0, fallback: (lookup.window, lookup.name, nil)) }
        }
        if records[key]?.applied == nil {
            let pin = adopted.lazy.compactMap(\.pin).first
            let codes = lookup.deviceIDs.map { device in
                adopted.first { $0.deviceID == device }
                    ?? AppliedCode(
                        deviceID: device, accessCodeID: nil, pin: pin, commonCodeKey: nil, window: lookup.window,
                        name: lookup.name, status: .missing)
            }
            records[key]?.applied = AppliedGroup(
                propertyID: lookup.propertyID, commonCodeKey: adopted.lazy.compactMap(\.commonCodeKey).first,
                codes: codes)
        } else {
            for code in adopted {
                replaceCode(of: key, with: code)
            }
        }
        return true
    }

    /// The applied group made by `create_multiple`; a lock Seam returned no code for is ``LockCodeStatus/missing``.
    static func group(from created: [CreatedCode], spec: GroupSpec) -> AppliedGroup {
        let pin = created.lazy.compactMap(\.code).first
        let codes = spec.deviceIDs.map { device in
            let code = created.first { $0.deviceID == device }
            return AppliedCode(
                deviceID: device, accessCodeID: code?.accessCodeID, pin: code?.code ?? pin,
                commonCodeKey: code?.commonCodeKey, window: spec.window, name: spec.name,
                status: code == nil ? .missing : .unconfirmed)
        }
        return AppliedGroup(
            propertyID: spec.propertyID, commonCodeKey: created.lazy.compactMap(\.commonCodeKey).first, codes: codes)
    }

    func updateCodes(
        of key: ReservationKey, where matches: (AppliedCode) -> Bool, window: CodeWindow, name: String
    ) {
        guard let codes = records[key]?.applied?.codes else { return }
        for index in codes.indices where matches(codes[index]) {
            records[key]?.applied?.codes[index].window = window
            records[key]?.applied?.codes[index].name = name
        }
    }

    func replaceCode(of key: ReservationKey, with code: AppliedCode) {
        guard let index = records[key]?.applied?.codes.firstIndex(where: { $0.deviceID == code.deviceID }) else {
            records[key]?.applied?.codes.append(code)
            return
        }
        records[key]?.applied?.codes[index] = code
    }

    func recordDeletion(of accessCodeID: String, for key: ReservationKey, keepingLock: Bool) {
        forgetBackupCode(accessCodeID, for: key)
        guard let index = records[key]?.applied?.codes.firstIndex(where: { $0.accessCodeID == accessCodeID }) else {
            return
        }
        if keepingLock {
            records[key]?.applied?.codes[index].accessCodeID = nil
            records[key]?.applied?.codes[index].status = .missing
            return
        }
        records[key]?.applied?.codes.remove(at: index)
        if records[key]?.applied?.codes.allSatisfy({ $0.accessCodeID == nil }) ?? false {
            records[key]?.applied = nil
        }
    }

    /// Asks the pacer for every device in turn, waiting as told.
    func pace(_ kind: SeamOperationKind, _ deviceIDs: [String]) async throws {
        for device in deviceIDs {
            while let later = await pacer.permission(for: kind, deviceID: device, at: clock.now()) {
                try await clock.sleep(until: later)
            }
        }
    }

    // MARK: - Dead letters and recovery

    /// Parks `intent` as a dead letter and blocks its reservation: the letter, the record and the intent's end in
    /// one write.
    func park(_ intent: OutboxIntent, message: String) async throws {
        let key = intent.reservation
        let letter = DeadLetter(
            id: UUID().uuidString.lowercased(), reservation: key, operation: intent.operation.label,
            message: message, attempts: intent.failedAttempts, failedAt: clock.now())
        settleUnknownOutcome(of: intent)
        records[key]?.blockedBy = letter.id
        try await commit(durableOutbox.park(intent, letter: letter, record: encodedRecord(key)))
        logger.debug(
            "intent dead-lettered",
            metadata: ["reservation": "\(key)", "operation": "\(intent.operation.label)", "deadLetter": "\(letter.id)"])
    }

    /// Parks a step that succeeded but changed nothing (planned again at once): it cannot converge, and an
    /// operator must look. The reservation waits in a dead letter rather than silently unconverged.
    func parkUnconverging(_ operation: OutboxIntent.Operation, for key: ReservationKey) async throws {
        let intent = OutboxIntent(
            id: UUID().uuidString.lowercased(), reservation: key, operation: operation, failedAttempts: 0,
            outcomeUnknown: false, createdAt: clock.now())
        try await park(
            intent,
            message: "\(operation.label) succeeded but left the reservation unconverged; the same step was planned "
                + "again (retry once the cause is fixed)")
    }

    /// Drops an intent whose step is no longer planned; a create that may have happened becomes a look-up. The
    /// record (with any result an earlier attempt kept in memory but could not store) and the intent's end go in
    /// one write.
    func abandon(_ intent: OutboxIntent) async throws {
        settleUnknownOutcome(of: intent)
        try await commit(durableOutbox.end(intent.reservation, record: encodedRecord(intent.reservation)))
        logger.debug(
            "intent abandoned: the plan changed",
            metadata: ["reservation": "\(intent.reservation)", "operation": "\(intent.operation.label)"])
    }

    /// For an intent that ends without success: a create that may have happened becomes the record's pending
    /// look-up, and any failed call that may have taken effect makes the record uncertain (read back).
    func settleUnknownOutcome(of intent: OutboxIntent) {
        let key = intent.reservation
        if intent.outcomeUnknown, let lookup = lookup(for: intent) {
            records[key]?.pendingLookup = lookup
        }
        if intent.failedAttempts > 0, intent.operation.kind != .list {
            // One of the failed calls may have taken effect in Seam without its answer reaching us.
            markUncertain(key, because: "\(intent.operation.label) of unknown outcome")
        }
    }

    /// Handles an intent found at start: a create may have happened, so its codes are looked up before any
    /// new create; every call may have happened, so the group is read back before it is relied on. The record
    /// and the intent's end go in one write.
    func recover(_ intent: OutboxIntent) async throws {
        let key = intent.reservation
        if records[key] == nil {
            records[key] = ReservationRecord(key: key)
        }
        if let lookup = lookup(for: intent) {
            records[key]?.pendingLookup = lookup
        }
        markUncertain(key, because: "restart with \(intent.operation.label) in flight")
        try await commit(durableOutbox.endRecovered(key, record: encodedRecord(key)))
        logger.debug(
            "recovered intent", metadata: ["reservation": "\(key)", "operation": "\(intent.operation.label)"])
    }

    /// The look-up that resolves a create of unknown outcome, or `nil` when none is needed: other calls, or a
    /// create whose result is already recorded (a group exists; the repaired lock has a code).
    func lookup(for intent: OutboxIntent) -> CodeLookup? {
        let applied = records[intent.reservation]?.applied
        switch intent.operation {
        case .createGroup(let spec) where applied?.hasLiveCode != true:
            return CodeLookup(
                propertyID: spec.propertyID, deviceIDs: spec.deviceIDs, marker: spec.marker, window: spec.window,
                name: spec.name)
        case .repairCode(let deviceID, let window, let name, let marker):
            guard let applied, applied.codes.first(where: { $0.deviceID == deviceID })?.needsRepair ?? true else {
                return nil
            }
            return CodeLookup(
                propertyID: applied.propertyID, deviceIDs: [deviceID], marker: marker, window: window, name: name)
        case .createGroup, .moveGroup, .moveCode, .deleteCode, .lookUp, .readBack, .pullBackupCode:
            return nil
        }
    }

    // MARK: - Persistence

    /// The record's bytes for a write, noting it stored (see ``ReconcilerConfiguration/storesRecordsBeforeActing``);
    /// `nil` when there is no record. Marking before the write: a write that fails then only makes later changes
    /// of it stored too (one write more), never one stored change fewer.
    func encodedRecord(_ key: ReservationKey) -> [UInt8]? {
        guard let record = records[key] else { return nil }
        storedRecords.insert(key)
        return record.encodedJSON()
    }

    func persistRecord(_ key: ReservationKey) async throws {
        guard let bytes = encodedRecord(key) else { return }
        try await commit([.put(key: StoreKeys.reservation(key), value: bytes)])
    }

    /// Stores the records of `keys` in one write.
    func persistRecords(_ keys: [ReservationKey]) async throws {
        let entries = keys.compactMap { key in
            encodedRecord(key).map { (key: StoreKeys.reservation(key), value: $0) }
        }
        guard !entries.isEmpty else { return }
        let store = self.store
        try await inKeyOrder(entries.map(\.key)) { try await store.putAll(entries) }
    }

    /// Commits an outbox step's writes, then applies it in memory (see ``Outbox``).
    func commit(_ step: Outbox.Step) async throws {
        try await commit(step.writes)
        durableOutbox.apply(step)
    }

    /// Applies `writes` as one durable write (``StateStore/commit(_:)``), in order with every other write to any
    /// of their keys. Nothing to write returns at once.
    func commit(_ writes: [StateWrite]) async throws {
        guard !writes.isEmpty else { return }
        let store = self.store
        try await inKeyOrder(writes.map(\.key)) { try await store.commit(writes) }
    }

    /// Runs `operation` (a store write touching `keys`) after every earlier write to any of those keys, and makes
    /// later writes to them wait for it: the store sees each key's writes in call order.
    func inKeyOrder(_ keys: [String], _ operation: @escaping @Sendable () async throws -> Void) async throws {
        let previous = keys.compactMap { writeTails[$0] }
        let task = Task<Void, any Error> {
            for earlier in previous { _ = await earlier.result }
            try await operation()
        }
        for key in keys { writeTails[key] = task }
        defer {
            for key in keys where writeTails[key] == task { writeTails[key] = nil }
        }
        try await task.value
    }
}
