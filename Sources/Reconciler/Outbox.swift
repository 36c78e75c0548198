import Bookings
import Foundation

/// The durable outbox: the intents of Seam calls in flight (at most one per reservation) and the dead letters,
/// and the write sequence around every Seam call, in one place. Each step returns the writes it needs; the
/// reconciler commits them (``StateStore/commit(_:)``: one transaction, one `fdatasync`, each) and only then
/// applies the step in memory (``apply(_:)``), so memory never runs ahead of the store.
///
/// | step | writes, in one transaction | fsyncs |
/// | --- | --- | --- |
/// | ``begin(_:)``: before a call that changes Seam | the intent | 1 |
/// | ``attemptFailed(_:)``: after a failed attempt, before the backoff | the intent with its attempt count | 1 |
/// | ``end(_:record:)``: the call's result is in the record (success), or the plan changed between attempts | the record; the intent removed | 1 |
/// | ``park(_:letter:record:)``: attempts used up, or a permanent failure | the dead letter; the record (blocked); the intent removed | 1 |
/// | ``release(_:record:)``: an operator's retry | the dead letter removed; the record (unblocked) | 1 |
///
/// So a Seam call that succeeds at once costs two fsyncs: one before it (the intent, so a crash after Seam acted
/// is known and looked up, never blindly repeated) and one after (its result and the intent's end together, so
/// no crash can leave one without the other). Read-only calls (look-ups, read-backs) write no intent; their
/// result is stored with the record in ``end(_:record:)``'s single write.
struct Outbox {
    /// The intents in flight, by reservation.
    private(set) var intents: [ReservationKey: OutboxIntent] = [:]
    /// The dead letters, by id.
    private(set) var deadLetters: [String: DeadLetter] = [:]

    /// One step of the sequence: the writes to commit, then (only once they are durable) ``apply(_:)``.
    struct Step {
        /// What to write, in one transaction.
        var writes: [StateWrite]
        fileprivate var intent: OutboxIntent?
        fileprivate var endedIntent: ReservationKey?
        fileprivate var newLetter: DeadLetter?
        fileprivate var releasedLetter: String?
    }

    /// Takes a dead letter found in the store at start.
    mutating func load(_ letter: DeadLetter) {
        deadLetters[letter.id] = letter
    }

    /// Makes a committed step's change in memory. Called only after ``Step/writes`` are durable, so a failed
    /// write leaves memory as the store is.
    mutating func apply(_ step: Step) {
        if let key = step.endedIntent { intents[key] = nil }
        if let intent = step.intent { intents[intent.reservation] = intent }
        if let letter = step.newLetter { deadLetters[letter.id] = letter }
        if let id = step.releasedLetter { deadLetters[id] = nil }
    }

    /// Before a call that changes Seam: the intent is written first.
    func begin(_ intent: OutboxIntent) throws -> Step {
        Step(
            writes: [.put(key: StoreKeys.intent(intent.reservation), value: try RecordCodec.encode(intent))],
            intent: intent)
    }

    /// After a failed attempt that will be retried: the intent with its attempts and unknown outcome.
    func attemptFailed(_ intent: OutboxIntent) throws -> Step {
        try begin(intent)
    }

    /// The reservation's step is over (its result is in `record`, or it was given up for a new plan): the record
    /// and the intent's removal in one write. `record` is `nil` when there is none to store.
    func end(_ key: ReservationKey, record: [UInt8]?) -> Step {
        var writes: [StateWrite] = []
        if let record { writes.append(.put(key: StoreKeys.reservation(key), value: record)) }
        if intents[key] != nil { writes.append(.delete(key: StoreKeys.intent(key))) }
        return Step(writes: writes, endedIntent: key)
    }

    /// Drops an intent found in the store at start (its reservation's record, with what recovery made of it,
    /// is written in the same transaction).
    func endRecovered(_ key: ReservationKey, record: [UInt8]?) -> Step {
        var writes: [StateWrite] = []
        if let record { writes.append(.put(key: StoreKeys.reservation(key), value: record)) }
        writes.append(.delete(key: StoreKeys.intent(key)))
        return Step(writes: writes, endedIntent: key)
    }

