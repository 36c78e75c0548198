import Foundation
import Logging

/// The result of ``SeamClient/delete(accessCodeID:)``.
package enum DeleteOutcome: Sendable, Equatable {
    /// Seam accepted the deletion; removal from the lock continues in the background (`status: removing`).
    /// The action attempt is nil when the server does not return one.
    case deleted(actionAttempt: ActionAttempt?)
    /// Seam no longer knows the code (404 / `*not_found`): it was deleted before, or expired. Counts as done.
    case alreadyGone
}

/// Latchkey's client of Seam Connect: the routes that keep one linked group of access codes per reservation.
///
/// Every call is one HTTP exchange, `POST` with a JSON body. The client never retries: it reports a typed
/// ``SeamError`` whose ``SeamError/failureClass`` tells the outbox whether and how to retry (retrying at one
/// layer only; durability.md §5). Each call is logged at debug (success) or info (failure) with its route,
/// status, duration and `seam-request-id`; never the key, a body or a PIN.
package struct SeamClient: Sendable {
    /// The endpoint, timeouts and page settings in use.
    package let configuration: SeamConfiguration
    private let credentials: SeamCredentials
    private let transport: any SeamTransport
    private let clock: any SeamClock
    private let logger: Logger

    /// Creates a client.
    /// - Parameters:
    ///   - configuration: Endpoint, timeouts and paging; default ``SeamConfiguration/init(endpoint:requestTimeout:resourceTimeout:userAgent:pageLimit:maxPages:)``.
    ///   - credentials: The API key or personal access token.
    ///   - transport: How requests travel; default a ``URLSessionSeamTransport`` with the configuration's timeouts.
    ///   - clock: Converts an HTTP-date `Retry-After` into a delay; default the system clock.
    ///   - logger: Where calls are logged (debug and info only).
    package init(
        configuration: SeamConfiguration = SeamConfiguration(),
        credentials: SeamCredentials,
        transport: (any SeamTransport)? = nil,
        clock: any SeamClock = SystemSeamClock(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.credentials = credentials
        self.transport = transport ?? URLSessionSeamTransport(configuration: configuration)
        self.clock = clock
        self.logger = logger
    }

    // MARK: - Access codes

    /// Creates one linked group: the same PIN on every device (`/access_codes/create_multiple`).
    ///
    /// Seam answers at once with the codes (typically `unset`); programming continues in the background.
    /// Without `code`, every code carries the same `common_code_key`, which ``updateMultiple(commonCodeKey:name:startsAt:endsAt:)``
    /// needs; with a custom `code` Seam leaves `common_code_key` null.
    /// Not idempotent: after an unknown outcome, look the group up by `name` before calling again.
    /// - Parameters:
    ///   - deviceIDs: The locks; at least one.
    ///   - name: The label; put the reservation's identity here so a group can be found again.
    ///   - startsAt: Start of validity.
    ///   - endsAt: End of validity; after `startsAt`.
    ///   - preferredCodeLength: PIN length to ask for when Seam picks the code; default `nil` (Seam's choice).
    ///   - behaviorWhenCodeCannotBeShared: What to do when a lock cannot take the common PIN; default `.throw`.
    ///   - code: A custom PIN (4–12 digits); default `nil`, which lets Seam choose and set `common_code_key`.
    ///   - useBackupAccessCodePool: Sends `use_backup_access_code_pool: true`, for locks that support a backup
    ///     pool; default false (not sent).
    /// - Returns: One access code per device.
    /// - Throws: ``SeamError``.
    package func createMultiple(
        deviceIDs: [String],
        name: String,
        startsAt: Date,
        endsAt: Date,
        preferredCodeLength: Int? = nil,
        behaviorWhenCodeCannotBeShared: CodeSharingBehavior = .throw,
        code: String? = nil,
        useBackupAccessCodePool: Bool = false
    ) async throws(SeamError) -> [AccessCode] {
        let route = "/access_codes/create_multiple"
        guard !deviceIDs.isEmpty else { throw invalid(route, "device_ids is empty: give at least one lock") }
        try checkWindow(route, startsAt: startsAt, endsAt: endsAt)
        if let code { try checkPIN(route, code) }
        let request = CreateMultipleRequest(
            deviceIDs: deviceIDs, name: name, startsAt: startsAt, endsAt: endsAt,
            preferredCodeLength: preferredCodeLength,
            behaviorWhenCodeCannotBeShared: behaviorWhenCodeCannotBeShared, code: code,
            useBackupAccessCodePool: useBackupAccessCodePool ? true : nil)
        return try await call(route, request, as: AccessCodesBody.self, pin: code).items
    }

    /// Moves a linked group's window and optionally renames it (`/access_codes/update_multiple`). Idempotent.
    /// - Parameters:
    ///   - commonCodeKey: The group's key, from ``AccessCode/commonCodeKey``.
    ///   - name: A new label; default `nil` (unchanged).
    ///   - startsAt: New start of validity.
    ///   - endsAt: New end of validity; after `startsAt`.
    /// - Throws: ``SeamError``.
    package func updateMultiple(
        commonCodeKey: String, name: String? = nil, startsAt: Date, endsAt: Date
    ) async throws(SeamError) {
        let route = "/access_codes/update_multiple"
        guard !commonCodeKey.isEmpty else { throw invalid(route, "common_code_key is empty") }
        try checkWindow(route, startsAt: startsAt, endsAt: endsAt)
        let request = UpdateMultipleRequest(
            commonCodeKey: commonCodeKey, name: name, startsAt: startsAt, endsAt: endsAt)
        _ = try await call(route, request, as: Empty.self)
    }

    /// Creates one time-bound code with a known PIN on one lock (`/access_codes/create`), e.g. to put a group's
    /// PIN back on a lock that lost it. With `commonCodeKey` the code joins that linked group (Seam guarantees
    /// every code of a `common_code_key` the same PIN), so ``updateMultiple(commonCodeKey:name:startsAt:endsAt:)``
    /// keeps moving it with the others; without one it stands alone. Not idempotent: a second call with the same
    /// PIN on the same lock is refused as a duplicate.
    /// - Parameters:
    ///   - deviceID: The lock.
    ///   - name: The label (the reservation's identity).
    ///   - code: The PIN, 4–12 digits.
    ///   - startsAt: Start of validity.
    ///   - endsAt: End of validity; after `startsAt`.
    ///   - commonCodeKey: The linked group to join; default `nil` (none).
    ///   - useBackupAccessCodePool: Sends `use_backup_access_code_pool: true`; default false (not sent).
    /// - Returns: The created code (Seam also starts an action attempt, which is not awaited).
    /// - Throws: ``SeamError``.
    package func create(
        deviceID: String, name: String, code: String, startsAt: Date, endsAt: Date, commonCodeKey: String? = nil,
        useBackupAccessCodePool: Bool = false
    ) async throws(SeamError) -> AccessCode {
        let route = "/access_codes/create"
        try checkWindow(route, startsAt: startsAt, endsAt: endsAt)
        try checkPIN(route, code)
        let request = CreateRequest(
            deviceID: deviceID, name: name, code: code, startsAt: startsAt, endsAt: endsAt,
            commonCodeKey: commonCodeKey, useBackupAccessCodePool: useBackupAccessCodePool ? true : nil)
        return try await call(route, request, as: AccessCodeBody.self, pin: code).accessCode
    }

    /// Pulls a code from the lock's backup pool for a time-bound code created with
    /// `use_backup_access_code_pool` (`/access_codes/pull_backup_access_code`): it works at once, until the
    /// original code ends. Never log the backup code's PIN.
    /// - Parameter accessCodeID: The original code.
    /// - Returns: The original code and the backup code.
    /// - Throws: ``SeamError``.
    package func pullBackupAccessCode(accessCodeID: String) async throws(SeamError) -> (
        accessCode: AccessCode, backupAccessCode: AccessCode
    ) {
        let body = try await call(
            "/access_codes/pull_backup_access_code", AccessCodeIDRequest(accessCodeID: accessCodeID),
            as: PullBackupBody.self)
        return (body.accessCode, body.backupAccessCode)
    }

    /// Moves one code's window and optionally renames it (`/access_codes/update`, sent with `type: time_bound`).
    /// Used for a group member that was re-created alone (a repair) and so no longer carries the group's
    /// `common_code_key`. Idempotent. Seam's action attempt, if any, is not awaited.
    /// - Parameters:
    ///   - accessCodeID: The code.
    ///   - name: A new label; default `nil` (unchanged).
    ///   - startsAt: New start of validity.
    ///   - endsAt: New end of validity; after `startsAt`.
    /// - Throws: ``SeamError``.
    package func update(accessCodeID: String, name: String? = nil, startsAt: Date, endsAt: Date) async throws(SeamError)
    {
        let route = "/access_codes/update"
        try checkWindow(route, startsAt: startsAt, endsAt: endsAt)
        let request = UpdateRequest(accessCodeID: accessCodeID, name: name, startsAt: startsAt, endsAt: endsAt)
        _ = try await call(route, request, as: Empty.self)
    }

    /// Deletes one access code (`/access_codes/delete`). A code Seam no longer knows counts as done.
    /// - Parameter accessCodeID: The code.
    /// - Returns: ``DeleteOutcome/deleted(actionAttempt:)`` or ``DeleteOutcome/alreadyGone``.
    /// - Throws: ``SeamError`` for every other failure.
    package func delete(accessCodeID: String) async throws(SeamError) -> DeleteOutcome {
        do {
            let body = try await call(
                "/access_codes/delete", AccessCodeIDRequest(accessCodeID: accessCodeID), as: ActionAttemptBody.self)
            return .deleted(actionAttempt: body.actionAttempt)
        } catch  where error.isNotFound {
            return .alreadyGone
        }
    }

    /// Every access code on one device, following `page_cursor` to the last page (`/access_codes/list`).
    /// Codes of other devices in the answer, if a server sends any, are dropped.
    /// - Parameter deviceID: The lock.
    /// - Returns: The codes, in Seam's order.
    /// - Throws: ``SeamError``.
    package func list(deviceID: String) async throws(SeamError) -> [AccessCode] {
        let codes = try await listAll(
            "/access_codes/list", ListRequest(deviceID: deviceID), as: AccessCodesBody.self)
        return codes.filter { $0.deviceID == deviceID }
    }

    /// The codes named `name` on the given devices: how a group is found again after a crash between the
    /// durable intent and the recorded result of ``createMultiple(deviceIDs:name:startsAt:endsAt:preferredCodeLength:behaviorWhenCodeCannotBeShared:code:)``
    /// (DESIGN.md, "Crash safety at the Seam boundary"). Seam has no name filter, so each device is listed.
    /// - Parameters:
    ///   - name: The exact name given at creation.
    ///   - deviceIDs: The devices to look at.
    /// - Returns: The matching codes, device by device in the order given; empty when the group was never made.
    /// - Throws: ``SeamError``.
    package func findCodes(named name: String, onDevices deviceIDs: [String]) async throws(SeamError) -> [AccessCode] {
        var found: [AccessCode] = []
        for deviceID in deviceIDs {
            found += try await list(deviceID: deviceID).filter { $0.name == name }
        }
        return found
    }

    /// The access codes with the given ids that still exist, following `page_cursor` (`/access_codes/list`).
    /// - Parameter accessCodeIDs: The codes; an empty list returns an empty list without a call.
    /// - Returns: The codes Seam still knows; missing ids are simply absent.
    /// - Throws: ``SeamError``.
    package func list(accessCodeIDs: [String]) async throws(SeamError) -> [AccessCode] {
        guard !accessCodeIDs.isEmpty else { return [] }
        let wanted = Set(accessCodeIDs)
        let codes = try await listAll(
            "/access_codes/list", ListRequest(accessCodeIDs: accessCodeIDs), as: AccessCodesBody.self)
        return codes.filter { wanted.contains($0.accessCodeID) }
    }

    /// One access code (`/access_codes/get`).
    /// - Parameter accessCodeID: The code.
    /// - Returns: The code.
    /// - Throws: ``SeamError``; ``SeamError/isNotFound`` is true once Seam has removed it.
    package func get(accessCodeID: String) async throws(SeamError) -> AccessCode {
        try await call("/access_codes/get", AccessCodeIDRequest(accessCodeID: accessCodeID), as: AccessCodeBody.self)
            .accessCode
    }

    // MARK: - Devices and action attempts

    /// Every device in the workspace, following `page_cursor` (`/devices/list`).
    /// - Returns: The devices.
    /// - Throws: ``SeamError``.
    package func listDevices() async throws(SeamError) -> [Device] {
        try await listAll("/devices/list", ListRequest(), as: DevicesBody.self)
    }

    /// One device (`/devices/get`).
    /// - Parameter deviceID: The device.
    /// - Returns: The device.
    /// - Throws: ``SeamError``.
    package func getDevice(deviceID: String) async throws(SeamError) -> Device {
        try await call("/devices/get", DeviceIDRequest(deviceID: deviceID), as: DeviceBody.self).device
    }

    /// One action attempt (`/action_attempts/get`), e.g. to see whether a delete finished.
    /// - Parameter actionAttemptID: The attempt.
    /// - Returns: The attempt.
    /// - Throws: ``SeamError``.
    package func getActionAttempt(actionAttemptID: String) async throws(SeamError) -> ActionAttempt {
        let body = try await call(
            "/action_attempts/get", ActionAttemptIDRequest(actionAttemptID: actionAttemptID), as: ActionAttemptBody.self
        )
        guard let attempt = body.actionAttempt else {
            throw SeamError(
                kind: .undecodableResponse(detail: "no action_attempt"), route: "/action_attempts/get",
                message: "the response has no action_attempt")
        }
        return attempt
    }

    // MARK: - One exchange

    private func listAll<Body: ListPage>(
        _ route: String, _ filter: ListRequest, as: Body.Type
    ) async throws(SeamError) -> [Body.Item] {
        var request = filter
        request.limit = configuration.pageLimit
        var items: [Body.Item] = []
        var cursors: Set<String> = []
        var pages = 0
        while true {
            let page = try await call(route, request, as: Body.self)
            pages += 1
            items += page.items
            guard let pagination = page.pagination, pagination.hasNextPage,
                let cursor = pagination.nextPageCursor
            else { return items }
            guard pages < configuration.maxPages, cursors.insert(cursor).inserted else {
                throw SeamError(
                    kind: .paginationRunaway(pages: pages), route: route,
                    message: "stopped following page_cursor after \(pages) pages (a cursor repeated or "
                        + "SeamConfiguration.maxPages was reached)")
            }
            request.pageCursor = cursor
        }
    }

    /// One exchange. `pin`, when the request carries one, is masked in Seam's error messages before they are
    /// logged or thrown, in case Seam echoes it (e.g. in a duplicate-code message).
    private func call<Request: Encodable, Response: Decodable>(
        _ route: String, _ body: Request, as: Response.Type, pin: String? = nil
    ) async throws(SeamError) -> Response {
        let payload: Data
        do {
            payload = try SeamJSON.makeEncoder().encode(body)
        } catch {
            throw invalid(route, "the request body cannot be encoded: \(error)")
        }
        var headers = credentials.headers
        headers += [
            (name: "Content-Type", value: "application/json"),
            (name: "Accept", value: "application/json"),
            (name: "User-Agent", value: configuration.userAgent),
            (name: "seam-sdk-name", value: configuration.userAgent),
        ]
        let request = SeamHTTPRequest(
            method: "POST", url: configuration.endpoint.appendingPathComponent(route), headers: headers, body: payload)

        let started = ContinuousClock.now
        let response: SeamHTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            let failure = SeamError(kind: .transport(error), route: route, message: Self.describe(error))
            log(failure, status: nil, requestID: nil, elapsed: ContinuousClock.now - started)
            throw failure
        }
        let elapsed = ContinuousClock.now - started
        let requestID = response.header("seam-request-id")

        guard (200..<300).contains(response.status) else {
            var failure = SeamError(response: response, route: route, now: clock.now())
            if let pin { failure.mask(pin) }
            log(failure, status: response.status, requestID: failure.requestID, elapsed: elapsed)
            throw failure
        }
        do {
            let decoded = try SeamJSON.makeDecoder().decode(Response.self, from: response.body)
            logger.debug(
                "Seam call succeeded",
                metadata: Self.metadata(route: route, status: response.status, requestID: requestID, elapsed: elapsed))
            return decoded
        } catch {
            let failure = SeamError(
                kind: .undecodableResponse(detail: Self.describe(decoding: error)), route: route,
                message: "Seam answered \(response.status) with a body of an unexpected shape: "
                    + Self.describe(decoding: error),
                requestID: requestID)
            log(failure, status: response.status, requestID: requestID, elapsed: elapsed)
            throw failure
        }
    }

    private func log(_ failure: SeamError, status: Int?, requestID: String?, elapsed: Duration) {
        var metadata = Self.metadata(route: failure.route, status: status, requestID: requestID, elapsed: elapsed)
        metadata["seam.failure_class"] = "\(failure.failureClass.rawValue)"
        if let seamType = failure.seamType { metadata["seam.error_type"] = "\(seamType)" }
        metadata["error.message"] = "\(failure.message)"
        // A missing resource is an expected answer (a delete of a code already gone), not a failure worth info.
        logger.log(level: failure.isNotFound ? .debug : .info, "Seam call failed", metadata: metadata)
    }

    private static func metadata(route: String, status: Int?, requestID: String?, elapsed: Duration) -> Logger.Metadata
    {
        var metadata: Logger.Metadata = [
            "seam.route": "\(route)",
            "duration_ms": "\(String(format: "%.1f", elapsed.timeInterval * 1000))",
        ]
        if let status { metadata["http.status"] = "\(status)" }
        if let requestID { metadata["seam.request_id"] = "\(requestID)" }
        return metadata
    }

    private func invalid(_ route: String, _ detail: String) -> SeamError {
        SeamError(kind: .invalidRequest(detail: detail), route: route, message: detail)
    }

    private func checkWindow(_ route: String, startsAt: Date, endsAt: Date) throws(SeamError) {
        guard endsAt > startsAt else { throw invalid(route, "ends_at must be after starts_at") }
    }

    private func checkPIN(_ route: String, _ code: String) throws(SeamError) {
        guard (4...12).contains(code.count), code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw invalid(route, "code must be 4 to 12 digits")
        }
    }

    private static func describe(_ error: SeamTransportError) -> String {
        switch error {
        case .timedOut: "no answer within the timeout"
        case .connectionFailed(let reason): "connection failed: \(reason)"
        case .cancelled: "the call was cancelled"
        }
    }

    /// A decoding error's path and problem, without the offending value (which could be a PIN).
    private static func describe(decoding error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not JSON" }
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "the body" : path
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)): missing \(key.stringValue)"
        case .typeMismatch(_, let context): return "\(path(context)): wrong type"
        case .valueNotFound(_, let context): return "\(path(context)): null where a value is required"
        case .dataCorrupted(let context): return "\(path(context)): malformed"
        @unknown default: return "malformed"
        }
    }
}

