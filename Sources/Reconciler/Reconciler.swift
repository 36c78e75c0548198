import Bookings
import Foundation
import Logging

/// Level-triggered reconciliation from bookings to one linked group of Seam access codes per confirmed booking.
///
/// Events only change a reservation's desired state (``apply(_:receivedSequence:)``); a worker plans one step
/// at a time (``Planner``) and makes the Seam call through a durable outbox: the intent is stored before the
/// call and the result after it. Work is serial per reservation and parallel across reservations, up to
/// ``ReconcilerConfiguration/maxConcurrentReservations``.
package actor Reconciler {
    /// What Seam's webhooks say about one code.
    package enum LockEventKind: String, Sendable, Codable, Hashable, CaseIterable {
        /// `access_code.set_on_device`.
        case set
        /// `access_code.failed_to_set_on_device`.
        case failedToSet = "failed_to_set"
        /// `access_code.removed_from_device` without Latchkey asking.
        case removedExternally = "removed_externally"
        /// `access_code.deleted`: the code is gone from Seam (Latchkey's own delete, or someone else's).
        case deleted
        /// `access_code.deleted_external_to_seam`: someone removed it at the lock or in the maker's app.
        case deletedExternally = "deleted_external_to_seam"
        /// `access_code.modified_external_to_seam`: someone changed its PIN or schedule outside Seam.
        case modifiedExternally = "modified_external_to_seam"

        /// The kind of a Seam `event_type`, or `nil` for events that say nothing about a code's presence.
        /// - Parameter eventType: E.g. `access_code.removed_from_device`.
        package init?(eventType: String) {
            guard eventType.hasPrefix("access_code."),
                let kind = Self.allCases.first(where: { "access_code.\($0.eventName)" == eventType })
            else { return nil }
            self = kind
        }

        /// Seam's event name after `access_code.`.
        package var eventName: String {
            switch self {
            case .set: "set_on_device"
            case .failedToSet: "failed_to_set_on_device"
            case .removedExternally: "removed_from_device"
            case .deleted: "deleted"
            case .deletedExternally: "deleted_external_to_seam"
            case .modifiedExternally: "modified_external_to_seam"
            }
        }
    }

    /// What ``apply(_:receivedSequence:)`` did with an event.
    package enum EventDisposition: String, Sendable, Hashable {
        /// The event replaced the desired state; the reservation is scheduled.
        case accepted
        /// Older than what is known, or the same booking state again (a duplicate); nothing changed.
        case ignored
    }

    /// A reservation as the admin API shows it. The PIN inside `applied` prints redacted.
    package struct ReservationSnapshot: Sendable, Hashable {
        /// The reservation.
        package var key: ReservationKey
        /// Where it stands.
        package var phase: ReservationPhase
        /// The latest booking state.
        package var desired: DesiredBooking?
        /// The codes in Seam.
        package var applied: AppliedGroup?
        /// The dead letter parking it, if any.
        package var deadLetterID: String?
        /// Why the record may disagree with Seam until the codes are read back, or `nil`.
        package var readBackReason: String?
    }

    private let service: any AccessCodeService
    private let store: any StateStore
    private let clock: any ReconcilerClock
    private let pacer: any SeamPacer
    private let configuration: ReconcilerConfiguration
    private let jitter: @Sendable (Double) -> Double
    private let logger: Logger
    private var catalogue: PropertyCatalogue

    private var records: [ReservationKey: ReservationRecord] = [:]
    /// The reservations whose record is in the store (see ``ReconcilerConfiguration/storesRecordsBeforeActing``):
    /// once stored, a record is stored again on every change, so the stored copy is never behind.
    private var storedRecords: Set<ReservationKey> = []
    /// The intents in flight and the dead letters, and the writes around every Seam call (see ``Outbox``).
    private var durableOutbox = Outbox()

    private var queue = FIFO<ReservationKey>()
    private var queued: Set<ReservationKey> = []
    private var running: [ReservationKey: Task<Void, Never>] = [:]
    private var rerun: Set<ReservationKey> = []
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var writeTails: [String: Task<Void, any Error>] = [:]
    /// Reservations whose work stopped on a store failure, each waiting ``ReconcilerConfiguration/storeRetryDelay``.
    private var storeRetries: [ReservationKey: Task<Void, Never>] = [:]
    /// Bumped whenever something makes a reservation's record uncertain, so a read-back that was already under
    /// way does not clear a reason that arrived while it listed.
    private var readBackGenerations: [ReservationKey: UInt64] = [:]
    /// Reservations found with work to do and none queued, in flight or parked (see ``checkInvariant()``).
    private var stuckFound = 0
    private var sweeper: Task<Void, Never>?
    private var stopped = false

    /// Creates a reconciler; call ``start()`` before anything else.
    /// - Parameters:
    ///   - catalogue: The configured properties.
    ///   - service: Seam's access-code API.
    ///   - store: Durable storage for records, intents and dead letters.
    ///   - clock: The time source. Default ``SystemClock``.
    ///   - pacer: Asked before every call. Default ``UnpacedCalls``.
    ///   - configuration: Concurrency, retries, naming. Default ``ReconcilerConfiguration/init(maxConcurrentReservations:maxAttempts:backoffBase:backoffCap:naming:)``.
    ///   - jitter: Picks a backoff delay in `0…ceiling` seconds. Default uniform random.
    ///   - logger: Debug-level progress; never PINs or guest names.
    package init(
        catalogue: PropertyCatalogue,
        service: any AccessCodeService,
        store: any StateStore,
        clock: any ReconcilerClock = SystemClock(),
        pacer: any SeamPacer = UnpacedCalls(),
        configuration: ReconcilerConfiguration = ReconcilerConfiguration(),
        jitter: @escaping @Sendable (Double) -> Double = { Double.random(in: 0...max(0, $0)) },
        logger: Logger = Logger(label: "latchkey.reconciler")
    ) {
        self.catalogue = catalogue
        self.service = service
        self.store = store
        self.clock = clock
        self.pacer = pacer
        self.configuration = configuration
        self.jitter = jitter
        self.logger = logger
    }

    // MARK: - Lifecycle

    /// Loads the stored state, turns intents left by a crash into look-ups, and schedules every reservation.
    /// - Throws: The store's errors, or ``ReconcilerError/corruptRecord(key:reason:)``.
    package func start() async throws {
        for (key, bytes) in try await store.entries(prefix: StoreKeys.reservations) {
            let record = try RecordCodec.decode(ReservationRecord.self, from: bytes, key: key)
            records[record.key] = record
            storedRecords.insert(record.key)
        }
        for (key, bytes) in try await store.entries(prefix: StoreKeys.deadLetters) {
            let letter = try RecordCodec.decode(DeadLetter.self, from: bytes, key: key)
            durableOutbox.load(letter)
        }
        for (key, bytes) in try await store.entries(prefix: StoreKeys.outbox) {
            let intent = try RecordCodec.decode(OutboxIntent.self, from: bytes, key: key)
            try await recover(intent)
        }
        // A crash inside retry(deadLetterID:) can leave a record blocked by a letter already removed.
        for (key, record) in records {
            if let letter = record.blockedBy, durableOutbox.deadLetters[letter] == nil {
                records[key]?.blockedBy = nil
                try await persistRecord(key)
            }
        }
        for key in records.keys.sorted() {
            schedule(key)
        }
        startSweeper()
    }

    /// Stops the worker: cancels calls in flight (their intents stay stored and are recovered by the next
    /// ``start()``) and waits for the tasks to end.
    package func stop() async {
        stopped = true
        sweeper?.cancel()
        if let sweeper { await sweeper.value }
        sweeper = nil
        queue.removeAll()
        queued.removeAll()
        let tasks = Array(running.values)
        for task in tasks {
            task.cancel()
        }
        for task in storeRetries.values {
            task.cancel()
        }
        storeRetries.removeAll()
        for task in tasks {
            await task.value
        }
        resumeIdleWaitersIfIdle()
    }

    /// Returns once no reservation is queued or being worked on.
    package func waitUntilIdle() async {
        if running.isEmpty && queue.isEmpty && storeRetries.isEmpty { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    // MARK: - Inputs

    /// Folds a booking event into its reservation's desired state and schedules the reservation.
    /// - Parameters:
    ///   - event: The event.
    ///   - receivedSequence: The intake's receipt order (the journal position); orders events without `updatedAt`.
    /// - Returns: Whether the event changed anything.
    /// - Throws: The store's errors (the event is then not applied; the caller may replay it).
    @discardableResult
    package func apply(_ event: BookingEvent, receivedSequence: UInt64) async throws -> EventDisposition {
        try await apply([(event, receivedSequence)])[0]
    }

    /// Folds booking events, in order, into their reservations' desired states, stores every changed record in
    /// one write (with ``ReconcilerConfiguration/storesRecordsBeforeActing`` false, only those already stored),
    /// then schedules those reservations. A burst of bookings thus costs one durable write per call, not one per
    /// booking.
    /// - Parameter events: Each event with its receipt order (see ``apply(_:receivedSequence:)``).
    /// - Returns: What became of each event, in order.
    /// - Throws: The store's errors; then none of the events is applied (the caller may replay them all).
    @discardableResult
    package func apply(_ events: [(event: BookingEvent, receivedSequence: UInt64)]) async throws -> [EventDisposition] {
        var dispositions: [EventDisposition] = []
        dispositions.reserveCapacity(events.count)
        var changed: [ReservationKey] = []  // in first-change order; `isChanged` answers membership
        var isChanged: Set<ReservationKey> = []
        var before: [ReservationKey: ReservationRecord] = [:]
        for (event, receivedSequence) in events {
            let key = ReservationKey(source: event.source, reservationID: event.reservationID)
            var record = records[key] ?? ReservationRecord(key: key)
            guard record.fold(event, receivedSequence: receivedSequence) else {
                dispositions.append(.ignored)
                continue
            }
            if isChanged.insert(key).inserted {
                changed.append(key)
                before[key] = records[key]
            }
            records[key] = record
            dispositions.append(.accepted)
        }
        guard !changed.isEmpty else { return dispositions }
        do {
            try await persistRecords(
                configuration.storesRecordsBeforeActing ? changed : changed.filter { storedRecords.contains($0) })
        } catch {
            // Not durable, so not applied: the intake may deliver them again and must not find them "duplicate".
            for key in changed {
                if let previous = before[key] {
                    records[key]?.desired = previous.desired
                    records[key]?.blockedBy = previous.blockedBy
                } else if records[key]?.applied == nil {
                    records[key] = nil
                }
            }
            throw error
        }
        for key in changed {
            logger.debug(
                "booking event accepted",
                metadata: ["reservation": "\(key)", "status": "\(records[key]?.desired.map { "\($0.status)" } ?? "-")"])
            schedule(key)
        }
        return dispositions
    }

    /// Records what Seam said about one code, and schedules its reservation. `set` marks it set. Every other
    /// kind makes the record uncertain, so the worker reads the group back from Seam before it reuses or moves
    /// it: a code that is gone leaves its lock to be given the group's PIN again (inside the group), or, when
    /// the reservation should have no code there, leaves the record altogether.
    /// - Returns: Whether the code belongs to a known reservation.
    /// - Throws: The store's errors.
    @discardableResult
    package func recordLockEvent(accessCodeID: String, kind: LockEventKind) async throws -> Bool {
        guard
            let (key, index) = records.lazy.compactMap({ key, record in
                record.applied?.codes.firstIndex { $0.accessCodeID == accessCodeID }.map { (key, $0) }
            }).first,
            var record = records[key], var applied = record.applied
        else { return false }
        switch kind {
        case .set:
            applied.codes[index].status = .set
        case .failedToSet:
            applied.codes[index].status = .failedToSet
        case .modifiedExternally:
            break
        case .removedExternally, .deleted, .deletedExternally:
            if wantsCode(on: applied.codes[index].deviceID, record: record) {
                applied.codes[index].accessCodeID = nil
                applied.codes[index].status = .removedExternally
            } else {
                // Gone where it should be gone (often Latchkey's own delete whose answer a crash lost).
                applied.codes.remove(at: index)
            }
        }
        record.applied = applied
        if kind != .set {
            record.readBackReason = "Seam event access_code.\(kind.eventName) for \(accessCodeID)"
            readBackGenerations[key, default: 0] &+= 1
        }
        if !(record.applied?.hasLiveCode ?? false), !wantsGroup(record) {
            record.applied = nil
        }
        records[key] = record
        try await persistRecord(key)
        schedule(key)
        return true
    }

    /// Whether the reservation's booking asks for a code on `deviceID` now.
    private func wantsCode(on deviceID: String, record: ReservationRecord) -> Bool {
        guard case .group(let spec) = desiredAccess(record) else { return false }
        return spec.deviceIDs.contains(deviceID)
    }

    /// Whether the reservation's booking asks for a group now.
    private func wantsGroup(_ record: ReservationRecord) -> Bool {
        if case .group = desiredAccess(record) { return true }
        return false
    }

    private func desiredAccess(_ record: ReservationRecord) -> DesiredAccess {
        DesiredAccess.resolve(record.desired, key: record.key, catalogue: catalogue, naming: configuration.naming)
    }

    /// Re-queues the work parked in a dead letter.
    /// - Throws: ``ReconcilerError/unknownDeadLetter(id:)``, or the store's errors.
    package func retry(deadLetterID: String) async throws {
        guard let letter = durableOutbox.deadLetters[deadLetterID] else {
            throw ReconcilerError.unknownDeadLetter(id: deadLetterID)
        }
        var record: [UInt8]?
        if records[letter.reservation]?.blockedBy == deadLetterID {
            records[letter.reservation]?.blockedBy = nil
            record = encodedRecord(letter.reservation)
        }
        try await commit(durableOutbox.release(letter, record: record))
        schedule(letter.reservation)
    }

    /// Replaces the property catalogue (a configuration reload) and re-plans every reservation.
    package func updateCatalogue(_ catalogue: PropertyCatalogue) {
        self.catalogue = catalogue
        reconcileAll()
    }

    /// Schedules every known reservation (e.g. periodically, to catch anything missed).
    package func reconcileAll() {
        for key in records.keys.sorted() {
            schedule(key)
        }
    }

    /// A reservation ``forgetReservations(endedBefore:)`` forgot.
    package struct ForgottenReservation: Sendable, Hashable {
        /// The reservation.
        package var key: ReservationKey
        /// The receipt order of the booking event it was last known by (see ``apply(_:receivedSequence:)``).
        package var receivedSequence: UInt64

        /// Creates a value (the reconciler makes them; tests compare against them).
        package init(key: ReservationKey, receivedSequence: UInt64) {
            self.key = key
            self.receivedSequence = receivedSequence
        }
    }

    /// Forgets reservations that need nothing more: the stay ended before `cutoff` (never later than now),
    /// nothing is in flight or parked. An event arriving later for one is harmless: its stay is past.
    /// - Returns: The reservations forgotten, each with the receipt order of its last booking event, so that the
    ///   caller can drop its own copy of that booking (and keep a newer one).
    /// - Throws: The store's errors.
    @discardableResult
    package func forgetReservations(endedBefore cutoff: Date) async throws -> [ForgottenReservation] {
        let limit = min(cutoff, clock.now())
        var forgotten: [ForgottenReservation] = []
        for key in Array(records.keys) {
            // Checked afresh each time round: the awaits below let events and workers run in between.
            guard let record = records[key], running[key] == nil, durableOutbox.intents[key] == nil,
                record.blockedBy == nil,
                record.pendingLookup == nil, record.readBackReason == nil, let end = stayEnd(of: record), end < limit,
                let sequence = record.desired?.version.receivedSequence
            else { continue }
            records[key] = nil
            if storedRecords.remove(key) != nil {
                try await commit([.delete(key: StoreKeys.reservation(key))])
            }
            forgotten.append(ForgottenReservation(key: key, receivedSequence: sequence))
        }
        return forgotten
    }

    /// When the reservation's access window ends (check-out plus buffer), whatever its status; `nil` when unknown.
    private func stayEnd(of record: ReservationRecord) -> Date? {
        guard record.desired != nil else { return nil }
        guard let spec = confirmedSpec(of: record) else { return record.applied?.codes.map(\.window.endsAt).max() }
        return max(spec.window.endsAt, record.applied?.codes.map(\.window.endsAt).max() ?? spec.window.endsAt)
    }

    // MARK: - Views

    /// One reservation's state, or `nil` when unknown.
    package func reservation(_ key: ReservationKey) -> ReservationSnapshot? {
        records[key].map(snapshot)
    }

    /// Every reservation's state, ordered by key unless `ordered` is false (counting needs no order, and sorting
    /// hundreds of thousands of keys holds the reconciler up).
    package func reservations(ordered: Bool = true) -> [ReservationSnapshot] {
        guard ordered else { return records.values.map(snapshot) }
        return records.keys.sorted().compactMap { records[$0].map(snapshot) }
    }

    /// The dead letters, oldest first.
    package func deadLetterList() -> [DeadLetter] {
        durableOutbox.deadLetters.values.sorted { ($0.failedAt, $0.id) < ($1.failedAt, $1.id) }
    }

    /// The intents in flight (at most one per reservation).
    package func outbox() -> [OutboxIntent] {
        durableOutbox.intents.keys.sorted().compactMap { durableOutbox.intents[$0] }
    }

    private func snapshot(_ record: ReservationRecord) -> ReservationSnapshot {
        let phase: ReservationPhase
        if record.blockedBy != nil {
            phase = .deadLettered
        } else if record.pendingLookup != nil || running[record.key] != nil && durableOutbox.intents[record.key] != nil
        {
            phase = .applying
        } else if case .none(let resting) = plan(record) {
            phase = resting
        } else {
            phase = .applying
        }
        return ReservationSnapshot(
            key: record.key, phase: phase, desired: record.desired, applied: record.applied,
            deadLetterID: record.blockedBy, readBackReason: record.readBackReason)
    }

    private func plan(_ record: ReservationRecord) -> PlannedStep {
        Planner.nextStep(
            desired: desiredAccess(record), applied: record.applied, readBackPending: record.readBackReason != nil,
            now: clock.now())
    }

    // MARK: - Scheduling

    private func schedule(_ key: ReservationKey) {
        guard !stopped else { return }
        if running[key] != nil {
            rerun.insert(key)
            return
        }
        if queued.insert(key).inserted {
            queue.append(key)
        }
        pump()
    }

    private func pump() {
        while !stopped, running.count < configuration.maxConcurrentReservations, let key = queue.popFirst() {
            queued.remove(key)
            running[key] = Task { await self.run(key) }
        }
        resumeIdleWaitersIfIdle()
    }

    private func finish(_ key: ReservationKey) {
        running[key] = nil
        if rerun.remove(key) != nil, !stopped, queued.insert(key).inserted {
            queue.append(key)
        }
        // The invariant, after every pass: work left to do is queued, retried later or parked.
        if !stopped, !Task.isCancelled, isIdle(key), records[key]?.blockedBy == nil, nextOperation(for: key) != nil {
            putBackToWork(key)
        }
        pump()
    }

    private func resumeIdleWaitersIfIdle() {
        guard running.isEmpty, queue.isEmpty && storeRetries.isEmpty || stopped else { return }
        let waiters = idleWaiters
        idleWaiters.removeAll()
        for waiter in waiters {
            waiter.resume()
        }
    }

    // MARK: - The worker

    private func run(_ key: ReservationKey) async {
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
    private func retryAfterStoreFailure(_ key: ReservationKey) {
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

    private func endStoreRetry(_ key: ReservationKey) {
        guard storeRetries.removeValue(forKey: key) != nil else { return }
        schedule(key)
        resumeIdleWaitersIfIdle()
    }

    /// The call to make next for a reservation: a pending look-up first, else the planned step's call.
    private func nextOperation(for key: ReservationKey) -> OutboxIntent.Operation? {
        guard let record = records[key] else { return nil }
        // A read-back lists every lock the reservation may have a code on and adopts codes carrying its marker:
        // it answers a pending look-up too.
        if let lookup = record.pendingLookup {
            return record.readBackReason != nil ? .readBack : .lookUp(lookup)
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
    private enum Outcome {
        /// The call succeeded and its result is stored.
        case succeeded
        /// Between retries the plan changed; the intent was dropped (a create of unknown outcome became a look-up).
        case abandoned
        /// The intent became a dead letter; the reservation is blocked.
        case parked
    }

    /// Makes one call with retries, through the outbox's write sequence (``Outbox``): the intent before a call that
    /// changes Seam, the attempts after each failure, the result and the intent's end in one write after it.
    private func execute(_ operation: OutboxIntent.Operation, for key: ReservationKey) async throws -> Outcome {
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
    private func call(_ intent: OutboxIntent) async throws {
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
        }
    }

    /// Whether a create of unknown outcome needs no new call: its result is already recorded, or the look-up
    /// found and adopted the codes it made.
    private func isSettled(_ recorded: Bool, orAdoptedBy lookup: CodeLookup, for key: ReservationKey) async throws
        -> Bool
    {
        if recorded { return true }
        return try await lookUpAndAdopt(lookup, for: key)
    }

    /// Lists the lookup's locks and adopts codes whose names carry the marker and that the record does not know.
    /// - Returns: Whether anything was adopted.
    private func lookUpAndAdopt(_ lookup: CodeLookup, for key: ReservationKey) async throws -> Bool {
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
            found[device].map {
                AppliedCode(
                    deviceID: device, accessCodeID: $0.accessCodeID, pin: $0.code, commonCodeKey: $0.commonCodeKey,
                    window: CodeWindow(
                        startsAt: $0.startsAt ?? lookup.window.startsAt, endsAt: $0.endsAt ?? lookup.window.endsAt),
                    name: $0.name ?? lookup.name, status: $0.status == .set ? .set : .unconfirmed)
            }
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

    private func updateCodes(
        of key: ReservationKey, where matches: (AppliedCode) -> Bool, window: CodeWindow, name: String
    ) {
        guard let codes = records[key]?.applied?.codes else { return }
        for index in codes.indices where matches(codes[index]) {
            records[key]?.applied?.codes[index].window = window
            records[key]?.applied?.codes[index].name = name
        }
    }

    private func replaceCode(of key: ReservationKey, with code: AppliedCode) {
        guard let index = records[key]?.applied?.codes.firstIndex(where: { $0.deviceID == code.deviceID }) else {
            records[key]?.applied?.codes.append(code)
            return
        }
        records[key]?.applied?.codes[index] = code
    }

    private func recordDeletion(of accessCodeID: String, for key: ReservationKey, keepingLock: Bool) {
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
    private func pace(_ kind: SeamOperationKind, _ deviceIDs: [String]) async throws {
        for device in deviceIDs {
            while let later = await pacer.permission(for: kind, deviceID: device, at: clock.now()) {
                try await clock.sleep(until: later)
            }
        }
    }

    // MARK: - Reading back

    /// Notes that the record may disagree with Seam: the worker reads the group back before relying on it.
    private func markUncertain(_ key: ReservationKey, because reason: String) {
        guard records[key] != nil else { return }
        records[key]?.readBackReason = reason
        readBackGenerations[key, default: 0] &+= 1
    }

    /// Lists every lock the reservation has or may have a code on and makes the record say what Seam holds:
    /// each lock's code (the recorded one, else one carrying the reservation's marker, preferring the group's
    /// key), its PIN, key, window and name; a lock whose code is gone becomes ``LockCodeStatus/missing``.
    /// Codes carrying the marker that the record did not know are adopted, so a cancelled reservation's
    /// forgotten code is found and deleted. Clears ``ReservationRecord/readBackReason`` unless a Seam event
    /// made the record uncertain again meanwhile.
    private func readBack(_ key: ReservationKey) async throws {
        guard let record = records[key] else { return }
        let generation = readBackGenerations[key, default: 0]
        let marker = CodeNaming.marker(for: key)
        let spec = confirmedSpec(of: record)
        var devices = record.applied?.deviceIDs ?? []
        for device in (spec?.deviceIDs ?? []) + (record.pendingLookup?.deviceIDs ?? []) where !devices.contains(device)
        {
            devices.append(device)
        }
        let known = Set(record.applied?.codes.compactMap(\.accessCodeID) ?? [])
        var found: [String: [ExistingCode]] = [:]
        for device in devices {
            try await pace(.list, [device])
            found[device] = try await service.listCodes(deviceID: device).filter {
                $0.deviceID == device && $0.status != .removing
                    && (known.contains($0.accessCodeID) || ($0.name?.contains(marker) ?? false))
            }
        }
        guard var current = records[key] else { return }
        let previous = current.applied
        let groupKey = previous?.commonCodeKey
        var codes: [AppliedCode] = []
        var duplicates = 0
        for device in devices {
            let recorded = previous?.codes.first { $0.deviceID == device }
            let candidates = found[device] ?? []
            let chosen =
                candidates.first { $0.accessCodeID == recorded?.accessCodeID && recorded?.accessCodeID != nil }
                ?? candidates.first { $0.commonCodeKey != nil && $0.commonCodeKey == groupKey }
                ?? candidates.first
            duplicates += max(0, candidates.count - 1)
            if let chosen {
                let stillFailing =
                    recorded?.accessCodeID == chosen.accessCodeID && recorded?.status == .failedToSet
                    && chosen.status != .set
                codes.append(
                    AppliedCode(
                        deviceID: device, accessCodeID: chosen.accessCodeID,
                        pin: chosen.code ?? recorded?.pin ?? previous?.pin, commonCodeKey: chosen.commonCodeKey,
                        window: CodeWindow(
                            startsAt: chosen.startsAt ?? recorded?.window.startsAt ?? spec?.window.startsAt
                                ?? Date.distantPast,
                            endsAt: chosen.endsAt ?? recorded?.window.endsAt ?? spec?.window.endsAt ?? Date.distantPast),
                        name: chosen.name ?? recorded?.name ?? spec?.name ?? "",
                        status: stillFailing ? .failedToSet : chosen.status == .set ? .set : .unconfirmed))
            } else if var recorded {
                recorded.accessCodeID = nil
                recorded.status = .missing
                codes.append(recorded)
            }
        }
        if duplicates > 0 {
            logger.warning(
                "more than one code carrying the reservation's marker on a lock; keeping one per lock",
                metadata: ["reservation": "\(key)", "extra": "\(duplicates)"])
        }
        let live = codes.filter(\.isLive)
        if live.isEmpty && !wantsGroup(current) {
            current.applied = nil
        } else if !codes.isEmpty {
            current.applied = AppliedGroup(
                propertyID: previous?.propertyID ?? spec?.propertyID ?? record.pendingLookup?.propertyID ?? "",
                commonCodeKey: groupKey ?? live.lazy.compactMap(\.commonCodeKey).first, codes: codes)
        }
        current.pendingLookup = nil
        if readBackGenerations[key, default: 0] == generation {
            current.readBackReason = nil
        }
        records[key] = current
        logger.debug(
            "read back from Seam",
            metadata: [
                "reservation": "\(key)", "locks": "\(devices.count)", "live": "\(live.count)",
                "missing": "\(codes.count - live.count)",
            ])
    }

    /// The group the reservation's booking would have if it were confirmed (its property's locks, window and
    /// name), whatever its status now; `nil` when the listing is unmapped or the dates unusable.
    private func confirmedSpec(of record: ReservationRecord) -> GroupSpec? {
        guard var booking = record.desired else { return nil }
        booking.status = .confirmed
        guard
            case .group(let spec) = DesiredAccess.resolve(
                booking, key: record.key, catalogue: catalogue, naming: configuration.naming)
        else { return nil }
        return spec
    }

    // MARK: - The invariant

    /// Checks that every reservation whose desired state differs from its applied state has work queued, in
    /// flight, waiting on a store retry, or parked in a dead letter. One that breaks it is logged, counted
    /// (``stuckReservationsFound``) and put back to work: no reservation can be stuck silently.
    /// Runs after every worker pass and every ``ReconcilerConfiguration/invariantSweepInterval``.
    /// - Returns: The reservations that broke it.
    @discardableResult
    package func checkInvariant() -> [ReservationKey] {
        guard !stopped else { return [] }
        var stuck: [ReservationKey] = []
        for (key, record) in records where isIdle(key) && record.blockedBy == nil && nextOperation(for: key) != nil {
            stuck.append(key)
        }
        for key in stuck.sorted() { putBackToWork(key) }
        return stuck
    }

    /// How many reservations ``checkInvariant()`` found stuck since start.
    package var stuckReservationsFound: Int { stuckFound }

    /// For tests of ``checkInvariant()`` only: forgets that `key` is queued, as a lost wake-up would.
    func loseQueuedWorkForTesting(_ key: ReservationKey) {
        guard queued.remove(key) != nil else { return }
        var kept = FIFO<ReservationKey>()
        while let next = queue.popFirst() {
            if next != key { kept.append(next) }
        }
        queue = kept
    }

    private func isIdle(_ key: ReservationKey) -> Bool {
        running[key] == nil && !queued.contains(key) && storeRetries[key] == nil && !rerun.contains(key)
    }

    private func putBackToWork(_ key: ReservationKey) {
        stuckFound += 1
        logger.error(
            "reservation has work to do but none queued, in flight or dead-lettered; put back to work",
            metadata: [
                "reservation": "\(key)", "operation": "\(nextOperation(for: key)?.label ?? "-")",
            ])
        schedule(key)
    }

    /// Starts the periodic invariant sweep. It sleeps on the system's clock, not the reconciler's: it is upkeep,
    /// not part of any reservation's timeline (a test clock that jumps ahead on every sleep stays the tests').
    private func startSweeper() {
        let interval = configuration.invariantSweepInterval
        guard interval > 0, sweeper == nil else { return }
        sweeper = Task {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(interval))
                } catch {
                    return
                }
                self.checkInvariant()
            }
        }
    }

    // MARK: - Dead letters and recovery

    /// Parks `intent` as a dead letter and blocks its reservation: the letter, the record and the intent's end in
    /// one write.
    private func park(_ intent: OutboxIntent, message: String) async throws {
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
    private func parkUnconverging(_ operation: OutboxIntent.Operation, for key: ReservationKey) async throws {
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
    private func abandon(_ intent: OutboxIntent) async throws {
        settleUnknownOutcome(of: intent)
        try await commit(durableOutbox.end(intent.reservation, record: encodedRecord(intent.reservation)))
        logger.debug(
            "intent abandoned: the plan changed",
            metadata: ["reservation": "\(intent.reservation)", "operation": "\(intent.operation.label)"])
    }

    /// For an intent that ends without success: a create that may have happened becomes the record's pending
    /// look-up, and any failed call that may have taken effect makes the record uncertain (read back).
    private func settleUnknownOutcome(of intent: OutboxIntent) {
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
    private func recover(_ intent: OutboxIntent) async throws {
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
    private func lookup(for intent: OutboxIntent) -> CodeLookup? {
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
        case .createGroup, .moveGroup, .moveCode, .deleteCode, .lookUp, .readBack:
            return nil
        }
    }

    // MARK: - Persistence

    /// The record's bytes for a write, noting it stored (see ``ReconcilerConfiguration/storesRecordsBeforeActing``);
    /// `nil` when there is no record. Marking before the write: a write that fails then only makes later changes
    /// of it stored too (one write more), never one stored change fewer.
    private func encodedRecord(_ key: ReservationKey) -> [UInt8]? {
        guard let record = records[key] else { return nil }
        storedRecords.insert(key)
        return record.encodedJSON()
    }

    private func persistRecord(_ key: ReservationKey) async throws {
        guard let bytes = encodedRecord(key) else { return }
        try await commit([.put(key: StoreKeys.reservation(key), value: bytes)])
    }

    /// Stores the records of `keys` in one write.
    private func persistRecords(_ keys: [ReservationKey]) async throws {
        let writes: [StateWrite] = keys.compactMap { key in
            encodedRecord(key).map { .put(key: StoreKeys.reservation(key), value: $0) }
        }
        guard !writes.isEmpty else { return }
        let entries = writes.compactMap { write -> (key: String, value: [UInt8])? in
            if case .put(let key, let value) = write { return (key, value) }
            return nil
        }
        let store = self.store
        try await inKeyOrder(entries.map(\.key)) { try await store.putAll(entries) }
    }

    /// Commits an outbox step's writes, then applies it in memory (see ``Outbox``).
    private func commit(_ step: Outbox.Step) async throws {
        try await commit(step.writes)
        durableOutbox.apply(step)
    }

    /// Applies `writes` as one durable write (``StateStore/commit(_:)``), in order with every other write to any
    /// of their keys. Nothing to write returns at once.
    private func commit(_ writes: [StateWrite]) async throws {
        guard !writes.isEmpty else { return }
        let store = self.store
        try await inKeyOrder(writes.map(\.key)) { try await store.commit(writes) }
    }

    /// Runs `operation` (a store write touching `keys`) after every earlier write to any of those keys, and makes
    /// later writes to them wait for it: the store sees each key's writes in call order.
    private func inKeyOrder(_ keys: [String], _ operation: @escaping @Sendable () async throws -> Void) async throws {
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
