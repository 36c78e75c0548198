import Bookings
import Foundation

/// The group of codes a confirmed booking should have.
package struct GroupSpec: Sendable, Codable, Hashable {
    /// The property whose locks get the codes.
    package var propertyID: String
    /// The property's locks, in config order.
    package var deviceIDs: [String]
    /// The codes' window: check-in minus the early buffer to check-out plus the late buffer.
    package var window: CodeWindow
    /// The codes' name, ending in the reservation marker.
    package var name: String
    /// The reservation marker inside `name`.
    package var marker: String
    /// `preferred_code_length`, in digits.
    package var preferredCodeLength: Int
    /// `behavior_when_code_cannot_be_shared`.
    package var behavior: Property.CodeSharingBehavior
}

/// Where a reservation stands, as the admin API shows it.
package enum ReservationPhase: String, Sendable, Codable, Hashable, CaseIterable {
    /// Seam has what is desired.
    case converged
    /// A step is planned or in flight.
    case applying
    /// Pending or cancelled, and no codes exist.
    case noAccess = "no_access"
    /// Confirmed, but the PMS has not given the dates yet; no codes.
    case waiting
    /// The dates cannot be turned into a window (unknown zone, check-out not after check-in); no codes.
    case invalidDates = "invalid_dates"
    /// The listing maps to no configured property; nothing is done.
    case unmapped
    /// The stay (window end) is over; nothing is done, Seam ends time-bound codes itself.
    case past
    /// Work is parked in a dead letter until retried or a newer event arrives.
    case deadLettered = "dead_lettered"
}

/// What the reservation's booking asks for, resolved against the property catalogue.
package enum DesiredAccess: Sendable, Hashable {
    /// A group with this spec.
    case group(GroupSpec)
    /// No codes at all (pending, cancelled, dates unknown or unusable); the phase says why.
    case noGroup(ReservationPhase)
    /// Unknown listing: leave whatever exists alone and surface it.
    case unmapped

    /// Resolves a booking.
    /// - Parameters:
    ///   - booking: The desired booking, or `nil` before any event (treated as no access).
    ///   - key: The reservation.
    ///   - catalogue: The configured properties.
    ///   - naming: The code-name rules.
    package static func resolve(
        _ booking: DesiredBooking?, key: ReservationKey, catalogue: PropertyCatalogue, naming: CodeNaming
    ) -> DesiredAccess {
        guard let booking, booking.status == .confirmed else { return .noGroup(.noAccess) }
        guard let property = catalogue.property(source: key.source, listingID: booking.listingID) else {
            return .unmapped
        }
        let event = BookingEvent(
            source: key.source, reservationID: key.reservationID, listingID: booking.listingID,
            status: booking.status, checkIn: booking.checkIn, checkOut: booking.checkOut)
        let stay: StayWindow?
        do {
            stay = try StayWindow(event: event, property: property)
        } catch {
            return .noGroup(.invalidDates)
        }
        guard let stay else { return .noGroup(.waiting) }
        let window = CodeWindow(startsAt: stay.startsAt, endsAt: stay.endsAt)
        return .group(
            GroupSpec(
                propertyID: property.id, deviceIDs: property.deviceIDs, window: window,
                name: naming.name(for: key, at: property, guestName: booking.guestName),
                marker: CodeNaming.marker(for: key), preferredCodeLength: property.preferredCodeLength,
                behavior: property.codeSharingBehavior
            ))
    }
}

/// One lock's code to re-create with the group's PIN.
package struct RepairSpec: Sendable, Codable, Hashable {
    /// The lock.
    package var deviceID: String
    /// The failed code still in Seam, deleted first; `nil` when there is none.
    package var staleAccessCodeID: String?
    /// The window and name the new code gets.
    package var window: CodeWindow
    /// The name the new code gets.
    package var name: String

    /// Creates a value.
    package init(deviceID: String, staleAccessCodeID: String?, window: CodeWindow, name: String) {
        self.deviceID = deviceID
        self.staleAccessCodeID = staleAccessCodeID
        self.window = window
        self.name = name
    }
}

