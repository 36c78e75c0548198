import Synchronization

/// What kind of metric a family is, as written on its `# TYPE` line.
package enum MetricType: String, Sendable {
    /// A value that only goes up (reset at restart).
    case counter
    /// A value that goes up and down.
    case gauge
    /// Observations counted into cumulative buckets, with their sum and count.
    case histogram
}

/// The fixed description of a metric family: name, help text, type and label names.
package struct MetricDescriptor: Sendable, Equatable {
    /// The metric name (`latchkey_http_requests_total`); `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    package let name: String
    /// One line saying what is measured and in which unit.
    package let help: String
    /// The family's type.
    package let type: MetricType
    /// The label names, in the order label values are passed.
    package let labelNames: [String]

    init(name: String, help: String, type: MetricType, labelNames: [String]) {
        precondition(PrometheusText.isValidMetricName(name), "invalid metric name \(name)")
        for label in labelNames {
            precondition(PrometheusText.isValidLabelName(label), "invalid label name \(label) on \(name)")
            precondition(!(type == .histogram && label == "le"), "label le is reserved for histogram buckets (\(name))")
        }
        precondition(Set(labelNames).count == labelNames.count, "repeated label name on \(name)")
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
    }

    /// Traps when `values` does not give one value per label name: a programming error at the call site.
    func check(_ values: [String]) {
        precondition(values.count == labelNames.count, "\(name) takes labels \(labelNames), got \(values.count) values")
    }
}

/// A family the registry can render.
protocol MetricFamily: Sendable {
    /// The family's description.
    var descriptor: MetricDescriptor { get }
    /// Appends the family's sample lines (no `# HELP`/`# TYPE`) in the text format.
    func appendSamples(to text: inout String)
}

/// One value per label set, under one lock: the storage counters and gauges share.
private final class ScalarSeries: Sendable {
    let descriptor: MetricDescriptor
    private let values: Mutex<[[String]: Double]>

    /// A family without labels starts with its one series at 0; a labelled series appears when first updated.
    init(descriptor: MetricDescriptor) {
        self.descriptor = descriptor
        values = Mutex(descriptor.labelNames.isEmpty ? [[]: 0] : [:])
    }

    func update(labels: [String], _ change: (inout Double) -> Void) {
        descriptor.check(labels)
        values.withLock { change(&$0[labels, default: 0]) }
    }

    func value(labels: [String]) -> Double {
        values.withLock { $0[labels] ?? 0 }
    }

    func appendSamples(to text: inout String) {
        PrometheusText.appendScalarSeries(descriptor, values.withLock { $0 }, to: &text)
    }
}

/// A counter family: one monotonically increasing value per label set.
///
/// A family without labels starts with its one series at 0; a labelled series appears at its first increment.
package final class Counter: MetricFamily {
    private let series: ScalarSeries

    init(descriptor: MetricDescriptor) {
        series = ScalarSeries(descriptor: descriptor)
    }

    /// The family's description.
    package var descriptor: MetricDescriptor { series.descriptor }

    /// Adds `amount` to the series named by `labels`.
    /// - Parameters:
    ///   - amount: How much to add; default 1; must not be negative (a counter never goes down).
    ///   - labels: One value per label name, in the family's order.
    package func increment(by amount: Double = 1, labels: [String] = []) {
        precondition(amount >= 0, "\(descriptor.name): a counter cannot decrease")
        series.update(labels: labels) { $0 += amount }
    }

    /// The current value of the series named by `labels` (0 if never incremented).
    package func value(labels: [String] = []) -> Double { series.value(labels: labels) }

    func appendSamples(to text: inout String) { series.appendSamples(to: &text) }
}

/// A gauge family: one value per label set that can be set, raised and lowered.
///
/// A family without labels starts with its one series at 0; a labelled series appears when first set.
package final class Gauge: MetricFamily {
    private let series: ScalarSeries

    init(descriptor: MetricDescriptor) {
        series = ScalarSeries(descriptor: descriptor)
    }

    /// The family's description.
    package var descriptor: MetricDescriptor { series.descriptor }

    /// Sets the series named by `labels` to `value`.
    /// - Parameters:
    ///   - value: The new value.
    ///   - labels: One value per label name, in the family's order.
    package func set(_ value: Double, labels: [String] = []) {
        series.update(labels: labels) { $0 = value }
    }

    /// Adds `delta` (negative to lower) to the series named by `labels`.
    package func add(_ delta: Double, labels: [String] = []) {
        series.update(labels: labels) { $0 += delta }
    }

    /// The current value of the series named by `labels` (0 if never set).
    package func value(labels: [String] = []) -> Double { series.value(labels: labels) }

    func appendSamples(to text: inout String) { series.appendSamples(to: &text) }
}

