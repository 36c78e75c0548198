import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What came back for one request.
package enum TransportResult: Sendable, Equatable {
    /// An HTTP response: its status, whether it says it replays an earlier answer (`Idempotent-Replayed: true`),
    /// and its body.
    case response(status: Int, replayed: Bool = false, body: [UInt8])
    /// No response: connection refused, reset, or timed out. The text says which.
    case failure(String)
}

/// Sends one request to Latchkey. The harness uses ``URLSessionTransport``; tests may answer in memory.
package protocol DeliveryTransport: Sendable {
    /// Sends `request` and waits for the answer.
    func send(_ request: OutgoingRequest) async -> TransportResult
}

/// Sends requests with FoundationNetworking's `URLSession`, async, one request per call.
package struct URLSessionTransport: DeliveryTransport {
    /// Latchkey's base URL, e.g. `http://127.0.0.1:8080`.
    package var baseURL: URL
    /// The timeout of one request, in seconds. Default 10.
    package var timeoutSeconds: Double
    private let session: URLSession

    /// Creates a transport.
    /// - Parameters:
    ///   - baseURL: Latchkey's base URL; request paths are appended to it.
    ///   - timeoutSeconds: The timeout of one request, in seconds. Default 10.
    package init(baseURL: URL, timeoutSeconds: Double = 10) {
        self.baseURL = baseURL
        self.timeoutSeconds = timeoutSeconds
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds * 2
        configuration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: configuration)
    }

    /// Posts the request.
    package func send(_ request: OutgoingRequest) async -> TransportResult {
        guard let url = URL(string: baseURL.absoluteString.trimmingSuffix("/") + request.path) else {
            return .failure("cannot form a URL from \(baseURL) and the request path")
        }
        var urlRequest = URLRequest(url: url, timeoutInterval: timeoutSeconds)
        urlRequest.httpMethod = "POST"
        for header in request.headers { urlRequest.setValue(header.value, forHTTPHeaderField: header.name) }
        urlRequest.httpBody = Data(request.body)
        do {
            let (data, response) = try await session.data(for: urlRequest)
            let http = response as? HTTPURLResponse
            let replayed = http?.value(forHTTPHeaderField: "Idempotent-Replayed")?.lowercased() == "true"
            return .response(status: http?.statusCode ?? 0, replayed: replayed, body: Array(data))
        } catch {
            return .failure(error.localizedDescription)
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

/// How one answer counts in the report.
package enum DeliveryOutcome: Sendable, Equatable {
    /// 202: recorded durably.
    case accepted
    /// 200 marked `Idempotent-Replayed: true` (Latchkey repeats the first answer), or whose body says
    /// `duplicate`: already recorded.
    case duplicate
    /// Any other 2xx: taken but ignored (a test ping, an event Latchkey does not act on).
    case ignored
    /// A non-2xx status.
    case rejected(Int)
    /// No HTTP answer.
    case transportError(String)

    /// Classifies an answer.
    package init(_ result: TransportResult) {
        switch result {
        case .failure(let reason):
            self = .transportError(reason)
        case .response(let status, let replayed, let body):
            switch status {
            case 200 where replayed || String(decoding: body, as: UTF8.self).lowercased().contains("\"duplicate\""):
                self = .duplicate
            case 202: self = .accepted
            case 200..<300: self = .ignored
            default: self = .rejected(status)
            }
        }
    }
}
