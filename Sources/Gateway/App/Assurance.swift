import Configuration
import Foundation
import Logging
import Observability
import Reconciler

/// The gateway's side of the pre-arrival checks and the drift reconciliation: the periodic runs (each a
/// ``PeriodicTask``) and their counters in `/metrics`. The work itself is the reconciler's.
enum Assurance {
    /// The reconciler's settings for `assurance:`.
    static func settings(_ assurance: AssuranceSettings) -> ArrivalAssuranceSettings {
        ArrivalAssuranceSettings(
            checkLeadTimes: assurance.checkLeadHours.map { TimeInterval($0) * 3600 },
            backupCodeLeadTime: TimeInterval(assurance.backupCodeLeadMinutes) * 60,
            recheckAfter: TimeInterval(assurance.recheckMinutes) * 60)
    }

    /// Starts the due pre-arrival checks, then brings the metrics up to date.
    static func checkArrivals(reconciler: Reconciler, metrics: Metrics, logger: Logger) async {
        do {
            try await reconciler.scheduleArrivalChecks()
        } catch {
            logger.warning(
                "pre-arrival checks: a failed check could not be stored; the next round tries again",
                metadata: ["error": "\(error)"])
        }
        await updateMetrics(reconciler: reconciler, metrics: metrics)
    }

    /// One drift reconciliation, then the metrics brought up to date.
    static func reconcileDrift(reconciler: Reconciler, metrics: Metrics) async {
        await reconciler.reconcileDrift()
        await updateMetrics(reconciler: reconciler, metrics: metrics)
    }

    /// Raises the counters to the reconciler's totals since start.
    static func updateMetrics(reconciler: Reconciler, metrics: Metrics) async {
        let m = metrics.assurance
        let counts = await reconciler.arrivalCheckCounts
        for outcome in ArrivalCheck.Outcome.allCases {
            AssuranceMetrics.raise(m.arrivalChecks, to: counts.outcomes[outcome] ?? 0, labels: [outcome.rawValue])
        }
        AssuranceMetrics.raise(m.arrivalRepairs, to: counts.repairs)
        AssuranceMetrics.raise(m.backupCodesPulled, to: counts.backupCodesPulled)
        let drift = await reconciler.driftReconciliationTotals
        AssuranceMetrics.raise(m.driftRuns, to: drift.runs)
        AssuranceMetrics.raise(m.driftListFailures, to: drift.locksFailed)
        for (finding, total) in [
            ("missing", drift.missing), ("altered", drift.altered), ("stray", drift.stray),
            ("foreign", drift.foreignCodes), ("busy", drift.skippedBusy),
        ] {
            AssuranceMetrics.raise(m.driftCodes, to: total, labels: [finding])
        }
    }
}