/// A histogram family: observations counted into buckets with inclusive upper bounds (`le`), per label set.
package final class Histogram: MetricFamily {
    /// The family's description.
    package let descriptor: MetricDescriptor
    /// The finite upper bounds, strictly increasing; `+Inf` is implied after the last.
    package let upperBounds: [Double]
    private let series: Mutex<[[String]: HistogramSnapshot]>

    init(descriptor: MetricDescriptor, upperBounds: [Double]) {
        precondition(!upperBounds.isEmpty, "\(descriptor.name): a histogram needs at least one bucket")
        precondition(
            upperBounds.allSatisfy(\.isFinite), "\(descriptor.name): bucket bounds must be finite (+Inf is implied)")
        precondition(
            zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 },
            "\(descriptor.name): bucket bounds must increase")
        self.descriptor = descriptor
        self.upperBounds = upperBounds
        let empty = HistogramSnapshot(upperBounds: upperBounds)
        series = Mutex(descriptor.labelNames.isEmpty ? [[]: empty] : [:])
    }

    /// Counts `value` into the first bucket whose upper bound is at least `value`, and into sum and count.
    /// - Parameters:
    ///   - value: The observation (seconds, items, …); NaN is ignored.
    ///   - labels: One value per label name, in the family's order.
    package func observe(_ value: Double, labels: [String] = []) {
        descriptor.check(labels)
        guard !value.isNaN else { return }
        let index = upperBounds.firstIndex { value <= $0 } ?? upperBounds.count
        series.withLock { all in
            all[labels, default: HistogramSnapshot(upperBounds: upperBounds)].record(value, bucket: index)
        }
    }

    /// The current state of the series named by `labels` (empty if never observed).
    package func snapshot(labels: [String] = []) -> HistogramSnapshot {
        series.withLock { $0[labels] } ?? HistogramSnapshot(upperBounds: upperBounds)
    }

    func appendSamples(to text: inout String) {
        let snapshot = series.withLock { $0 }
        let bucketLabelNames = descriptor.labelNames + ["le"]
        for labels in snapshot.keys.sorted(by: PrometheusText.labelOrder) {
            guard let state = snapshot[labels] else { continue }
            for (bound, cumulative) in zip(upperBounds.map(PrometheusText.format) + ["+Inf"], state.cumulativeCounts) {
                PrometheusText.appendSample(
                    descriptor.name + "_bucket", bucketLabelNames, labels + [bound], Double(cumulative), to: &text)
            }
            PrometheusText.appendSample(descriptor.name + "_sum", descriptor.labelNames, labels, state.sum, to: &text)
            PrometheusText.appendSample(
                descriptor.name + "_count", descriptor.labelNames, labels, Double(state.count), to: &text)
        }
    }
}

/// One histogram series at one moment.
package struct HistogramSnapshot: Sendable, Equatable {
    /// The finite upper bounds, as the family declares them.
    package let upperBounds: [Double]
    /// Observations per bucket, not cumulative; the last entry is the `+Inf` bucket.
    package private(set) var bucketCounts: [UInt64]
    /// The sum of all observations.
    package private(set) var sum: Double = 0
    /// How many observations there were.
    package private(set) var count: UInt64 = 0

    init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        bucketCounts = Array(repeating: 0, count: upperBounds.count + 1)
    }

    /// Cumulative counts as exposed in `_bucket{le=…}`: one per finite bound, then `+Inf` (equal to ``count``).
    package var cumulativeCounts: [UInt64] {
        var running: UInt64 = 0
        return bucketCounts.map {
            running += $0
            return running
        }
    }

    mutating func record(_ value: Double, bucket: Int) {
        bucketCounts[bucket] += 1
        sum += value
        count += 1
    }
}
