/// The metrics of the pre-arrival checks and the drift reconciliation (one family each, in the gateway's registry).
package struct AssuranceMetrics: Sendable {
    /// `latchkey_arrival_checks_total{outcome}`: pre-arrival checks by outcome (`passed`, `repairing`, `repaired`,
    /// `failed`).
    package let arrivalChecks: Counter
    /// `latchkey_arrival_repairs_total`: locks a pre-arrival check gave a repair (same PIN, that lock only).
    package let arrivalRepairs: Counter
    /// `latchkey_arrival_backup_codes_pulled_total`: backup access codes pulled for locks failing before arrival.
    package let backupCodesPulled: Counter
    /// `latchkey_drift_reconciliations_total`: full reconciliations run.
    package let driftRuns: Counter
    /// `latchkey_drift_codes_total{finding}`: codes a reconciliation found, by finding (`missing`, `altered`,
    /// `stray` (deleted), `foreign` (no marker, untouched), `busy` (left for the next run)).
    package let driftCodes: Counter
    /// `latchkey_drift_lock_list_failures_total`: locks a reconciliation could not list.
    package let driftListFailures: Counter

    /// The `outcome` label values of ``arrivalChecks``.
    package static let outcomes = ["passed", "repairing", "repaired", "failed"]
    /// The `finding` label values of ``driftCodes``.
    package static let findings = ["missing", "altered", "stray", "foreign", "busy"]

    /// Declares the families in `registry`.
    package init(registry: MetricsRegistry) {
        arrivalChecks = registry.makeCounter(
            name: "latchkey_arrival_checks_total",
            help: "Pre-arrival checks of a reservation's codes read back from Seam, by outcome.",
            labelNames: ["outcome"])
        arrivalRepairs = registry.makeCounter(
            name: "latchkey_arrival_repairs_total",
            help: "Locks a pre-arrival check repaired (the group's PIN put back on that lock only).")
        backupCodesPulled = registry.makeCounter(
            name: "latchkey_arrival_backup_codes_pulled_total",
            help: "Backup access codes pulled for locks still failing at the backup point before arrival.")
        driftRuns = registry.makeCounter(
            name: "latchkey_drift_reconciliations_total",
            help: "Full reconciliations run (every managed lock's codes listed and compared).")
        driftCodes = registry.makeCounter(
            name: "latchkey_drift_codes_total",
            help: "Codes a full reconciliation found, by finding (missing, altered, stray, foreign, busy).",
            labelNames: ["finding"])
        driftListFailures = registry.makeCounter(
            name: "latchkey_drift_lock_list_failures_total",
            help: "Locks a full reconciliation could not list (tried again at the next one).")
    }

    /// Raises `counter` (with `labels`) to `total`, a count kept elsewhere since start; never lowers it.
    package static func raise(_ counter: Counter, to total: Int, labels: [String] = []) {
        let current = counter.value(labels: labels)
        if Double(total) > current { counter.increment(by: Double(total) - current, labels: labels) }
    }
}
