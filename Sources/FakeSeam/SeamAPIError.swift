import HTTPServer

/// An error the fake answers with, in Seam's envelope:
/// `{"error": {"type", "message", "request_id", "validation_errors"?, "data"?}, "ok": false}`.
///
/// Types and statuses follow seam-api.md §6: 400 `invalid_input`, 401 `unauthorized`, 404 `device_not_found` /
/// `access_code_not_found` / `action_attempt_not_found` / `not_found`, 409 `duplicate_access_code`, 429
/// `rate_limit_exceeded`, 5xx `internal_server_error` / `service_unavailable`.
package struct SeamAPIError: Error, Sendable, Equatable {
    /// The HTTP status code.
    package var status: Int
    /// Seam's machine-readable type, e.g. `invalid_input`.
    package var type: String
    /// What was wrong and what to do, for a person.
    package var message: String
    /// Per-parameter messages in zod's `format()` shape (`{"param": {"_errors": ["…"]}, "_errors": []}`),
    /// only for `invalid_input`.
    package var validationErrors: [String: [String]]?
    /// Extra context (`data` in the envelope), e.g. the devices that could not share a code.
    package var data: JSONValue?
    /// Extra response headers, e.g. `Retry-After`.
    package var headers: [(String, String)]

    /// Creates an error.
    package init(
        status: Int,
        type: String,
        message: String,
        validationErrors: [String: [String]]? = nil,
        data: JSONValue? = nil,
        headers: [(String, String)] = []
    ) {
        self.status = status
        self.type = type
        self.message = message
        self.validationErrors = validationErrors
        self.data = data
        self.headers = headers
    }

    /// Errors compare by status, type, message, validation errors and data (headers are presentation).
    package static func == (lhs: SeamAPIError, rhs: SeamAPIError) -> Bool {
        lhs.status == rhs.status && lhs.type == rhs.type && lhs.message == rhs.message
            && lhs.validationErrors == rhs.validationErrors && lhs.data == rhs.data
    }

    /// A 400 `invalid_input` for one parameter.
    package static func invalidInput(_ parameter: String, _ message: String) -> SeamAPIError {
        invalidInput([parameter: [message]])
    }

    /// A 400 `invalid_input` carrying every parameter's messages; the message counts them as Seam's framework does.
    package static func invalidInput(_ errors: [String: [String]]) -> SeamAPIError {
        let flat = errors.sorted { $0.key < $1.key }.flatMap { key, messages in messages.map { "\(key): \($0)" } }
        let message = flat.count == 1 ? flat[0] : "\(flat.count) Input Errors: \(flat.joined(separator: ", "))"
        return SeamAPIError(status: 400, type: "invalid_input", message: message, validationErrors: errors)
    }

    /// A 404 `device_not_found`.
    package static func deviceNotFound(_ deviceID: String) -> SeamAPIError {
        SeamAPIError(
            status: 404, type: "device_not_found",
            message: "Device \(deviceID) not found; list devices with /devices/list.")
    }

    /// A 404 `access_code_not_found`.
    package static func accessCodeNotFound(_ accessCodeID: String) -> SeamAPIError {
        SeamAPIError(
            status: 404, type: "access_code_not_found",
            message: "Access code \(accessCodeID) not found; it may have been deleted."
        )
    }

    /// A 401 `unauthorized`.
    package static let unauthorized = SeamAPIError(
        status: 401, type: "unauthorized",
        message: "Unauthorized: send Authorization: Bearer <api key> with a key this server knows."
    )

    /// A 429 `rate_limit_exceeded` with `Retry-After` in whole seconds.
    package static func rateLimited(_ message: String, retryAfterSeconds: Int) -> SeamAPIError {
        SeamAPIError(
            status: 429, type: "rate_limit_exceeded", message: message,
            headers: [("Retry-After", String(max(1, retryAfterSeconds)))]
        )
    }

    /// The envelope as JSON.
    package func body(requestID: String) -> JSONValue {
        var error: [String: JSONValue] = [
            "type": .string(type), "message": .string(message), "request_id": .string(requestID),
        ]
        if let validationErrors {
            var formatted: [String: JSONValue] = ["_errors": []]
            for (key, messages) in validationErrors {
                formatted[key] = ["_errors": .array(messages.map(JSONValue.string))]
            }
            error["validation_errors"] = .object(formatted)
        }
        if let data { error["data"] = data }
        return ["error": .object(error), "ok": false]
    }

    /// The whole HTTP answer.
    package func response(requestID: String) -> HTTPResponse {
        var response = HTTPResponse.seamJSON(status: status, body(requestID: requestID))
        for (name, value) in headers { response.headers.replaceOrAdd(name: name, value: value) }
        return response
    }
}

extension HTTPResponse {
    /// A response whose body is `value` as JSON, with `Content-Type: application/json; charset=utf-8`.
    static func seamJSON(status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json; charset=utf-8"], body: value.encoded)
    }
}
