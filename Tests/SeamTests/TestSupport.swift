import Foundation
import LatchkeyTestSupport
import Logging
import Seam
import Synchronization

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

extension SeamClient {
    /// A client over `transport` with a test API key.
    static func testing(
        _ transport: any SeamTransport,
        configuration: SeamConfiguration = SeamConfiguration(endpoint: URL(string: "https://seam.test")!),
        logger: Logger = quietLogger,
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
