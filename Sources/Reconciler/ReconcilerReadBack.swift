import Bookings
import Foundation
import Logging

// Reading a reservation's codes back from Seam when its record may disagree with Seam, and adopting codes a
// create of unknown outcome made.

extension Reconciler {
    // MARK: - Reading back

    /// Notes that the record may disagree with Seam: the worker reads the group back before relying on it.
    func markUncertain(_ key: ReservationKey, because reason: String) {
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
    func readBack(_ key: ReservationKey) async throws {
        guard let record = records[key] else { return }
        let generation = readBackGenerations[key, default: 0]
        let marker = CodeNaming.marker(for: key)
        let spec = confirmedSpec(of: record)
        var devices: [String] = []
        // Each lock once (a lock with a second code carrying the marker appears twice in the record).
        for device in (record.applied?.deviceIDs ?? []) + (spec?.deviceIDs ?? [])
            + (record.pendingLookup?.deviceIDs ?? [])
        where !devices.contains(device) {
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
        var extras: [AppliedCode] = []
        var chosenCodes: [String: ExistingCode] = [:]
        for device in devices {
            let recorded = previous?.codes.first { $0.deviceID == device }
            let candidates = found[device] ?? []
            let chosen =
                candidates.first { $0.accessCodeID == recorded?.accessCodeID && recorded?.accessCodeID != nil }
                ?? candidates.first { $0.commonCodeKey != nil && $0.commonCodeKey == groupKey }
                ?? candidates.first
            let window = recorded?.window ?? spec?.window ?? CodeWindow(startsAt: .distantPast, endsAt: .distantPast)
            let fallback = (window, recorded?.name ?? spec?.name ?? "", recorded?.pin ?? previous?.pin)
            if let chosen {
                chosenCodes[device] = chosen
                let stillFailing =
                    recorded?.accessCodeID == chosen.accessCodeID && recorded?.status == .failedToSet
                    && chosen.status != .set
                var code = AppliedCode(adopting: chosen, fallback: fallback, status: stillFailing ? .failedToSet : nil)
                // The PIN this lock should have: its recorded one, else the group's for a member of the group.
                let expected =
                    recorded?.pin ?? (chosen.commonCodeKey == groupKey && groupKey != nil ? previous?.pin : nil)
                if let expected, let listed = chosen.code, listed != expected {
                    // Changed at the lock: put back to the PIN it should have, on this lock only.
                    code.pin = expected
                    code.status = .altered
                }
                codes.append(code)
                // A second code carrying the marker on the lock (put back by hand) is kept to be deleted.
                for extra in candidates where extra.accessCodeID != chosen.accessCodeID {
                    extras.append(AppliedCode(adopting: extra, fallback: fallback))
                }
            } else if var recorded {
                recorded.accessCodeID = nil
                recorded.status = .missing
                codes.append(recorded)
            }
        }
        if !extras.isEmpty {
            logger.warning(
                "more than one code carrying the reservation's marker on a lock; the extra ones are deleted",
                metadata: ["reservation": "\(key)", "extra": "\(extras.count)"])
        }
        codes += extras
        let live = codes.filter(\.isLive)
        if live.isEmpty && !wantsGroup(current) {
            current.applied = nil
        } else if !codes.isEmpty {
            current.applied = AppliedGroup(
                propertyID: previous?.propertyID ?? spec?.propertyID ?? record.pendingLookup?.propertyID ?? "",
                commonCodeKey: groupKey ?? live.lazy.compactMap(\.commonCodeKey).first, codes: codes)
        }
        current.pendingLookup = nil
        if let lead = arrivalChecksDue.removeValue(forKey: key) {
            evaluateArrival(key, lead: lead, listed: chosenCodes, record: &current)
        }
        if readBackGenerations[key, default: 0] == generation {
            // Settled: forget the counter too (one worker per reservation, so no other read-back holds it).
            current.readBackReason = nil
            readBackGenerations[key] = nil
        }
        records[key] = current
        logger.debug(
            "read back from Seam",
            metadata: [
                "reservation": "\(key)", "locks": "\(devices.count)", "live": "\(live.count)",
                "missing": "\(codes.count - live.count)", "extra": "\(extras.count)",
            ])
    }

    /// The group the reservation's booking would have if it were confirmed (its property's locks, window and
    /// name), whatever its status now; `nil` when the listing is unmapped or the dates unusable.
    func confirmedSpec(of record: ReservationRecord) -> GroupSpec? {
        guard var booking = record.desired else { return nil }
        booking.status = .confirmed
        guard
            case .group(let spec) = DesiredAccess.resolve(
                booking, key: record.key, catalogue: catalogue, naming: configuration.naming)
        else { return nil }
        return spec
    }
}
