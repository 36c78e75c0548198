import Foundation

// The values the console's pages are rendered from. The gateway builds them from the reconciler's records, the
// intake's recent deliveries and Seam's live answers; this module never sees those modules.

/// How a status reads at a glance. Every status is shown as an icon and a word; the tone only adds colour.
package enum Tone: String, Sendable, Hashable {
    /// Nothing to do.
    case ok
    /// Under way; it should settle by itself.
    case pending
    /// Needs a person.
    case attention
    /// Nothing to say (cancelled, past).
    case quiet
}

/// The icons of the console's sprite (`#i-<name>`).
package enum Icon: String, Sendable, CaseIterable {
    case check, clock, dots, cross, offline, dash, alert, key, retry
}

/// One lock's code for one reservation, as the console says it.
package enum LockState: String, Sendable, Hashable, CaseIterable {
    /// Seam says the code is on the lock and working.
    case set
    /// The code is on the lock, waiting for its start time.
    case scheduled
    /// Seam is putting it on the lock.
    case setting
    /// Seam could not put it on the lock.
    case failed
    /// The lock is offline (as Seam reports it).
    case offline
    /// No code on this lock (removed at the keypad, or not made yet); Latchkey re-creates it.
    case missing
    /// The code is being removed or was removed (the stay is over or cancelled).
    case removed
    /// Latchkey has no word from Seam yet.
    case unknown

    /// The word shown.
    package var label: String {
        switch self {
        case .set: "Set"
        case .scheduled: "Scheduled"
        case .setting: "Setting"
        case .failed: "Failed"
        case .offline: "Offline"
        case .missing: "Missing"
        case .removed: "Removed"
        case .unknown: "Waiting for Seam"
        }
    }

    /// How it reads.
    package var tone: Tone {
        switch self {
        case .set, .scheduled: .ok
        case .setting, .unknown: .pending
        case .failed, .offline, .missing: .attention
        case .removed: .quiet
        }
    }

    /// Its icon.
    package var icon: Icon {
        switch self {
        case .set: .check
        case .scheduled: .clock
        case .setting, .unknown: .dots
        case .failed, .missing: .cross
        case .offline: .offline
        case .removed: .dash
        }
    }
}

/// One lock of a reservation's group.
package struct LockLine: Sendable, Hashable {
    /// The lock's name (Seam's display name, else its id).
    package var lockName: String
    /// Seam's device id.
    package var deviceID: String
    /// The code's state.
    package var state: LockState
    /// A short explanation (Seam's error, "code set before the lock went offline"), or nil.
    package var detail: String?
    /// Seam's access-code id, or nil.
    package var accessCodeID: String?

    /// Creates a value.
    package init(
        lockName: String, deviceID: String, state: LockState, detail: String? = nil, accessCodeID: String? = nil
    ) {
        self.lockName = lockName
        self.deviceID = deviceID
        self.state = state
        self.detail = detail
        self.accessCodeID = accessCodeID
    }
}