    /// The intent could not succeed: a dead letter parks the reservation's work.
    func park(_ intent: OutboxIntent, letter: DeadLetter, record: [UInt8]?) throws -> Step {
        var step = end(intent.reservation, record: record)
        step.writes.insert(
            .put(key: StoreKeys.deadLetter(letter.id), value: try RecordCodec.encode(letter)), at: 0)
        step.newLetter = letter
        return step
    }

    /// An operator's retry: the dead letter goes, and the record (unblocked) with it.
    /// - Parameters:
    ///   - letter: One of ``deadLetters``.
    ///   - record: The reservation's record to store, or `nil` when it did not change.
    func release(_ letter: DeadLetter, record: [UInt8]?) -> Step {
        var writes: [StateWrite] = [.delete(key: StoreKeys.deadLetter(letter.id))]
        if let record { writes.append(.put(key: StoreKeys.reservation(letter.reservation), value: record)) }
        return Step(writes: writes, releasedLetter: letter.id)
    }
}

/// One Seam mutation, written durably before the call and removed after its result is recorded.
package struct OutboxIntent: Sendable, Codable, Hashable {
    /// What the call does.
    package enum Operation: Sendable, Codable, Hashable {
        /// `create_multiple` for a group.
        case createGroup(GroupSpec)
        /// `update_multiple` for the codes carrying the key.
        case moveGroup(commonCodeKey: String, window: CodeWindow, name: String)
        /// `update` of one code.
        case moveCode(accessCodeID: String, window: CodeWindow, name: String)
        /// `delete` of one code; `forRepair` keeps the lock in the group as ``LockCodeStatus/missing``.
        case deleteCode(deviceID: String, accessCodeID: String, forRepair: Bool)
        /// `create` with the group's PIN on one lock (the PIN is read from the record, never kept here).
        case repairCode(deviceID: String, window: CodeWindow, name: String, marker: String)
        /// `list` the locks and adopt codes carrying the marker (read-only; never written to the outbox).
        case lookUp(CodeLookup)
        /// `list` the group's locks and correct the record from what Seam holds (read-only; never written to
        /// the outbox).
        case readBack
        /// `pull_backup_access_code` for a lock whose code failed at the backup point before arrival.
        case pullBackupCode(deviceID: String, accessCodeID: String)

        /// The kind of call, for the pacer.
        var kind: SeamOperationKind {
            switch self {
            case .createGroup, .repairCode, .pullBackupCode: .create
            case .moveGroup, .moveCode: .update
            case .deleteCode: .delete
            case .lookUp, .readBack: .list
            }
        }

        /// Whether a call that may have happened must be looked up (by marker) before it is made again.
        var createsCodes: Bool { kind == .create }

        /// A short label for logs and dead letters.
        package var label: String {
            switch self {
            case .createGroup: "create_multiple"
            case .moveGroup: "update_multiple"
            case .moveCode: "update"
            case .deleteCode: "delete"
            case .repairCode: "create (repair)"
            case .lookUp: "list (adopt)"
            case .readBack: "list (read back)"
            case .pullBackupCode: "pull_backup_access_code"
            }
        }
    }

    /// A unique id.
    package var id: String
    /// The reservation.
    package var reservation: ReservationKey
    /// The call.
    package var operation: Operation
    /// Calls made so far that did not succeed.
    package var failedAttempts: Int
    /// Whether an earlier call may have taken effect without Latchkey seeing the answer
    /// (a crash or a retryable failure after sending): a create must then look up before creating.
    package var outcomeUnknown: Bool
    /// When it was written.
    package var createdAt: Date
}

/// An intent that could not succeed: parked with Seam's message until `retry(deadLetterID:)`.
package struct DeadLetter: Sendable, Codable, Hashable {
    /// The id to retry it by.
    package var id: String
    /// The reservation.
    package var reservation: ReservationKey
    /// The call that failed, e.g. `create_multiple`.
    package var operation: String
    /// Seam's (or the service's) message for the last failure.
    package var message: String
    /// Calls made.
    package var attempts: Int
    /// When it was parked.
    package var failedAt: Date
}
