import CZlib
import Foundation
import LatchkeyTestSupport
import Observability
import Testing

@Suite struct HistogramTests {
    @Test func observations_FallIntoTheFirstBucketWhoseBoundIsAtLeastTheValue() {
        let registry = MetricsRegistry()
        let histogram = registry.makeHistogram(name: "h_seconds", help: "h", buckets: [0.001, 0.01, 0.1])
        for value in [0.0005, 0.001, 0.0011, 0.05, 0.1, 7, .nan] { histogram.observe(value) }
        let snapshot = histogram.snapshot()
        #expect(snapshot.bucketCounts == [2, 1, 2, 1], "le is inclusive; 7 goes to +Inf; NaN is ignored")
        #expect(snapshot.cumulativeCounts == [2, 3, 5, 6])
        #expect(snapshot.count == 6)
        #expect(abs(snapshot.sum - 7.1526) < 1e-12)
    }

    @Test func labelledSeries_AreCountedSeparately() {
        let registry = MetricsRegistry()
        let histogram = registry.makeHistogram(name: "seam_seconds", help: "h", labelNames: ["route"], buckets: [1])
        histogram.observe(0.5, labels: ["/a"])
        histogram.observe(2, labels: ["/b"])
        histogram.observe(3, labels: ["/b"])
        #expect(histogram.snapshot(labels: ["/a"]).cumulativeCounts == [1, 1])
        #expect(histogram.snapshot(labels: ["/b"]).cumulativeCounts == [0, 2])
        #expect(histogram.snapshot(labels: ["/never"]).count == 0)
    }
}

@Suite struct ConcurrentUpdateTests {
    @Test func updatesFromManyThreads_AreAllCounted() {
        let metrics = Metrics()
        let threads = 8
        let perThread = 1_000
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread {
                metrics.recordHTTPRequest(route: "/webhooks/{source}", status: index.isMultiple(of: 2) ? 202 : 401)
                metrics.recordSeamCall(
                    route: "/access_codes/update_multiple", outcome: .success, seconds: Double(thread) / 10)
                metrics.outboxDepth.add(1)
                if index.isMultiple(of: 250) { _ = metrics.exposition(acceptEncoding: "gzip") }
            }
        }
        let total = Double(threads * perThread)
        #expect(metrics.httpRequests.value(labels: ["/webhooks/{source}", "202"]) == total / 2)
        #expect(metrics.httpRequests.value(labels: ["/webhooks/{source}", "401"]) == total / 2)
        #expect(metrics.seamRequests.value(labels: ["/access_codes/update_multiple", "success"]) == total)
        #expect(
            metrics.seamRequestDuration.snapshot(labels: ["/access_codes/update_multiple", "success"]).count
                == UInt64(total))
        #expect(metrics.outboxDepth.value() == total)
    }
}

@Suite struct ExpositionTextTests {
    @Test func render_WritesHelpTypeEscapedLabelsAndCumulativeBuckets() {
        let registry = MetricsRegistry()
        let requests = registry.makeCounter(
            name: "demo_requests_total", help: "Requests.\nSecond \\ line", labelNames: ["route", "status"])
        let depth = registry.makeGauge(name: "demo_depth", help: "Depth.")
        let latency = registry.makeHistogram(
            name: "demo_seconds", help: "Latency.", labelNames: ["route"], buckets: [0.1, 1])
        requests.increment(labels: ["/webhooks/{source}", "202"])
        requests.increment(by: 2, labels: ["/webhooks/{source}", "202"])
        requests.increment(labels: ["a\"b\\c\nd", "500"])
        depth.set(4.5)
        latency.observe(0.05, labels: ["/x"])
        latency.observe(0.5, labels: ["/x"])
        latency.observe(3, labels: ["/x"])
        let expected = """
            # HELP demo_requests_total Requests.\\nSecond \\\\ line
            # TYPE demo_requests_total counter
            demo_requests_total{route="/webhooks/{source}",status="202"} 3
            demo_requests_total{route="a\\"b\\\\c\\nd",status="500"} 1
            # HELP demo_depth Depth.
            # TYPE demo_depth gauge
            demo_depth 4.5
            # HELP demo_seconds Latency.
            # TYPE demo_seconds histogram
            demo_seconds_bucket{route="/x",le="0.1"} 1
            demo_seconds_bucket{route="/x",le="1"} 2
            demo_seconds_bucket{route="/x",le="+Inf"} 3
            demo_seconds_sum{route="/x"} 3.55
            demo_seconds_count{route="/x"} 3

            """
        #expect(registry.render() == expected)
    }

