import Bookings
import Foundation

/// The order of a booking event: the PMS's own `updatedAt` when it sent one, else the order of receipt. The rule
/// is ``BookingVersion``'s, shared with the intake's ledger so that both choose the same latest event.
package typealias EventVersion = BookingVersion

/// What the latest booking event says the reservation should be.
package struct DesiredBooking: Sendable, Codable, Hashable {
    /// The PMS listing id.
    package var listingID: String
    /// The booking status.
    package var status: BookingEvent.Status
    /// Arrival as given, or `nil` when unknown.
    package var checkIn: StayTime?
    /// Departure as given, or `nil` when unknown.
    package var checkOut: StayTime?
    /// The guest's name, for the code name.
    package var guestName: String?
    /// The version of the event this came from.
    package var version: EventVersion

    /// Takes the reservation-relevant fields of `event`.
    package init(_ event: BookingEvent, version: EventVersion) {
        listingID = event.listingID
        status = event.status
        checkIn = event.checkIn
        checkOut = event.checkOut
        guestName = event.guestName
        self.version = version
    }
}

/// What Latchkey knows about one lock's code of a group.
package enum LockCodeStatus: String, Sendable, Codable, Hashable, CaseIterable {
    /// Created; Seam has not yet reported it on the lock.
    case unconfirmed
    /// Seam reported it set on the lock.
    case set
    /// Seam reported it scheduled on the lock (`access_code.scheduled_on_device`, `is_scheduled_on_device`): the
    /// lock holds it and its own schedule makes it work from `starts_at`. As good as set for the guest.
    case scheduled
    /// Seam reported that it could not be set; it will be replaced with the same PIN.
    case failedToSet = "failed_to_set"
    /// Someone removed it outside Latchkey; it will be re-created with the same PIN.
    case removedExternally = "removed_externally"
    /// No code on this lock yet (a partial adoption, or a failed code already deleted); re-created with the same PIN.
    case missing
    /// Its PIN was changed outside Latchkey (at the keypad, in the maker's app); the record keeps the PIN it should
    /// have, and the code is replaced with that PIN, on this lock only, inside the group.
    case altered
}

/// One lock's code in the applied group.
package struct AppliedCode: Sendable, Codable, Hashable {
    /// The lock.
    package var deviceID: String
    /// Seam's id, or `nil` for ``LockCodeStatus/missing``.
    package var accessCodeID: String?
    /// The PIN on this lock (redacted in every description), or `nil` while Seam assigns it.
    package var pin: AccessPIN?
    /// The code's `common_code_key`; `nil` after a repair with a custom code.
    package var commonCodeKey: String?
    /// The window the code has.
    package var window: CodeWindow
    /// The name the code has.
    package var name: String
    /// What Seam last said about it.
    package var status: LockCodeStatus

    /// Creates a value.
    package init(
        deviceID: String, accessCodeID: String?, pin: AccessPIN?, commonCodeKey: String?, window: CodeWindow,
        name: String, status: LockCodeStatus
    ) {
        self.deviceID = deviceID
        self.accessCodeID = accessCodeID
        self.pin = pin
        self.commonCodeKey = commonCodeKey
        self.window = window
        self.name = name
        self.status = status
    }

    /// Whether the code needs re-creating on its lock.
    var needsRepair: Bool {
        status == .failedToSet || status == .removedExternally || status == .missing || status == .altered
    }

    /// Whether the code in Seam must be deleted before its lock is given the right PIN again.
    var isStale: Bool { status == .failedToSet || status == .altered }

    /// Whether Seam holds this code (as far as the record knows): it has an id.
    package var isLive: Bool { accessCodeID != nil }

    /// A code as `/access_codes/list` shows it, adopted into the record; what Seam leaves out (window, name, PIN
    /// while it assigns one) is taken from `fallback`.
    /// - Parameters:
    ///   - listed: The listed code.
    ///   - fallback: Window, name and PIN to assume where the listing gives none.
    ///   - status: The status to record; default `set` when Seam says set, else `unconfirmed`.
    init(
        adopting listed: ExistingCode, fallback: (window: CodeWindow, name: String, pin: AccessPIN?),
        status: LockCodeStatus? = nil
    ) {
        self.init(
            deviceID: listed.deviceID, accessCodeID: listed.accessCodeID, pin: listed.code ?? fallback.pin,
            commonCodeKey: listed.commonCodeKey,
            window: CodeWindow(
                startsAt: listed.startsAt ?? fallback.window.startsAt, endsAt: listed.endsAt ?? fallback.window.endsAt),
            name: listed.name ?? fallback.name, status: status ?? Self.status(of: listed))
    }

    /// What a listed code's `status` and `is_scheduled_on_device` say: set, scheduled, or not yet on the lock.
    static func status(of listed: ExistingCode) -> LockCodeStatus {
        if listed.status == .set { return .set }
        return listed.isScheduledOnDevice ? .scheduled : .unconfirmed
    }
}