/// The group of a reservation as a whole.
package enum GroupStatus: String, Sendable, Hashable {
    /// A code on every lock (set, or scheduled for the stay).
    case ready
    /// Latchkey or Seam is still at work.
    case settingUp
    /// Something failed and needs a person (a dead letter, a failed or offline lock, an unmapped listing).
    case attention
    /// No code is wanted now (not confirmed, cancelled, too early).
    case noCode
    /// The stay is over.
    case past

    /// The word shown.
    package var label: String {
        switch self {
        case .ready: "Ready"
        case .settingUp: "Setting up"
        case .attention: "Needs attention"
        case .noCode: "No code"
        case .past: "Past"
        }
    }

    /// How it reads.
    package var tone: Tone {
        switch self {
        case .ready: .ok
        case .settingUp: .pending
        case .attention: .attention
        case .noCode, .past: .quiet
        }
    }

    /// Its icon.
    package var icon: Icon {
        switch self {
        case .ready: .check
        case .settingUp: .dots
        case .attention: .alert
        case .noCode, .past: .dash
        }
    }

    /// The group's status from the reconciler's phase (`converged`, `applying`, `dead_lettered`, …) and its locks:
    /// converged with a code on every lock is ready; any failed, offline or missing lock, a dead letter, an unmapped
    /// listing or invalid dates need attention; a lock still setting keeps it setting up.
    /// - Parameters:
    ///   - phase: The reconciler's phase, as its raw value.
    ///   - locks: The group's locks.
    /// - Returns: The status and a sentence for people.
    package static func summarise(phase: String, locks: [LockLine]) -> (status: GroupStatus, text: String) {
        let total = locks.count
        let good = locks.count { $0.state.tone == .ok }
        switch phase {
        case "dead_lettered": return (.attention, "A Seam call failed; retry it on the Problems page")
        case "unmapped": return (.attention, "The listing is not mapped to a property in the configuration")
        case "invalid_dates": return (.attention, "The booking's dates cannot be used")
        case "no_access": return (.noCode, "No code: the booking is not confirmed")
        case "waiting": return (.noCode, "No code yet: waiting for the booking's details")
        case "past": return (.past, "The stay is over")
        default: break
        }
        if locks.contains(where: { $0.state.tone == .attention }) {
            let bad = locks.filter { $0.state.tone == .attention }.map {
                "\($0.lockName) \($0.state.label.lowercased())"
            }
            return (.attention, bad.joined(separator: ", "))
        }
        if total > 0 && good == total && phase == "converged" {
            return (.ready, "Code on \(good) of \(total) lock\(total == 1 ? "" : "s")")
        }
        if total == 0 { return (.settingUp, "Creating the codes") }
        return (.settingUp, "Code on \(good) of \(total) lock\(total == 1 ? "" : "s") so far")
    }
}

/// The last pre-arrival check of a reservation (filled in when the pre-arrival checks are built in).
package struct PreArrivalCheck: Sendable, Hashable {
    /// When it ran.
    package var at: Date
    /// How it came out.
    package var tone: Tone
    /// What it found, for people.
    package var text: String

    /// Creates a value.
    package init(at: Date, tone: Tone, text: String) {
        self.at = at
        self.tone = tone
        self.text = text
    }
}

/// One notification sent (or not) about a reservation (filled in when notifications are built in).
package struct NotificationLine: Sendable, Hashable {
    /// When it was sent or tried.
    package var at: Date
    /// Where it went, e.g. `email`, `sms`, `slack`.
    package var channel: String
    /// What it said or why it failed.
    package var text: String
    /// Whether it was delivered.
    package var succeeded: Bool
    /// The reservation, as `source/id`, for the Problems page.
    package var reservation: String?

    /// Creates a value.
    package init(at: Date, channel: String, text: String, succeeded: Bool, reservation: String? = nil) {
        self.at = at
        self.channel = channel
        self.text = text
        self.succeeded = succeeded
        self.reservation = reservation
    }
}

/// What other parts of Latchkey may add to the console: the pre-arrival checks and the notifications. Each is
/// optional; a page shows its column or section only when an add-on is given.
package protocol ConsoleAddOns: Sendable {
    /// The last pre-arrival check of a reservation, or nil when none ran.
    func preArrivalCheck(source: String, reservationID: String) async -> PreArrivalCheck?
    /// The notifications about a reservation, most recent first.
    func notifications(source: String, reservationID: String) async -> [NotificationLine]
    /// Notifications that failed recently, most recent first.
    func failedNotifications() async -> [NotificationLine]
}