    @Test func unlabelledFamilies_AreExposedAtZeroBeforeAnyUpdate() {
        let registry = MetricsRegistry()
        _ = registry.makeCounter(name: "c_total", help: "c")
        _ = registry.makeGauge(name: "g", help: "g")
        _ = registry.makeHistogram(name: "h", help: "h", buckets: [1])
        _ = registry.makeCounter(name: "labelled_total", help: "l", labelNames: ["x"])
        let text = registry.render()
        #expect(text.contains("\nc_total 0\n"))
        #expect(text.contains("\ng 0\n"))
        #expect(text.contains("\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n"))
        #expect(text.hasSuffix("# TYPE labelled_total counter\n"), "a labelled family has no series until used")
    }

    @Test func latchkeyMetrics_DeclareEveryFamilyWithTheirTypes() {
        let metrics = Metrics()
        metrics.recordHTTPRequest(route: "/webhooks/{source}", status: 202)
        metrics.recordSignatureFailure(source: "guesty", reason: "bad_signature")
        metrics.recordDelivery(source: "guesty", result: .duplicate)
        metrics.observeJournalFsync(seconds: 0.002)
        metrics.observeGroupCommit(records: 3)
        metrics.setOutbox(depth: 0, oldestIntentAge: 12)
        metrics.setDeadLetters(1)
        metrics.recordSeamCall(route: "/access_codes/create_multiple", outcome: .rateLimited, seconds: 0.2)
        metrics.setAccessCodeGroups([.active: 2])
        let text = metrics.registry.render()
        for (name, type) in Self.expectedFamilies {
            #expect(text.contains("# TYPE \(name) \(type)\n"), "\(name) missing")
        }
        #expect(text.contains(#"latchkey_webhook_deliveries_total{source="guesty",result="duplicate"} 1"#))
        #expect(text.contains("latchkey_outbox_oldest_intent_age_seconds 0\n"), "an empty outbox has no oldest intent")
        #expect(text.contains(#"latchkey_access_code_groups{state="active"} 2"#))
        #expect(text.contains(#"latchkey_access_code_groups{state="failed"} 0"#))
        #expect(
            text.contains(
                #"latchkey_seam_request_duration_seconds_bucket{route="/access_codes/create_multiple",outcome="rate_limited",le="0.25"} 1"#
            ))
        #expect(text.contains(#"latchkey_journal_group_commit_batch_size_bucket{le="4"} 1"#))
    }

    static let expectedFamilies: [(String, String)] = [
        ("latchkey_http_requests_total", "counter"), ("latchkey_webhook_signature_failures_total", "counter"),
        ("latchkey_webhook_deliveries_total", "counter"), ("latchkey_journal_fsync_duration_seconds", "histogram"),
        ("latchkey_journal_group_commit_batch_size", "histogram"), ("latchkey_outbox_depth", "gauge"),
        ("latchkey_outbox_oldest_intent_age_seconds", "gauge"), ("latchkey_dead_letters", "gauge"),
        ("latchkey_seam_requests_total", "counter"), ("latchkey_seam_request_duration_seconds", "histogram"),
        ("latchkey_access_code_groups", "gauge"), ("latchkey_reconciler_stuck_reservations_total", "counter"),
    ]
}