/// The group of codes Latchkey has put on a property's locks for one reservation.
package struct AppliedGroup: Sendable, Codable, Hashable {
    /// The property the codes are on.
    package var propertyID: String
    /// The group's `common_code_key` (from `create_multiple`), or `nil` when Seam gave none.
    package var commonCodeKey: String?
    /// One entry per lock of the group, in the property's device order.
    package var codes: [AppliedCode]

    /// Creates a value.
    package init(propertyID: String, commonCodeKey: String?, codes: [AppliedCode]) {
        self.propertyID = propertyID
        self.commonCodeKey = commonCodeKey
        self.codes = codes
    }

    /// The locks of the group.
    package var deviceIDs: [String] { codes.map(\.deviceID) }

    /// The group's shared PIN (redacted in descriptions): a linked member's, else the first code's.
    package var pin: AccessPIN? {
        codes.lazy.filter { self.isLinked($0) }.compactMap(\.pin).first ?? codes.lazy.compactMap(\.pin).first
    }

    /// "2 of 3 locks set" style readiness: how many codes Seam reported set or scheduled on their lock.
    package var setCount: Int { codes.count { $0.status == .set || $0.status == .scheduled } }

    /// The codes Seam holds (as far as the record knows).
    package var liveCodes: [AppliedCode] { codes.filter(\.isLive) }

    /// Whether any code of the group is in Seam; a group without one is no group at all.
    package var hasLiveCode: Bool { codes.contains(where: \.isLive) }

    /// Live codes on a lock that already has an earlier entry in ``codes``: a second code carrying the
    /// reservation's marker (put back by hand, or found by the drift reconciliation), deleted by the planner.
    package var extraCodes: [AppliedCode] {
        var seen: Set<String> = []
        return codes.filter { !seen.insert($0.deviceID).inserted && $0.isLive }
    }

    /// Whether `code` is a member of the linked group: it carries the group's `common_code_key`.
    /// - Parameter code: One of ``codes``.
    package func isLinked(_ code: AppliedCode) -> Bool {
        code.commonCodeKey != nil && code.commonCodeKey == commonCodeKey
    }
}

/// Everything stored for one reservation: desired, applied, and whether work is parked in a dead letter.
package struct ReservationRecord: Sendable, Codable, Hashable {
    /// The reservation.
    package var key: ReservationKey
    /// The latest booking state, or `nil` before the first event (a record created by a lock event).
    package var desired: DesiredBooking?
    /// The codes that exist in Seam for it, or `nil`.
    package var applied: AppliedGroup?
    /// The dead letter that parks this reservation's work until retried or a newer event arrives.
    package var blockedBy: String?
    /// Codes a create may have made without Latchkey seeing the answer (crash, or retries given up):
    /// looked up by marker and adopted before anything else is done for the reservation.
    package var pendingLookup: CodeLookup?
    /// Why the record may disagree with Seam (a call whose answer never came, a restart with a call in flight,
    /// a Seam event about one of its codes), or `nil` when it is known to agree. While set, the worker reads
    /// the codes back from Seam before it reuses the group, moves it, or calls the reservation converged.
    package var readBackReason: String?
    /// The latest pre-arrival check of the codes (see ``ArrivalCheck``), or `nil` before the first.
    package var arrivalCheck: ArrivalCheck?

    /// Creates a record.
    package init(
        key: ReservationKey, desired: DesiredBooking? = nil, applied: AppliedGroup? = nil, blockedBy: String? = nil,
        pendingLookup: CodeLookup? = nil, readBackReason: String? = nil, arrivalCheck: ArrivalCheck? = nil
    ) {
        self.arrivalCheck = arrivalCheck
        self.key = key
        self.desired = desired
        self.applied = applied
        self.blockedBy = blockedBy
        self.pendingLookup = pendingLookup
        self.readBackReason = readBackReason
    }

    /// Folds `event` in. Stale events (see ``EventVersion/supersedes(_:)``) change nothing; a newer event that
    /// repeats the current booking state only raises the stored version; a dead-lettered reservation is
    /// unblocked by any real change.
    /// - Returns: Whether the record changed (and must be stored again).
    @discardableResult
    package mutating func fold(_ event: BookingEvent, receivedSequence: UInt64) -> Bool {
        let version = EventVersion(updatedAt: event.updatedAt, receivedSequence: receivedSequence)
        if let current = desired, !version.supersedes(current.version) {
            return false
        }
        let next = DesiredBooking(event, version: version)
        if var current = desired {
            let previous = current.version
            current.version = version
            if current == next {
                // The same booking state again. A duplicate changes nothing; but when the PMS says it is newer,
                // keep the newer version, so an older event that arrives after it (a stale cancellation after a
                // re-confirmation, say) is still recognised as older.
                guard version.updatedAt != nil, version.updatedAt != previous.updatedAt else { return false }
                desired = current
                return true
            }
        }
        desired = next
        blockedBy = nil
        return true
    }
}

/// Where to look for codes a create may have made: the locks and the reservation marker in their names.
package struct CodeLookup: Sendable, Codable, Hashable {
    /// The property the codes would belong to.
    package var propertyID: String
    /// The locks to list.
    package var deviceIDs: [String]
    /// The marker the names carry.
    package var marker: String
    /// The window assumed when a listed code shows none.
    package var window: CodeWindow
    /// The name assumed when a listed code shows none.
    package var name: String
}
