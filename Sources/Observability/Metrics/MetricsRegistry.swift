import Synchronization

/// Holds metric families and renders them in the Prometheus text format 0.0.4.
///
/// Families are made once at startup; a repeated or invalid name, or a wrong number of label values at a
/// call site, is a programming error and traps. Updates and scrapes are safe from any thread: each family
/// has its own lock and the registry's list of families has one.
package final class MetricsRegistry: Sendable {
    private let families = Mutex<[any MetricFamily]>([])

    /// Creates an empty registry.
    package init() {}

    /// Makes and registers a counter family.
    /// - Parameters:
    ///   - name: The metric name, ending in `_total` by convention.
    ///   - help: What is counted.
    ///   - labelNames: The label names; default none.
    /// - Returns: The family, to increment.
    package func makeCounter(name: String, help: String, labelNames: [String] = []) -> Counter {
        register(Counter(descriptor: MetricDescriptor(name: name, help: help, type: .counter, labelNames: labelNames)))
    }

    /// Makes and registers a gauge family.
    /// - Parameters:
    ///   - name: The metric name, with its unit as suffix (`_seconds`) where it has one.
    ///   - help: What is measured.
    ///   - labelNames: The label names; default none.
    /// - Returns: The family, to set.
    package func makeGauge(name: String, help: String, labelNames: [String] = []) -> Gauge {
        register(Gauge(descriptor: MetricDescriptor(name: name, help: help, type: .gauge, labelNames: labelNames)))
    }

    /// Makes and registers a histogram family.
    /// - Parameters:
    ///   - name: The metric name, with its unit as suffix (`_seconds`) where it has one.
    ///   - help: What is observed.
    ///   - labelNames: The label names (`le` is reserved); default none.
    ///   - buckets: The finite upper bounds, strictly increasing; `+Inf` is added.
    /// - Returns: The family, to observe into.
    package func makeHistogram(name: String, help: String, labelNames: [String] = [], buckets: [Double]) -> Histogram {
        let descriptor = MetricDescriptor(name: name, help: help, type: .histogram, labelNames: labelNames)
        return register(Histogram(descriptor: descriptor, upperBounds: buckets))
    }

    private func register<Family: MetricFamily>(_ family: Family) -> Family {
        families.withLock { all in
            precondition(
                !all.contains { $0.descriptor.name == family.descriptor.name },
                "metric \(family.descriptor.name) registered twice")
            all.append(family)
        }
        return family
    }

    /// Every family in the text format 0.0.4, in registration order, each with `# HELP` and `# TYPE`.
    package func render() -> String {
        let snapshot = families.withLock { $0 }
        var text = ""
        for family in snapshot {
            PrometheusText.appendHeader(family.descriptor, to: &text)
            family.appendSamples(to: &text)
        }
        return text
    }

    /// The answer to a scrape: the rendered text, gzip-compressed when `acceptEncoding` allows it.
    /// - Parameter acceptEncoding: The scraper's `Accept-Encoding` header value, if any.
    /// - Returns: Body and header fields for the response.
    package func exposition(acceptEncoding: String?) -> MetricsExposition {
        MetricsExposition(text: render(), acceptEncoding: acceptEncoding)
    }
}