@Suite struct GzipEncodingTests {
    @Test func gzipBody_InflatesBackToTheText() throws {
        let metrics = Metrics()
        metrics.recordHTTPRequest(route: "/healthz", status: 200)
        let text = metrics.registry.render()
        let exposition = metrics.exposition(acceptEncoding: "br;q=1.0, gzip;q=0.8")
        #expect(exposition.contentEncoding == "gzip")
        #expect(exposition.body.starts(with: [0x1F, 0x8B]), "gzip magic")
        #expect(exposition.body.count < text.utf8.count)
        #expect(try inflate(exposition.body) == Array(text.utf8))
        #expect(exposition.headerFields.contains(.init(name: "Content-Encoding", value: "gzip")))
        #expect(
            exposition.headerFields.contains(
                .init(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")))
    }

    @Test func plainBody_WhenGzipIsNotAccepted() {
        let registry = MetricsRegistry()
        _ = registry.makeGauge(name: "g", help: "g")
        let exposition = registry.exposition(acceptEncoding: nil)
        #expect(exposition.contentEncoding == nil)
        #expect(exposition.body == Array(registry.render().utf8))
        #expect(!exposition.headerFields.contains { $0.name == "Content-Encoding" })
    }

    @Test(arguments: [
        ("gzip", true), ("GZIP", true), ("deflate, gzip", true), ("gzip;q=0", false), ("gzip; q=0.0", false),
        ("*", true), ("*;q=0", false), ("identity", false), ("", false), ("x-gzip", true), ("gzip;q=0, *", false),
    ])
    func acceptEncoding_IsReadWithQualities(header: String, accepted: Bool) {
        #expect(MetricsExposition.acceptsGzip(header) == accepted)
    }

    @Test func emptyInput_StillMakesAValidGzipMember() throws {
        let compressed = try Gzip.compress([])
        #expect(try inflate(compressed) == [])
    }

    /// Inflates a gzip member with zlib (windowBits 31: gzip wrapper only).
    private func inflate(_ compressed: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        try #require(CZlib_inflateInit2(&stream, 31) == Z_OK)
        defer { inflateEnd(&stream) }
        var input = compressed
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return outBuffer.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
            } while status == Z_OK
        }
        try #require(status == Z_STREAM_END, "inflate ended with \(status)")
        return output
    }
}

/// Runs `Tests/metrics/check_metrics.py`, which parses the output with `prometheus_client`'s own parser.
@Suite struct PrometheusClientParserTests {
    static let script = RepositoryFiles.url("Tests/metrics/check_metrics.py")

    /// Whether python3 with prometheus_client can be run here; when not, the test shows as skipped with this reason.
    static let pythonAvailable: Bool = {
        (try? run(["python3", "-c", "import prometheus_client"]).status) == 0
    }()

    @Test(.enabled(if: pythonAvailable, "needs python3 with prometheus_client (pip install prometheus_client)"))
    func renderedOutput_ParsesWithPrometheusClient() throws {
        let metrics = Metrics()
        metrics.recordHTTPRequest(route: "/webhooks/{source}", status: 202)
        metrics.recordHTTPRequest(route: "we\"ird\\route\n", status: 400)
        metrics.recordSignatureFailure(source: "lodgify", reason: "bad_signature")
        metrics.recordDelivery(source: "lodgify", result: .rejected)
        metrics.observeJournalFsync(seconds: 0.0031)
        metrics.observeJournalFsync(seconds: 9)
        metrics.observeGroupCommit(records: 17)
        metrics.setOutbox(depth: 2, oldestIntentAge: 31.25)
        metrics.recordSeamCall(route: "/access_codes/update_multiple", outcome: .success, seconds: 0.12)
        metrics.setAccessCodeGroups([.pending: 1, .active: 5])

        for encoding in [nil, "gzip"] {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                "latchkey-metrics-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: file) }
            try Data(metrics.registry.exposition(acceptEncoding: encoding).body).write(to: file)
            var arguments = ["python3", Self.script.path, file.path]
            for (name, type) in ExpositionTextTests.expectedFamilies {
                arguments += ["--expect", "\(name.hasSuffix("_total") ? String(name.dropLast(6)) : name):\(type)"]
            }
            let result = try Self.run(arguments)
            #expect(result.status == 0, "check_metrics.py failed: \(result.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let families = try #require(summary?["families"] as? [String: [String: Any]])
            #expect(families["latchkey_http_requests"]?["samples"] as? Int == 2)
            #expect(
                families["latchkey_journal_fsync_duration_seconds"]?["samples"] as? Int == Metrics.fsyncBuckets.count
                    + 3)
        }
    }

    @Test(.enabled(if: pythonAvailable, "needs python3 with prometheus_client (pip install prometheus_client)"))
    func brokenHistogram_IsCaughtByTheChecker() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "latchkey-metrics-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let broken = "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 3\n"
        try Data(broken.utf8).write(to: file)
        let result = try Self.run(["python3", Self.script.path, file.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("not cumulative"))
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }
}