/// An arrival window of the Arrivals page, in each property's own time zone.
package enum ArrivalRange: String, Sendable, CaseIterable {
    /// Check-in today.
    case today
    /// Check-in tomorrow.
    case tomorrow
    /// Check-in today or in the next six days.
    case week

    /// The tab's label.
    package var label: String {
        switch self {
        case .today: "Today"
        case .tomorrow: "Tomorrow"
        case .week: "Next 7 days"
        }
    }

    /// Whether a check-in at `checkIn` falls in this range, judged in `timeZone` at `now`.
    /// - Parameters:
    ///   - checkIn: The check-in instant.
    ///   - timeZone: The property's zone.
    ///   - now: The current time.
    /// - Returns: Whether it is in the range.
    package func contains(_ checkIn: Date, timeZone: TimeZone, now: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let today = calendar.startOfDay(for: now)
        let day = calendar.startOfDay(for: checkIn)
        guard let offset = calendar.dateComponents([.day], from: today, to: day).day else { return false }
        switch self {
        case .today: return offset == 0
        case .tomorrow: return offset == 1
        case .week: return (0...6).contains(offset)
        }
    }
}

/// One arrival on the Arrivals page (and a failed one on the Problems page).
package struct ArrivalRow: Sendable, Hashable {
    /// The PMS source.
    package var source: String
    /// The PMS's reservation id.
    package var reservationID: String
    /// The guest's first name, or nil.
    package var guestFirstName: String?
    /// The property's name, or nil when the listing is unmapped.
    package var propertyName: String?
    /// The property's IANA zone; the stay is shown in it.
    package var timeZone: String
    /// Check-in, or nil when unknown.
    package var checkIn: Date?
    /// Check-out, or nil when unknown.
    package var checkOut: Date?
    /// The group's status.
    package var status: GroupStatus
    /// The group's status in a sentence.
    package var statusText: String
    /// Each lock's code.
    package var locks: [LockLine]
    /// The last pre-arrival check, when the add-on gives one.
    package var preArrival: PreArrivalCheck?

    /// Creates a value.
    package init(
        source: String, reservationID: String, guestFirstName: String?, propertyName: String?, timeZone: String,
        checkIn: Date?, checkOut: Date?, status: GroupStatus, statusText: String, locks: [LockLine],
        preArrival: PreArrivalCheck? = nil
    ) {
        self.source = source
        self.reservationID = reservationID
        self.guestFirstName = guestFirstName
        self.propertyName = propertyName
        self.timeZone = timeZone
        self.checkIn = checkIn
        self.checkOut = checkOut
        self.status = status
        self.statusText = statusText
        self.locks = locks
        self.preArrival = preArrival
    }
}

/// A delivery received at `POST /webhooks/{source}`.
package struct DeliveryLine: Sendable, Hashable {
    /// When it arrived.
    package var at: Date
    /// The source in the URL.
    package var source: String
    /// `accepted`, `duplicate`, `ignored` or `rejected`.
    package var verdict: String
    /// The HTTP status answered.
    package var status: Int
    /// Why it was rejected or ignored, or nil.
    package var reason: String?
    /// The reservations it carried, when decoded.
    package var reservationIDs: [String]

    /// Creates a value.
    package init(at: Date, source: String, verdict: String, status: Int, reason: String?, reservationIDs: [String]) {
        self.at = at
        self.source = source
        self.verdict = verdict
        self.status = status
        self.reason = reason
        self.reservationIDs = reservationIDs
    }

    /// How the verdict reads.
    package var tone: Tone {
        switch verdict {
        case "accepted": .ok
        case "rejected": .attention
        default: .quiet
        }
    }

    /// The verdict's icon.
    package var icon: Icon {
        switch verdict {
        case "accepted": .check
        case "rejected": .cross
        default: .dash
        }
    }
}

/// One call Latchkey made to Seam for a reservation.
package struct SeamActionLine: Sendable, Hashable {
    /// When it was answered.
    package var at: Date
    /// The route, e.g. `/access_codes/create_multiple`.
    package var call: String
    /// Whether Seam accepted it.
    package var succeeded: Bool
    /// Seam's error, or nil.
    package var message: String?

    /// Creates a value.
    package init(at: Date, call: String, succeeded: Bool, message: String?) {
        self.at = at
        self.call = call
        self.succeeded = succeeded
        self.message = message
    }
}

