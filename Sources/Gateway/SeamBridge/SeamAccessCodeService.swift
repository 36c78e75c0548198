import Bookings
import Foundation
import Observability
import Reconciler
import Seam
import Synchronization

/// The reconciler's view of Seam (``AccessCodeService``), made of the real Seam client and its circuit breaker.
///
/// Retrying happens in one layer only, the reconciler's durable outbox: this bridge makes one attempt per call,
/// classifies its failure, and refuses at once (as retryable, with the time to come back) while the breaker is open.
struct SeamAccessCodeService: AccessCodeService {
    let client: SeamClient
    let breaker: CircuitBreaker
    let metrics: Metrics
    /// Where code-changing calls are noted for the console, or nil.
    var activity: SeamActivity? = nil
    /// Which locks offer a backup code pool (`properties.supports_backup_access_code_pool`), asked once per lock.
    let backupPool = BackupPoolSupport()
    /// On a store shared by instances: asked right before each code-changing call, throws when this instance no
    /// longer holds the work lease (so an instance that lost it never sends another change to Seam); nil otherwise.
    var confirmWorkLease: (@Sendable () async throws -> Void)? = nil

    func createMultiple(
        deviceIDs: [String], name: String, startsAt: Date, endsAt: Date, preferredCodeLength: Int,
        behavior: Property.CodeSharingBehavior
    ) async throws -> [CreatedCode] {
        let pool = try await supportsBackupPool(deviceIDs)
        let codes = try await call("/access_codes/create_multiple", about: Subject(name: name)) {
            () async throws(SeamError) in
            try await client.createMultiple(
                deviceIDs: deviceIDs, name: name, startsAt: startsAt, endsAt: endsAt,
                preferredCodeLength: preferredCodeLength,
                behaviorWhenCodeCannotBeShared: behavior == .throw ? .throw : .createRandomCode,
                useBackupAccessCodePool: pool)
        }
        return codes.map {
            CreatedCode(
                accessCodeID: $0.accessCodeID, deviceID: $0.deviceID, code: $0.code.map(AccessPIN.init),
                commonCodeKey: $0.commonCodeKey)
        }
    }

    func createSingle(
        deviceID: String, name: String, code: AccessPIN, commonCodeKey: String?, startsAt: Date, endsAt: Date
    ) async throws -> CreatedCode {
        let pool = try await supportsBackupPool([deviceID])
        let created = try await call("/access_codes/create", about: Subject(name: name, commonCodeKey: commonCodeKey)) {
            () async throws(SeamError) in
            try await client.create(
                deviceID: deviceID, name: name, code: code.digits, startsAt: startsAt, endsAt: endsAt,
                commonCodeKey: commonCodeKey, useBackupAccessCodePool: pool)
        }
        return CreatedCode(
            accessCodeID: created.accessCodeID, deviceID: created.deviceID, code: created.code.map(AccessPIN.init),
            commonCodeKey: created.commonCodeKey)
    }

    func updateMultiple(commonCodeKey: String, name: String, startsAt: Date, endsAt: Date) async throws {
        try await call("/access_codes/update_multiple", about: Subject(name: name, commonCodeKey: commonCodeKey)) {
            () async throws(SeamError) in
            try await client.updateMultiple(
                commonCodeKey: commonCodeKey, name: name, startsAt: startsAt, endsAt: endsAt)
        }
    }

    func updateSingle(accessCodeID: String, name: String, startsAt: Date, endsAt: Date) async throws {
        try await call("/access_codes/update", about: Subject(name: name, accessCodeIDs: [accessCodeID])) {
            () async throws(SeamError) in
            try await client.update(accessCodeID: accessCodeID, name: name, startsAt: startsAt, endsAt: endsAt)
        }
    }

    func delete(accessCodeID: String) async throws {
        _ = try await call("/access_codes/delete", about: Subject(accessCodeIDs: [accessCodeID])) {
            () async throws(SeamError) in
            try await client.delete(accessCodeID: accessCodeID)
        }
    }

    func listCodes(deviceID: String) async throws -> [ExistingCode] {
        let codes = try await call("/access_codes/list") { () async throws(SeamError) in
            try await client.list(deviceID: deviceID)
        }
        return codes.map { code in
            ExistingCode(
                accessCodeID: code.accessCodeID, deviceID: code.deviceID, name: code.name,
                code: code.code.map(AccessPIN.init),
                commonCodeKey: code.commonCodeKey, startsAt: code.startsAt, endsAt: code.endsAt,
                status: ExistingCode.Status(rawValue: code.status.rawValue) ?? .unknown,
                errors: code.errors.map(\.code), isScheduledOnDevice: code.isScheduledOnDevice,
                isBackupAccessCodeAvailable: code.isBackupAccessCodeAvailable,
                pulledBackupAccessCodeID: code.pulledBackupAccessCodeID)
        }
    }

    func pullBackupCode(accessCodeID: String) async throws -> BackupAccessCode {
        let pulled = try await call(
            "/access_codes/pull_backup_access_code", about: Subject(accessCodeIDs: [accessCodeID])
        ) { () async throws(SeamError) in
            try await client.pullBackupAccessCode(accessCodeID: accessCodeID)
        }
        let backup = pulled.backupAccessCode
        return BackupAccessCode(
            accessCodeID: backup.accessCodeID, deviceID: backup.deviceID, code: backup.code.map(AccessPIN.init),
            startsAt: backup.startsAt, endsAt: backup.endsAt)
    }

    /// What a code-changing call is about, for ``SeamActivity``.
    private struct Subject {
        var name: String? = nil
        var accessCodeIDs: [String] = []
        var commonCodeKey: String? = nil
    }