/// A body with nothing Latchkey reads (`{"ok": true}`).
private struct Empty: Decodable {}

extension SeamError {
    /// Replaces every occurrence of `secret` in the message and validation errors with `••••`.
    mutating func mask(_ secret: String) {
        guard !secret.isEmpty else { return }
        message = message.replacingOccurrences(of: secret, with: "••••")
        validationErrors = validationErrors.map { $0.replacingOccurrences(of: secret, with: "••••") }
    }

    /// The error for a non-2xx answer: Seam's envelope when present, the status alone otherwise.
    package init(response: SeamHTTPResponse, route: String, now: Date) {
        let envelope = try? SeamJSON.makeDecoder().decode(SeamErrorEnvelope.self, from: response.body)
        let detail = envelope?.error
        let type = detail?.type ?? (response.status == 401 ? "unauthorized" : nil)
        let message =
            detail?.message
            ?? (response.status == 401
                ? "Seam refused the credentials: check SEAM_API_KEY (or the token and SEAM_WORKSPACE_ID)"
                : "HTTP \(response.status) without a Seam error body")
        self.init(
            kind: .http(status: response.status),
            route: route,
            seamType: type,
            message: message,
            requestID: response.header("seam-request-id") ?? detail?.requestID,
            validationErrors: detail?.validationErrors ?? [],
            retryAfter: response.header("retry-after").flatMap { RetryAfter.parse($0, now: now) }
        )
    }
}