/// A dead letter: a Seam call that failed every attempt.
package struct DeadLetterLine: Sendable, Hashable {
    /// The id to retry it by.
    package var id: String
    /// The reservation's source.
    package var source: String
    /// The reservation's id.
    package var reservationID: String
    /// The call that failed.
    package var operation: String
    /// Seam's (or Latchkey's) last message.
    package var message: String
    /// Calls made.
    package var attempts: Int
    /// When it was parked.
    package var failedAt: Date

    /// Creates a value.
    package init(
        id: String, source: String, reservationID: String, operation: String, message: String, attempts: Int,
        failedAt: Date
    ) {
        self.id = id
        self.source = source
        self.reservationID = reservationID
        self.operation = operation
        self.message = message
        self.attempts = attempts
        self.failedAt = failedAt
    }
}

/// Work waiting in the outbox for a reservation.
package struct PendingWorkLine: Sendable, Hashable {
    /// The intent's operation, e.g. `create`.
    package var operation: String
    /// Failed attempts so far.
    package var failedAttempts: Int
    /// When the intent was written.
    package var createdAt: Date

    /// Creates a value.
    package init(operation: String, failedAttempts: Int, createdAt: Date) {
        self.operation = operation
        self.failedAttempts = failedAttempts
        self.createdAt = createdAt
    }
}

/// The Reservation page.
package struct ReservationDetail: Sendable {
    /// The arrival's summary (names, stay, status, locks).
    package var arrival: ArrivalRow
    /// The guest's full name, or nil.
    package var guestName: String?
    /// The booking's status (`confirmed`, `cancelled`, …), or nil.
    package var bookingStatus: String?
    /// Whether the group has a PIN to reveal.
    package var hasPIN: Bool
    /// The PIN, only after "Reveal".
    package var revealedPIN: String?
    /// Why Latchkey is reading the group back from Seam, or nil.
    package var readBackReason: String?
    /// Its dead letter, or nil.
    package var deadLetter: DeadLetterLine?
    /// Work waiting in the outbox.
    package var pending: [PendingWorkLine]
    /// Deliveries received for it (from the recent ones kept in memory).
    package var deliveries: [DeliveryLine]
    /// Seam calls made for it (recent ones kept in memory).
    package var seamActions: [SeamActionLine]
    /// Notifications, when the add-on gives them.
    package var notifications: [NotificationLine]?

    /// Creates a value.
    package init(
        arrival: ArrivalRow, guestName: String?, bookingStatus: String?, hasPIN: Bool, revealedPIN: String? = nil,
        readBackReason: String? = nil, deadLetter: DeadLetterLine? = nil, pending: [PendingWorkLine] = [],
        deliveries: [DeliveryLine] = [], seamActions: [SeamActionLine] = [], notifications: [NotificationLine]? = nil
    ) {
        self.arrival = arrival
        self.guestName = guestName
        self.bookingStatus = bookingStatus
        self.hasPIN = hasPIN
        self.revealedPIN = revealedPIN
        self.readBackReason = readBackReason
        self.deadLetter = deadLetter
        self.pending = pending
        self.deliveries = deliveries
        self.seamActions = seamActions
        self.notifications = notifications
    }
}

