import Bookings
import Foundation
import Logging

// The periodic full reconciliation: every managed lock's codes listed and compared with what the reservations
// call for. It changes nothing in Seam itself: it corrects records and schedules their reservations, so every
// repair and deletion goes through the worker (its pacing, retries, intents and crash adoption).

/// What one drift reconciliation found and did (or, in ``Reconciler/driftTotals``, every run since start).
package struct DriftReport: Sendable, Hashable {
    /// Runs (1 for one run's report).
    package var runs = 0
    /// Locks listed.
    package var locksListed = 0
    /// Locks whose listing failed (left for the next run).
    package var locksFailed = 0
    /// Codes seen on the listed locks.
    package var codesSeen = 0
    /// Codes without Latchkey's marker: never touched.
    package var foreignCodes = 0
    /// Codes of live reservations missing from their lock: read back and put back with the group's PIN.
    package var missing = 0
    /// Codes of live reservations whose PIN or window differs: read back and put back.
    package var altered = 0
    /// Codes carrying the marker of a reservation that should have none there (cancelled, moved away, over,
    /// unknown), or a second one on a lock: scheduled for deletion.
    package var stray = 0
    /// Codes of reservations with work under way, left for the next run.
    package var skippedBusy = 0

    /// Creates zero counts.
    package init() {}

    /// Adds `other`'s counts to these.
    package mutating func add(_ other: DriftReport) {
        runs += other.runs
        locksListed += other.locksListed
        locksFailed += other.locksFailed
        codesSeen += other.codesSeen
        foreignCodes += other.foreignCodes
        missing += other.missing
        altered += other.altered
        stray += other.stray
        skippedBusy += other.skippedBusy
    }
}

extension Reconciler {
    /// What every drift reconciliation since start found and did.
    package var driftReconciliationTotals: DriftReport { driftTotals }

    /// Lists every managed lock's codes (each list call paced and retried as any other) and compares them with the
    /// reservations:
    /// - a code of a live reservation that is missing, or whose PIN or window differs, makes its record uncertain:
    ///   the worker reads the group back and puts the code back with the group's PIN and window;
    /// - a code carrying a reservation's marker where that reservation should have none (cancelled, moved away,
    ///   stay over, unknown to Latchkey), or a second one on a lock, joins the reservation's record and is deleted
    ///   by the worker;
    /// - a code without the marker is never touched.
    ///
    /// Reservations with work queued, in flight or changed while the locks were listed are left for the next run.
    /// - Returns: What it found and did.
    @discardableResult
    package func reconcileDrift() async -> DriftReport {
        var report = DriftReport()
        report.runs = 1
        guard !stopped else { return report }
        let before = records
        var devices: [String] = []
        for property in catalogue.properties {
            for device in property.deviceIDs where !devices.contains(device) { devices.append(device) }
        }
        var listed: [String: [ExistingCode]] = [:]
        for device in devices {
            do {
                listed[device] = try await listWithRetries(device).filter {
                    $0.deviceID == device && $0.status != .removing
                }
                report.locksListed += 1
            } catch {
                if error is CancellationError || Task.isCancelled { return report }
                report.locksFailed += 1
                logger.warning(
                    "drift reconciliation: could not list a lock's codes; the next run tries again",
                    metadata: ["device": "\(device)", "error": "\(error)"])
            }
        }
        guard !stopped else { return report }
        let now = clock.now()
        var byMarker: [String: ReservationKey] = [:]
        for key in records.keys { byMarker[CodeNaming.marker(for: key)] = key }
        var touched: Set<ReservationKey> = []
        let seenIDs = Set(listed.values.joined().map(\.accessCodeID))
        // Codes the records hold on listed locks that Seam no longer has.
        for (key, record) in records where isQuiet(key, since: before) {
            let gone = record.applied?.codes.filter {
                $0.isLive && listed[$0.deviceID] != nil && !seenIDs.contains($0.accessCodeID ?? "")
                    && isLive(record, on: $0.deviceID, at: now)
            }
            guard let first = gone?.first, let id = first.accessCodeID else { continue }
            report.missing += gone?.count ?? 0
            markUncertain(key, because: "drift reconciliation: code \(id) missing from its lock")
            touched.insert(key)
        }
        for device in devices {
            guard let codes = listed[device] else { continue }
            for code in codes {
                report.codesSeen += 1
                guard let marker = code.name.flatMap(CodeNaming.marker(in:)) else {
                    report.foreignCodes += 1
                    continue
                }
                let key = byMarker[marker] ?? CodeNaming.key(fromMarker: marker)
                guard touched.contains(key) || isQuiet(key, since: before) else {
                    report.skippedBusy += 1
                    continue
                }
                let record = records[key] ?? ReservationRecord(key: key)
                let recorded = record.applied?.codes.first { $0.deviceID == device }
                if isLive(record, on: device, at: now) {
                    if code.accessCodeID == recorded?.accessCodeID {
                        guard differs(code, from: recorded, record: record) else { continue }
                        report.altered += 1
                        markUncertain(key, because: "drift reconciliation: code \(code.accessCodeID) altered")
                    } else if recorded?.isLive == true {
                        report.stray += 1
                        attach(code, to: key)
                    } else {
                        report.missing += 1
                        markUncertain(key, because: "drift reconciliation: code \(code.accessCodeID) not recorded")
                    }
                } else if record.applied?.codes.contains(where: { $0.accessCodeID == code.accessCodeID }) != true {
                    report.stray += 1
                    attach(code, to: key)
                } else {
                    continue  // known, and already planned for removal (or the stay is over and Seam ends it)
                }
                touched.insert(key)
            }
        }
        for key in touched.sorted() { schedule(key) }
        driftTotals.add(report)
        let level: Logger.Level = report.missing + report.altered + report.stray > 0 ? .warning : .info
        logger.log(
            level: level, "drift reconciliation done",
            metadata: [
                "locks": "\(report.locksListed)", "locks_failed": "\(report.locksFailed)",
                "codes": "\(report.codesSeen)", "foreign": "\(report.foreignCodes)", "missing": "\(report.missing)",
                "altered": "\(report.altered)", "stray": "\(report.stray)", "busy": "\(report.skippedBusy)",
            ])
        return report
    }