/// The next single step that brings Seam closer to the desired state.
package enum PlannedStep: Sendable, Hashable {
    /// Nothing to do; the phase says why.
    case none(ReservationPhase)
    /// `create_multiple` a new group.
    case create(GroupSpec)
    /// `update_multiple` the codes carrying `commonCodeKey`.
    case moveWindow(commonCodeKey: String, window: CodeWindow, name: String)
    /// `update` one code that does not carry the group's key (repaired earlier).
    case moveCode(accessCodeID: String, window: CodeWindow, name: String)
    /// Delete these codes; the reservation should have none.
    case remove([AppliedCode])
    /// Delete the old group (other property or other lock set), then create `create`.
    case recreate(remove: [AppliedCode], create: GroupSpec)
    /// Re-create one lock's code with the group's PIN, inside the group (`common_code_key`).
    case repair(RepairSpec)
    /// List the locks and correct the record from what Seam holds: the record may disagree with Seam.
    case readBack
}

/// The pure planning function of the reconciler.
package enum Planner {
    /// The next step for a reservation.
    /// - Parameters:
    ///   - desired: What the booking asks for.
    ///   - applied: What exists in Seam, as the record knows it.
    ///   - readBackPending: Whether the record may disagree with Seam (see
    ///     ``ReservationRecord/readBackReason``); then nothing is reused, moved or called converged before the
    ///     codes are read back. Default `false`.
    ///   - now: The current instant.
    /// - Returns: One step, or ``PlannedStep/none(_:)`` with the phase when nothing is to be done.
    package static func nextStep(
        desired: DesiredAccess, applied: AppliedGroup?, readBackPending: Bool = false, now: Date
    ) -> PlannedStep {
        switch desired {
        case .unmapped:
            return .none(.unmapped)
        case .noGroup(let phase):
            if readBackPending { return .readBack }
            let live = applied?.liveCodes ?? []
            return live.isEmpty ? .none(phase) : .remove(live)
        case .group(let spec):
            guard spec.window.endsAt > now else {
                // Seam ends the stay's codes itself; a code still valid later (put back by hand) must go.
                let lingering = applied?.liveCodes.filter { $0.window.endsAt > now } ?? []
                return lingering.isEmpty ? .none(.past) : .remove(lingering)
            }
            if readBackPending { return .readBack }
            // A group without a code in Seam is no group: nothing to reuse, so a new one.
            guard let applied, applied.hasLiveCode || applied.pin != nil && applied.propertyID == spec.propertyID
            else { return .create(spec) }
            if applied.propertyID != spec.propertyID {
                return .recreate(remove: applied.liveCodes, create: spec)
            }
            // Codes on locks the property no longer has go first; then every lock it has gets its code.
            // So do second codes on one lock (a code carrying the marker put back by hand).
            let gone = applied.liveCodes.filter { !spec.deviceIDs.contains($0.deviceID) } + applied.extraCodes
            if !gone.isEmpty { return .remove(gone) }
            return nextStep(toward: spec, from: applied)
        }
    }

    /// Repairs first (a guest must get in), then window and name moves, the common key before single codes.
    /// A lock of the property the record has no code for counts as missing: it gets the group's PIN again.
    private static func nextStep(toward spec: GroupSpec, from applied: AppliedGroup) -> PlannedStep {
        for device in spec.deviceIDs {
            let code = applied.codes.first { $0.deviceID == device }
            guard code?.needsRepair ?? true, code?.pin ?? applied.pin != nil else { continue }
            let stale = code?.isStale == true ? code?.accessCodeID : nil
            return .repair(
                RepairSpec(deviceID: device, staleAccessCodeID: stale, window: spec.window, name: spec.name))
        }
        let outdated = applied.codes.filter {
            spec.deviceIDs.contains($0.deviceID) && $0.isLive && ($0.window != spec.window || $0.name != spec.name)
        }
        if let key = outdated.lazy.compactMap(\.commonCodeKey).first {
            return .moveWindow(commonCodeKey: key, window: spec.window, name: spec.name)
        }
        if let code = outdated.first, let id = code.accessCodeID {
            return .moveCode(accessCodeID: id, window: spec.window, name: spec.name)
        }
        return .none(.converged)
    }
}