/// The Problems page.
package struct ProblemsReport: Sendable {
    /// Dead letters, most recent first.
    package var deadLetters: [DeadLetterLine]
    /// Upcoming or current stays with a failed, offline or missing lock.
    package var failedLocks: [ArrivalRow]
    /// Reservations Latchkey is reading back from Seam (`source/id`, reason).
    package var uncertain: [(reservation: String, reason: String)]
    /// Failed notifications, when the add-on gives them.
    package var failedNotifications: [NotificationLine]?
    /// Signature failures in the last 24 hours, per source (sources with none left out).
    package var signatureFailures: [(source: String, count: Int)]

    /// Creates a value.
    package init(
        deadLetters: [DeadLetterLine], failedLocks: [ArrivalRow], uncertain: [(reservation: String, reason: String)],
        failedNotifications: [NotificationLine]?, signatureFailures: [(source: String, count: Int)]
    ) {
        self.deadLetters = deadLetters
        self.failedLocks = failedLocks
        self.uncertain = uncertain
        self.failedNotifications = failedNotifications
        self.signatureFailures = signatureFailures
    }

    /// How many things need a person.
    package var count: Int {
        deadLetters.count + failedLocks.count + uncertain.count + (failedNotifications?.count ?? 0)
            + signatureFailures.count
    }
}

/// One lock on the Properties page.
package struct PropertyLock: Sendable, Hashable {
    /// Seam's device id.
    package var deviceID: String
    /// Its name.
    package var name: String
    /// Online as Seam reports it; nil when Seam did not say (or could not be reached).
    package var online: Bool?
    /// Codes Latchkey manages on it (live groups), by guest first name and stay.
    package var codes: [String]

    /// Creates a value.
    package init(deviceID: String, name: String, online: Bool?, codes: [String]) {
        self.deviceID = deviceID
        self.name = name
        self.online = online
        self.codes = codes
    }
}

/// One property on the Properties page.
package struct PropertyLine: Sendable, Hashable {
    /// The configuration's id.
    package var id: String
    /// Its name.
    package var name: String
    /// Its IANA zone.
    package var timeZone: String
    /// Its locks.
    package var locks: [PropertyLock]

    /// Creates a value.
    package init(id: String, name: String, timeZone: String, locks: [PropertyLock]) {
        self.id = id
        self.name = name
        self.timeZone = timeZone
        self.locks = locks
    }
}

extension LockState {
    /// What the console says about one lock's code, from what Latchkey recorded and what Seam says now.
    ///
    /// Latchkey's own word wins where it knows more (a code removed at the keypad or failed is re-created, so it
    /// shows as missing or failed); else Seam's live status (`set`, `scheduled` = `unset` with `is_scheduled_on_device`,
    /// `unset` or `setting`, `removing`; any error on it is a failure); an
    /// offline lock shows offline whatever its code's status.
    /// - Parameters:
    ///   - recorded: The reconciler's status (`unconfirmed`, `set`, `failed_to_set`, `removed_externally`, `missing`).
    ///   - live: Seam's status of the code now, or nil when Seam was not asked or did not list it.
    ///   - liveErrors: Seam's error codes on the code (e.g. `failed_to_set_on_device`).
    ///   - listedByLock: Whether Seam listed the lock's codes just now (so a code missing from the list is gone).
    ///   - online: Whether Seam says the lock is online, or nil.
    /// - Returns: The state and a short explanation, or nil.
    package static func derive(
        recorded: String, live: String?, liveErrors: [String], listedByLock: Bool, online: Bool?
    ) -> (state: LockState, detail: String?) {
        if online == false {
            return (.offline, live == "set" ? "The code was set before the lock went offline" : "The lock is offline")
        }
        switch recorded {
        case "missing", "removed_externally": return (.missing, "Latchkey is putting it back")
        case "failed_to_set": return (.failed, "Seam could not set it; Latchkey is making it again")
        default: break
        }
        if live != nil, let error = liveErrors.first {
            return (.failed, error.replacingOccurrences(of: "_", with: " "))
        }
        switch live {
        case "set": return (.set, nil)
        case "scheduled": return (.scheduled, "On the lock, active from the start of the stay")
        case "unset", "setting": return (.setting, nil)
        case "removing": return (.removed, nil)
        default: break
        }
        if listedByLock && recorded != "unconfirmed" { return (.missing, "Seam does not list this code") }
        switch recorded {
        case "set": return (.set, nil)
        case "scheduled": return (.scheduled, "On the lock, active from the start of the stay")
        default: return (.setting, nil)
        }
    }
}
