import Foundation
import FoundationNetworking

/// The product's transport: FoundationNetworking's `URLSession` with async/await (`data(for:)`).
///
/// One session per transport, so connections are kept alive and reused across calls.
package final class URLSessionSeamTransport: SeamTransport {
    private let session: URLSession
    private let requestTimeout: TimeInterval

    /// Creates a transport with its own ephemeral session (no cookies, no cache).
    /// - Parameters:
    ///   - requestTimeout: Idle timeout of one exchange (`URLRequest.timeoutInterval`); see
    ///     ``SeamConfiguration/requestTimeout``.
    ///   - resourceTimeout: Total time one exchange may take; see ``SeamConfiguration/resourceTimeout``.
    ///
    /// Both are rounded up to whole seconds, at least 1 s: FoundationNetworking on Linux truncates a timeout to
    /// whole seconds, so 0.5 s became 0 and every call "timed out" at once (measured here, Swift 6.3.1).
    package init(requestTimeout: Duration, resourceTimeout: Duration) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Self.wholeSeconds(requestTimeout)
        configuration.timeoutIntervalForResource = Self.wholeSeconds(resourceTimeout)
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
        self.requestTimeout = Self.wholeSeconds(requestTimeout)
    }

    /// `duration` rounded up to whole seconds, at least 1.
    static func wholeSeconds(_ duration: Duration) -> TimeInterval {
        max(1, duration.timeInterval.rounded(.up))
    }

    /// Creates a transport with the timeouts of `configuration`.
    /// - Parameter configuration: The client configuration.
    package convenience init(configuration: SeamConfiguration) {
        self.init(requestTimeout: configuration.requestTimeout, resourceTimeout: configuration.resourceTimeout)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    /// Sends `request` through the session.
    /// - Returns: The response, whatever its status.
    /// - Throws: ``SeamTransportError`` for timeouts, connection failures and cancellation.
    package func send(_ request: SeamHTTPRequest) async throws(SeamTransportError) -> SeamHTTPResponse {
        var urlRequest = URLRequest(url: request.url, timeoutInterval: requestTimeout)
        urlRequest.httpMethod = request.method
        for header in request.headers {
            urlRequest.addValue(header.value, forHTTPHeaderField: header.name)
        }
        urlRequest.httpBody = request.body
        do {
            // Not cancelled from outside: cancelling a Swift task during `data(for:)` makes FoundationNetworking
            // call URLSessionTask.cancel(), which deadlocked on the session's queue here (seen on shutdown with a
            // call in flight). The call ends by itself within the configured timeouts.
            let session = self.session
            let (data, response) = try await Task { try await session.data(for: urlRequest) }.value
            guard let http = response as? HTTPURLResponse else {
                throw SeamTransportError.connectionFailed(reason: "the response was not HTTP")
            }
            var headers: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                if let name = name as? String, let value = value as? String {
                    headers[name.lowercased()] = value
                }
            }
            return SeamHTTPResponse(status: http.statusCode, headers: headers, body: data)
        } catch let error as SeamTransportError {
            throw error
        } catch {
            throw Self.classify(error)
        }
    }

    /// Maps a URLSession failure onto ``SeamTransportError``.
    static func classify(_ error: any Error) -> SeamTransportError {
        if error is CancellationError { return .cancelled }
        guard let urlError = error as? URLError else {
            return .connectionFailed(reason: String(describing: error))
        }
        switch urlError.code {
        case .timedOut: return .timedOut
        case .cancelled: return .cancelled
        default:
            return .connectionFailed(reason: "\(urlError.localizedDescription) (URLError \(urlError.code.rawValue))")
        }
    }
}