    /// One attempt through the breaker, timed and counted, with the failure classified for the outbox; a call
    /// `about` a reservation's codes is noted in ``activity``.
    private func call<Value: Sendable>(
        _ route: String, about subject: Subject? = nil, _ body: () async throws(SeamError) -> Value
    ) async throws -> Value {
        if subject != nil, let confirmWorkLease { try await confirmWorkLease() }
        do {
            let value = try await attempt(route, body)
            note(route, subject, failure: nil)
            return value
        } catch {
            note(route, subject, failure: "\(error)")
            throw error
        }
    }

    private func note(_ route: String, _ subject: Subject?, failure: String?) {
        guard let activity, let subject else { return }
        activity.record(
            SeamActivity.Entry(
                at: Date(), route: route, succeeded: failure == nil, message: failure, name: subject.name,
                accessCodeIDs: subject.accessCodeIDs, commonCodeKey: subject.commonCodeKey))
    }

    private func attempt<Value: Sendable>(_ route: String, _ body: () async throws(SeamError) -> Value) async throws
        -> Value
    {
        let permission = breaker.permission()
        if case .rejected(let until) = permission {
            metrics.recordSeamCall(route: route, outcome: .circuitOpen, seconds: 0)
            // While the one probe is out, its answer decides soon: come back in a second, not at its deadline.
            let wait = breaker.state == .halfOpen(probeInFlight: true) ? 1 : max(1, until.timeIntervalSinceNow)
            throw AccessCodeServiceError.notCalled(
                message: "Seam looks down (circuit open); not calling", retryAfter: wait)
        }
        let started = ContinuousClock.now
        do {
            let value = try await body()
            breaker.record(nil)
            metrics.recordSeamCall(
                route: route, outcome: .success, seconds: (ContinuousClock.now - started).timeInterval)
            return value
        } catch {
            if error.httpStatus == 429 {
                // A per-device rate limit says nothing about Seam being down: it must not open the breaker
                // (that would stall every lock). A probe that met it goes back unanswered.
                if case .probe = permission { breaker.returnProbe() }
            } else {
                breaker.record(error.failureClass)
            }
            metrics.recordSeamCall(
                route: route, outcome: Self.outcome(of: error), seconds: (ContinuousClock.now - started).timeInterval)
            switch error.failureClass {
            case .retryable:
                throw AccessCodeServiceError.retryable(
                    message: error.description, retryAfter: error.retryAfter?.timeInterval)
            case .unauthorized:
                // Every call fails until the key is fixed: keep the work pending (slowly) instead of
                // dead-lettering it, so fixing the key and restarting converges without manual retries.
                // `notCalled` does not use up the work's attempts: nothing about the work itself failed.
                throw AccessCodeServiceError.notCalled(
                    message: "Seam refused the API key (\(error.description)); fix SEAM_API_KEY / seam.api_key",
                    retryAfter: 60)
            case .permanent:
                throw AccessCodeServiceError.permanent(message: error.description)
            }
        }
    }
}

extension SeamAccessCodeService {
    /// The metrics label of a failed call.
    static func outcome(of error: SeamError) -> SeamCallOutcome {
        switch error.kind {
        case .http(let status) where status == 429: .rateLimited
        case .http(let status) where status >= 500: .serverError
        case .http: .clientError
        case .transport(.timedOut): .timeout
        case .transport: .transportError
        case .undecodableResponse, .invalidRequest, .paginationRunaway: .clientError
        }
    }
}

/// Seam's per-device limits as the reconciler's pacer.
struct DeviceLimiterPacer: SeamPacer {
    let limiter: DeviceRateLimiter

    func permission(for operation: SeamOperationKind, deviceID: String, at now: Date) async -> Date? {
        let kind: DeviceRateLimiter.Operation? =
            switch operation {
            case .create: .create
            case .update: .update
            case .delete: .delete
            case .list: nil
            }
        guard let kind else { return nil }  // Seam does not pace reads.
        switch limiter.acquire(kind, deviceIDs: [deviceID]) {
        case .granted: return nil
        case .notBefore(let date): return date
        }
    }
}

/// Which locks offer a backup access code pool, as Seam said (`properties.supports_backup_access_code_pool`).
final class BackupPoolSupport: Sendable {
    private let known = Mutex<[String: Bool]>([:])

    /// What Seam said about `deviceID`, or `nil` when not asked yet.
    func supports(_ deviceID: String) -> Bool? { known.withLock { $0[deviceID] } }

    /// Remembers what Seam said about `deviceID`.
    func remember(_ supported: Bool, for deviceID: String) { known.withLock { $0[deviceID] = supported } }
}

extension SeamAccessCodeService {
    /// Whether every one of `deviceIDs` offers a backup pool, so codes are created with
    /// `use_backup_access_code_pool: true`. Each lock is asked once (`/devices/get`, through the breaker).
    /// - Throws: The failure of `/devices/get`, classified: the create waits (and is retried) until Seam answers,
    ///   so no code is made without the pool its lock offers.
    func supportsBackupPool(_ deviceIDs: [String]) async throws -> Bool {
        for device in deviceIDs {
            if let supported = backupPool.supports(device) {
                guard supported else { return false }
                continue
            }
            let answer = try await call("/devices/get") { () async throws(SeamError) in
                try await client.getDevice(deviceID: device)
            }
            let supported = answer.properties.supportsBackupAccessCodePool ?? false
            backupPool.remember(supported, for: device)
            guard supported else { return false }
        }
        return !deviceIDs.isEmpty
    }
}
