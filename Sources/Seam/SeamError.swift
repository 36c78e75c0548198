import Foundation

/// How the outbox should treat a failed Seam call.
package enum SeamFailureClass: String, Sendable, Equatable {
    /// Try again later with backoff: 5xx, 408, 429, timeouts and connection failures.
    case retryable
    /// Trying again will not help: other 4xx (invalid input, not found, duplicate code, …) and responses that
    /// cannot be decoded. Goes to the dead letters with Seam's message.
    case permanent
    /// Seam refused the credentials (401, or 403 forbidden): every call will fail until the key is fixed.
    /// Keep the work pending and tell the operator; do not dead-letter it.
    case unauthorized
}

/// A failed Seam call, with everything needed to log it, classify it and show it to a person.
///
/// Never contains the API key or a PIN: Seam's `message` is kept as Seam wrote it, and Seam does not echo
/// codes in its messages for the routes Latchkey uses.
package struct SeamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, by layer.
    package enum Kind: Sendable, Equatable {
        /// Seam answered with a non-2xx status.
        case http(status: Int)
        /// No answer: see the wrapped transport error.
        case transport(SeamTransportError)
        /// Seam answered 2xx but the body did not have the expected shape; `detail` says where.
        case undecodableResponse(detail: String)
        /// The request was refused before sending: arguments Seam would reject, or a body that cannot be encoded.
        case invalidRequest(detail: String)
        /// A list call followed ``SeamConfiguration/maxPages`` pages, or a cursor repeated.
        case paginationRunaway(pages: Int)
    }

    /// What went wrong.
    package var kind: Kind
    /// The route called, e.g. `/access_codes/create_multiple`.
    package var route: String
    /// Seam's error `type` (`invalid_input`, `access_code_not_found`, `unauthorized`, …), when it sent one.
    package var seamType: String?
    /// Seam's human-readable message, or a description of the transport or decoding failure.
    package var message: String
    /// Seam's request id: the `seam-request-id` response header, else `error.request_id` in the body.
    package var requestID: String?
    /// Seam's per-parameter messages for `invalid_input` (`validation_errors[param]._errors`), flattened to
    /// `param: message` lines.
    package var validationErrors: [String]
    /// The `Retry-After` header of a 429 or 503 answer, parsed to a delay from the moment it arrived.
    package var retryAfter: Duration?

    /// Creates an error value.
    package init(
        kind: Kind,
        route: String,
        seamType: String? = nil,
        message: String,
        requestID: String? = nil,
        validationErrors: [String] = [],
        retryAfter: Duration? = nil
    ) {
        self.kind = kind
        self.route = route
        self.seamType = seamType
        self.message = message
        self.requestID = requestID
        self.validationErrors = validationErrors
        self.retryAfter = retryAfter
    }

    /// The HTTP status, when Seam answered.
    package var httpStatus: Int? {
        if case .http(let status) = kind { return status }
        return nil
    }

    /// How the outbox should treat this failure; see ``SeamFailureClass``.
    package var failureClass: SeamFailureClass {
        switch kind {
        case .http(let status):
            switch status {
            case 401, 403: .unauthorized
            case 408, 429, 500...599: .retryable
            default: .permanent
            }
        case .transport: .retryable
        case .undecodableResponse, .invalidRequest, .paginationRunaway: .permanent
        }
    }

    /// Whether Seam may have acted on the call although it failed: a timeout, a broken connection, a 5xx or
    /// an undecodable 2xx. Before creating again after such a failure, look the codes up (DESIGN.md,
    /// "Crash safety at the Seam boundary").
    package var outcomeIsUnknown: Bool {
        switch kind {
        case .http(let status): status >= 500 || status == 408
        case .transport: true
        case .undecodableResponse: true
        case .invalidRequest, .paginationRunaway: false
        }
    }

    /// Whether Seam said the resource does not exist (404, or a `*not_found` type).
    package var isNotFound: Bool {
        httpStatus == 404 || (seamType?.hasSuffix("not_found") ?? false)
    }

    /// One line for logs and dead letters: route, status, type, message, request id.
    package var description: String {
        var parts: [String] = ["Seam \(route) failed"]
        switch kind {
        case .http(let status): parts.append("HTTP \(status)")
        case .transport(let error): parts.append("transport \(error)")
        case .undecodableResponse: parts.append("undecodable response")
        case .invalidRequest: parts.append("invalid request")
        case .paginationRunaway(let pages): parts.append("pagination stopped after \(pages) pages")
        }
        if let seamType { parts.append(seamType) }
        var line = parts.joined(separator: ", ") + ": " + message
        if !validationErrors.isEmpty { line += " [" + validationErrors.joined(separator: "; ") + "]" }
        if let requestID { line += " (seam-request-id \(requestID))" }
        return line
    }
}

/// Seam's error body: `{"error": {"type", "message", "request_id"?, "validation_errors"?}, "ok": false}`.
struct SeamErrorEnvelope: Decodable {
    struct Detail: Decodable {
        var type: String
        var message: String
        var requestID: String?
        var validationErrors: [String]

        enum CodingKeys: String, CodingKey {
            case type, message
            case requestID = "request_id"
            case validationErrors = "validation_errors"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decode(String.self, forKey: .type)
            message = try container.decode(String.self, forKey: .message)
            requestID = try? container.decodeIfPresent(String.self, forKey: .requestID)
            let tree = try? container.decodeIfPresent(ValidationTree.self, forKey: .validationErrors)
            validationErrors = tree?.messages(path: []) ?? []
        }
    }

    var error: Detail
}

/// zod's `format()` tree: `{"_errors": [..], "param": {"_errors": [..], ...}}`.
private struct ValidationTree: Decodable {
    var errors: [String]
    var children: [String: ValidationTree]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var errors: [String] = []
        var children: [String: ValidationTree] = [:]
        for key in container.allKeys {
            if key.stringValue == "_errors" {
                errors = (try? container.decode([String].self, forKey: key)) ?? []
            } else if let child = try? container.decode(ValidationTree.self, forKey: key) {
                children[key.stringValue] = child
            }
        }
        self.errors = errors
        self.children = children
    }

    func messages(path: [String]) -> [String] {
        let here = path.isEmpty ? "input" : path.joined(separator: ".")
        return errors.map { "\(here): \($0)" }
            + children.keys.sorted().flatMap { children[$0]!.messages(path: path + [$0]) }
    }
}