    /// Lists one lock's codes with the worker's retry policy: paced, retried with
    /// ``ReconcilerConfiguration/backoff(afterFailures:retryAfter:jitter:)`` up to
    /// ``ReconcilerConfiguration/maxAttempts`` calls, waiting without using an attempt while Seam is not called.
    private func listWithRetries(_ device: String) async throws -> [ExistingCode] {
        var failures = 0
        while true {
            try Task.checkCancellation()
            try await pace(.list, [device])
            do {
                return try await service.listCodes(deviceID: device)
            } catch {
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                let failure = (error as? AccessCodeServiceError) ?? .retryable(message: "\(error)", retryAfter: nil)
                let delay: TimeInterval
                switch failure {
                case .notCalled(_, let retryAfter):
                    delay = max(retryAfter, 0.1)
                case .retryable(_, let retryAfter):
                    failures += 1
                    guard failures < configuration.maxAttempts else { throw failure }
                    delay = configuration.backoff(afterFailures: failures, retryAfter: retryAfter, jitter: jitter)
                case .permanent:
                    throw failure
                }
                try await clock.sleep(until: clock.now().addingTimeInterval(delay))
            }
        }
    }

    /// Whether nothing happened to `key` since `before` was taken, and no work is queued, in flight or pending.
    private func isQuiet(_ key: ReservationKey, since before: [ReservationKey: ReservationRecord]) -> Bool {
        running[key] == nil && !queued.contains(key) && durableOutbox.intents[key] == nil
            && records[key] == before[key] && records[key]?.readBackReason == nil
            && records[key]?.pendingLookup == nil && storeRetries[key] == nil
    }

    /// Whether the reservation should have a working code on `device` now: a group that includes the lock,
    /// the stay not over.
    private func isLive(_ record: ReservationRecord, on device: String, at now: Date) -> Bool {
        guard case .group(let spec) = desiredAccess(record) else { return false }
        return spec.deviceIDs.contains(device) && spec.window.endsAt > now
    }

    /// Whether a listed code's PIN or window differs from what the record says it should be.
    private func differs(_ code: ExistingCode, from recorded: AppliedCode?, record: ReservationRecord) -> Bool {
        guard let recorded else { return false }
        if let pin = code.code, let expected = recorded.pin, pin != expected { return true }
        guard case .group(let spec) = desiredAccess(record) else { return false }
        return code.startsAt != spec.window.startsAt || code.endsAt != spec.window.endsAt
    }

    /// Adds a listed code to the reservation's record (creating the record for an unknown reservation), so the
    /// planner deletes it.
    private func attach(_ code: ExistingCode, to key: ReservationKey) {
        let window = CodeWindow(startsAt: code.startsAt ?? .distantPast, endsAt: code.endsAt ?? .distantFuture)
        let adopted = AppliedCode(adopting: code, fallback: (window, code.name ?? "", nil))
        var record = records[key] ?? ReservationRecord(key: key)
        if record.applied == nil {
            record.applied = AppliedGroup(propertyID: "", commonCodeKey: nil, codes: [adopted])
        } else {
            record.applied?.codes.append(adopted)
        }
        records[key] = record
        logger.warning(
            "drift reconciliation: a code carrying Latchkey's marker where its reservation should have none; deleting it",
            metadata: ["reservation": "\(key)", "device": "\(code.deviceID)", "code": "\(code.accessCodeID)"])
    }
}

extension CodeNaming {
    /// The reservation marker inside a code name (`[lk:…]`), or `nil` when the name carries none.
    /// - Parameter name: A code's name.
    package static func marker(in name: String) -> String? {
        guard let start = name.range(of: "[lk:", options: .backwards),
            let end = name[start.upperBound...].firstIndex(of: "]")
        else { return nil }
        return String(name[start.lowerBound...end])
    }

    /// The reservation a marker names: `[lk:<source>:<id>]` read back; a hashed marker (`[lk:#…]`), which cannot
    /// be read back, names a reservation of source `unknown` whose id is the marker itself.
    /// - Parameter marker: A marker from ``marker(in:)``.
    package static func key(fromMarker marker: String) -> ReservationKey {
        let inner = marker.dropFirst(4).dropLast()
        if !inner.hasPrefix("#"), let colon = inner.firstIndex(of: ":") {
            return ReservationKey(
                source: String(inner[..<colon]), reservationID: String(inner[inner.index(after: colon)...]))
        }
        return ReservationKey(source: "unknown", reservationID: marker)
    }
}
