import Foundation
import Logging
import Seam
import Synchronization

/// SplitMix64: a seeded random source, so jitter is reproducible.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A clock moved by hand.
final class ManualClock: SeamClock {
    private let instant: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { instant = Mutex(start) }
    func now() -> Date { instant.withLock { $0 } }
    func advance(by seconds: TimeInterval) { instant.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A transport that answers from a script and records what it was sent.
final class ScriptedTransport: SeamTransport {
    typealias Responder = @Sendable (SeamHTTPRequest, Int) throws(SeamTransportError) -> SeamHTTPResponse
    private let responder: Responder
    private let log = Mutex<[SeamHTTPRequest]>([])

    init(_ responder: @escaping Responder) { self.responder = responder }

    /// Always the same JSON answer.
    convenience init(status: Int = 200, json: String, headers: [String: String] = [:]) {
        self.init { _, _ in SeamHTTPResponse(status: status, headers: headers, body: Data(json.utf8)) }
    }

    var requests: [SeamHTTPRequest] { log.withLock { $0 } }

    func send(_ request: SeamHTTPRequest) async throws(SeamTransportError) -> SeamHTTPResponse {
        let index = log.withLock { log in
            log.append(request)
            return log.count - 1
        }
        return try responder(request, index)
    }
}

/// Collects log records so tests can check what was (and was not) logged.
struct CapturingLogHandler: LogHandler {
    final class Store: Sendable {
        let lines = Mutex<[String]>([])
        var all: String { lines.withLock { $0.joined(separator: "\n") } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
        store.lines.withLock { $0.append("\(event.level) \(event.message) \(rendered)") }
    }

    static func makeLogger() -> (Logger, Store) {
        let store = Store()
        return (Logger(label: "seam-tests") { _ in CapturingLogHandler(store: store) }, store)
    }
}

extension SeamClient {
    /// A client over `transport` with a test API key.
    static func testing(
        _ transport: any SeamTransport,
        configuration: SeamConfiguration = SeamConfiguration(endpoint: URL(string: "https://seam.test")!),
        logger: Logger = Logger(label: "seam-tests") { _ in SwiftLogNoOpLogHandler() },
        clock: any SeamClock = ManualClock()
    ) throws -> SeamClient {
        SeamClient(
            configuration: configuration, credentials: try SeamCredentials(apiKey: TestKeys.apiKey),
            transport: transport, clock: clock, logger: logger)
    }
}

enum TestKeys {
    static let apiKey = "seam_test2bMS_94SrGUXuNR2JmJkjtvBQDg5c"
}

extension SeamHTTPRequest {
    /// The JSON body as a dictionary.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }
    var route: String { url.path }
}

/// An ISO 8601 instant for tests.
func instant(_ text: String) -> Date {
    SeamJSON.parseTimestamp(text)!
}
