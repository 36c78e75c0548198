import Bookings
import Configuration
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One access code as Seam reports it, reduced to what the harness compares. The PIN is kept only to
/// compare PINs across locks and never appears in a report.
package struct ObservedAccessCode: Sendable, Equatable {
    /// `access_code_id`.
    package var id: String
    /// `device_id`.
    package var deviceID: String
    /// `name`, which carries Latchkey's reservation marker.
    package var name: String?
    /// `code`, the PIN (compared, never printed).
    package var code: String?
    /// `common_code_key` of the linked group.
    package var commonCodeKey: String?
    /// `starts_at`.
    package var startsAt: Date?
    /// `ends_at`.
    package var endsAt: Date?
    /// `status`: `setting`, `set`, `unset`, `removing`, `unknown`.
    package var status: String?

    /// Creates an observed code.
    package init(
        id: String, deviceID: String, name: String?, code: String?, commonCodeKey: String? = nil,
        startsAt: Date? = nil, endsAt: Date? = nil, status: String? = nil
    ) {
        self.id = id
        self.deviceID = deviceID
        self.name = name
        self.code = code
        self.commonCodeKey = commonCodeKey
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.status = status
    }

    /// Whether the code is on its way out (`removing`): it no longer counts as part of a group.
    package var isBeingRemoved: Bool { status == "removing" }

    /// Reads Seam's `access_code` object.
    /// - Returns: `nil` when `access_code_id` or `device_id` is missing.
    init?(json: [String: Any]) {
        guard let id = json["access_code_id"] as? String, let device = json["device_id"] as? String else { return nil }
        self.init(
            id: id, deviceID: device, name: json["name"] as? String, code: json["code"] as? String,
            commonCodeKey: json["common_code_key"] as? String,
            startsAt: (json["starts_at"] as? String).flatMap(RFC3339.parse),
            endsAt: (json["ends_at"] as? String).flatMap(RFC3339.parse),
            status: json["status"] as? String
        )
    }
}

/// Where the harness reads what Seam holds.
package protocol SeamStateReader: Sendable {
    /// Every access code on the devices the harness cares about.
    /// - Throws: ``ReplayError`` when Seam cannot be read.
    func accessCodes() async throws(ReplayError) -> [ObservedAccessCode]
}

/// Reads the fake Seam's whole state with `GET {base}/_fake/state` (the `access_codes` array).
package struct FakeSeamStateReader: SeamStateReader {
    /// The fake's base URL, e.g. `http://127.0.0.1:4010`.
    package var baseURL: URL
    /// The request timeout, in seconds. Default 10.
    package var timeoutSeconds: Double

    /// Creates a reader.
    package init(baseURL: URL, timeoutSeconds: Double = 10) {
        self.baseURL = baseURL
        self.timeoutSeconds = timeoutSeconds
    }

    /// Reads the fake's state.
    package func accessCodes() async throws(ReplayError) -> [ObservedAccessCode] {
        var request = URLRequest(url: baseURL.appendingPathComponent("_fake/state"), timeoutInterval: timeoutSeconds)
        request.httpMethod = "GET"
        let object = try await SeamJSON.fetchObject(request, what: "the fake Seam state")
        guard let codes = object["access_codes"] as? [[String: Any]] else {
            throw ReplayError(
                "the fake Seam state at \(baseURL)/_fake/state has no `access_codes` array; is that a Latchkey fake Seam?"
            )
        }
        return codes.compactMap(ObservedAccessCode.init(json:))
    }
}

/// Reads a real Seam workspace with `POST /access_codes/list` per device, following `page_cursor`.
package struct SeamAPIStateReader: SeamStateReader {
    /// Seam's base URL. Default `https://connect.getseam.com`.
    package var baseURL: URL
    /// The API key (sent as a bearer token, never printed).
    package var apiKey: String
    /// The workspace id, for personal access tokens; `nil` for an API key. Default `nil`.
    package var workspaceID: String?
    /// The devices to list.
    package var deviceIDs: [String]
    /// The request timeout, in seconds. Default 15.
    package var timeoutSeconds: Double

    /// Creates a reader.
    package init(
        baseURL: URL = URL(string: "https://connect.getseam.com")!, apiKey: String, workspaceID: String? = nil,
        deviceIDs: [String], timeoutSeconds: Double = 15
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.workspaceID = workspaceID
        self.deviceIDs = deviceIDs
        self.timeoutSeconds = timeoutSeconds
    }

    /// Creates a reader for every lock of `configuration`'s properties, with its `seam.api_key`, `seam.endpoint`
    /// (else `SEAM_ENDPOINT`, else Seam's public URL) and `seam.workspace_id`.
    /// - Throws: ``ReplayError`` when the API key does not resolve or the endpoint is not a URL.
    package init(
        configuration: LatchkeyConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ReplayError) {
        let key: String?
        do {
            key = try configuration.seam.apiKey?.resolve(environment: environment)
        } catch {
            throw ReplayError("seam.api_key: \(error.message)")
        }
        guard let key, !key.isEmpty else {
            throw ReplayError("reading Seam needs seam.api_key in the configuration to resolve (e.g. set SEAM_API_KEY)")
        }
        let endpoint = configuration.seam.endpoint ?? environment["SEAM_ENDPOINT"] ?? "https://connect.getseam.com"
        guard let base = URL(string: endpoint), base.host != nil else {
            throw ReplayError("seam.endpoint \(endpoint) is not a URL")
        }
        self.init(
            baseURL: base, apiKey: key, workspaceID: configuration.seam.workspaceID,
            deviceIDs: Array(Set(configuration.properties.flatMap(\.deviceIDs))).sorted(),
            timeoutSeconds: Double(configuration.seam.requestTimeoutSeconds)
        )
    }

    /// Lists the codes of every device, page by page.
    package func accessCodes() async throws(ReplayError) -> [ObservedAccessCode] {
        var result: [ObservedAccessCode] = []
        for device in deviceIDs {
            var cursor: String?
            repeat {
                var body: [String: Any] = ["device_id": device]
                if let cursor { body["page_cursor"] = cursor }
                var request = URLRequest(
                    url: baseURL.appendingPathComponent("access_codes/list"), timeoutInterval: timeoutSeconds)
                request.httpMethod = "POST"
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
                if let workspaceID { request.setValue(workspaceID, forHTTPHeaderField: "seam-workspace") }
                request.httpBody = try? JSONSerialization.data(withJSONObject: body)
                let object = try await SeamJSON.fetchObject(request, what: "Seam's access codes of device \(device)")
                let codes = object["access_codes"] as? [[String: Any]] ?? []
                result += codes.compactMap(ObservedAccessCode.init(json:))
                let pagination = object["pagination"] as? [String: Any]
                cursor =
                    (pagination?["has_next_page"] as? Bool) == true ? pagination?["next_page_cursor"] as? String : nil
            } while cursor != nil
        }
        return result
    }
}

/// Fetching one JSON object over HTTP with errors a person can act on.
enum SeamJSON {
    static func fetchObject(_ request: URLRequest, what: String) async throws(ReplayError) -> [String: Any] {
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ReplayError(
                "cannot read \(what) from \(request.url?.absoluteString ?? "?"): \(error.localizedDescription); is it running?"
            )
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw ReplayError(
                "reading \(what) from \(request.url?.absoluteString ?? "?") answered HTTP \(status); check the URL and the API key"
            )
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ReplayError("\(what) is not a JSON object")
        }
        return object
    }
}
