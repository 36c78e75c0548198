import Foundation

/// Where and how the client talks to Seam. Everything except the endpoint has a sensible default.
package struct SeamConfiguration: Sendable, Equatable {
    /// The production base URL, `https://connect.getseam.com`.
    package static let defaultEndpoint = URL(string: "https://connect.getseam.com")!

    /// The base URL every route is appended to. Default ``defaultEndpoint``; `SEAM_ENDPOINT` overrides it
    /// (see ``endpoint(environment:)``), e.g. to point at the fake Seam on loopback.
    package var endpoint: URL
    /// Longest wait, in seconds, for the connection and then for each chunk of the response (the idle timeout
    /// of one attempt, `URLRequest.timeoutInterval`). Default 10 s. FoundationNetworking has no separate
    /// connect timeout: a connection that cannot be made within this time fails as a timeout. Rounded up to
    /// whole seconds (at least 1 s), because FoundationNetworking truncates fractions.
    package var requestTimeout: Duration
    /// Longest time, in seconds, one whole exchange (connect, send, receive) may take
    /// (`URLSessionConfiguration.timeoutIntervalForResource`). Default 30 s, like Seam's JS SDK per attempt.
    /// Rounded up to whole seconds, at least 1 s.
    package var resourceTimeout: Duration
    /// The `User-Agent` and `seam-sdk-name` value sent with each call. Default `latchkey`.
    package var userAgent: String
    /// Page size asked of `/access_codes/list` and `/devices/list` (`limit`). Default `nil`: Seam's own
    /// default (55000 for access codes), so one page is the usual case and pagination is followed when present.
    package var pageLimit: Int?
    /// Most pages one list call follows before it stops with an error (a guard against a cursor that never
    /// ends). Default 1000.
    package var maxPages: Int

    /// Creates a configuration; every parameter has the default its property documents.
    package init(
        endpoint: URL = SeamConfiguration.defaultEndpoint,
        requestTimeout: Duration = .seconds(10),
        resourceTimeout: Duration = .seconds(30),
        userAgent: String = "latchkey",
        pageLimit: Int? = nil,
        maxPages: Int = 1000
    ) {
        self.endpoint = endpoint
        self.requestTimeout = requestTimeout
        self.resourceTimeout = resourceTimeout
        self.userAgent = userAgent
        self.pageLimit = pageLimit
        self.maxPages = maxPages
    }

    /// The endpoint named by the environment: `SEAM_ENDPOINT`, else the deprecated `SEAM_API_URL`,
    /// else ``defaultEndpoint``.
    /// - Parameter environment: The process environment (pass `ProcessInfo.processInfo.environment`).
    /// - Returns: An absolute `http` or `https` URL.
    /// - Throws: ``SeamCredentialsError/invalidEndpoint(variable:value:)`` when the value is not such a URL.
    package static func endpoint(environment: [String: String]) throws(SeamCredentialsError) -> URL {
        for variable in ["SEAM_ENDPOINT", "SEAM_API_URL"] {
            guard let raw = environment[variable]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
                continue
            }
            guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", url.host != nil
            else {
                throw .invalidEndpoint(variable: variable, value: raw)
            }
            return url
        }
        return defaultEndpoint
    }
}
