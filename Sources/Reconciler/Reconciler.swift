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
        /// `access_code.scheduled_on_device`: the lock holds the code and activates it at `starts_at`.
        case scheduled
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
            case .scheduled: "scheduled_on_device"
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
        /// The latest pre-arrival check, or `nil` before the first.
        package var arrivalCheck: ArrivalCheck?
    }

    let service: any AccessCodeService
    let store: any StateStore
    let clock: any ReconcilerClock
    let pacer: any SeamPacer
    let configuration: ReconcilerConfiguration
    let jitter: @Sendable (Double) -> Double
    let logger: Logger
    var catalogue: PropertyCatalogue

    var records: [ReservationKey: ReservationRecord] = [:]
    /// The reservations whose record is in the store (see ``ReconcilerConfiguration/storesRecordsBeforeActing``):
    /// once stored, a record is stored again on every change, so the stored copy is never behind.
    var storedRecords: Set<ReservationKey> = []
    /// The intents in flight and the dead letters, and the writes around every Seam call (see ``Outbox``).
    var durableOutbox = Outbox()

    var queue = FIFO<ReservationKey>()
    var queued: Set<ReservationKey> = []
    var running: [ReservationKey: Task<Void, Never>] = [:]
    var rerun: Set<ReservationKey> = []
    var idleWaiters: [CheckedContinuation<Void, Never>] = []
    var writeTails: [String: Task<Void, any Error>] = [:]
    /// Reservations whose work stopped on a store failure, each waiting ``ReconcilerConfiguration/storeRetryDelay``.
    var storeRetries: [ReservationKey: Task<Void, Never>] = [:]
    /// Bumped whenever something makes a reservation's record uncertain, so a read-back that was already under
    /// way does not clear a reason that arrived while it listed.
    var readBackGenerations: [ReservationKey: UInt64] = [:]
    /// Reservations found with work to do and none queued, in flight or parked (see ``checkInvariant()``).
    var stuckFound = 0
    /// Reservations whose pre-arrival check is due (the check point, in seconds before arrival): their next
    /// read-back is evaluated (see ``scheduleArrivalChecks()``).
    var arrivalChecksDue: [ReservationKey: TimeInterval] = [:]
    /// What the pre-arrival checks did since start.
    var arrivalCounts = ArrivalCheckCounts()
    /// What the drift reconciliations did since start.
    var driftTotals = DriftReport()
    var sweeper: Task<Void, Never>?
    var stopped = false

    /// Creates a reconciler; call ``start()`` before anything else.
    /// - Parameters:
    ///   - catalogue: The configured properties.
    ///   - service: Seam's access-code API.
    ///   - store: Durable storage for records, intents and dead letters.
    ///   - clock: The time source. Default ``SystemClock``.
    ///   - pacer: Asked before every call. Default ``UnpacedCalls``.
    ///   - configuration: Concurrency, retries, naming. Default ``ReconcilerConfiguration`` with its documented defaults.
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
        let retries = Array(storeRetries.values)
        for task in retries {
            task.cancel()
        }
        storeRetries.removeAll()
        for task in retries {
            await task.value
        }
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

    /// Records what Seam said about one code, and schedules its reservation. `set` marks it set, `scheduled`
    /// scheduled (unless already set). Every other
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
        case .scheduled:
            // Seam sends it before set_on_device: only a code not yet heard of becomes scheduled (arriving late,
            // it must not take back `set`, nor hide a `failed_to_set` or an altered code that needs repair).
            if applied.codes[index].status == .unconfirmed { applied.codes[index].status = .scheduled }
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
        if !(record.applied?.hasLiveCode ?? false), !wantsGroup(record) {
            record.applied = nil
        }
        let before = records[key]
        records[key] = record
        if kind != .set && kind != .scheduled {
            markUncertain(key, because: "Seam event access_code.\(kind.eventName) for \(accessCodeID)")
        }
        do {
            try await persistRecord(key)
        } catch {
            // Not stored, so not recorded: Seam sends the event again (503), and memory stays as the store is.
            records[key] = before
            throw error
        }
        schedule(key)
        return true
    }

    /// Whether the reservation's booking asks for a code on `deviceID` now.
    func wantsCode(on deviceID: String, record: ReservationRecord) -> Bool {
        guard case .group(let spec) = desiredAccess(record) else { return false }
        return spec.deviceIDs.contains(deviceID)
    }

    /// Whether the reservation's booking asks for a group now.
    func wantsGroup(_ record: ReservationRecord) -> Bool {
        if case .group = desiredAccess(record) { return true }
        return false
    }

    func desiredAccess(_ record: ReservationRecord) -> DesiredAccess {
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
                record.pendingLookup == nil, let end = stayEnd(of: record), end < limit,
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
    func stayEnd(of record: ReservationRecord) -> Date? {
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

    func snapshot(_ record: ReservationRecord) -> ReservationSnapshot {
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
            deadLetterID: record.blockedBy, readBackReason: record.readBackReason, arrivalCheck: record.arrivalCheck)
    }

    func plan(_ record: ReservationRecord) -> PlannedStep {
        Planner.nextStep(
            desired: desiredAccess(record), applied: record.applied, readBackPending: record.readBackReason != nil,
            now: clock.now())
    }

    // MARK: - Scheduling

    func schedule(_ key: ReservationKey) {
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

    func pump() {
        while !stopped, running.count < configuration.maxConcurrentReservations, let key = queue.popFirst() {
            queued.remove(key)
            running[key] = Task { await self.run(key) }
        }
        resumeIdleWaitersIfIdle()
    }

    func finish(_ key: ReservationKey) {
        running[key] = nil
        if rerun.remove(key) != nil, !stopped, queued.insert(key).inserted {
            queue.append(key)
        }
        // The invariant, after every pass: work left to do is queued, retried later or parked.
        if !stopped, !Task.isCancelled, isStuck(key) {
            putBackToWork(key)
        }
        pump()
    }

    func resumeIdleWaitersIfIdle() {
        guard running.isEmpty, queue.isEmpty && storeRetries.isEmpty || stopped else { return }
        let waiters = idleWaiters
        idleWaiters.removeAll()
        for waiter in waiters {
            waiter.resume()
        }
    }

}
