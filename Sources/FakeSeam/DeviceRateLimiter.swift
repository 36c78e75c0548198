import Foundation

/// Seam's per-device limits (seam-api.md §7): 10 creates, 10 updates and 20 deletes per device in any
/// 60-second window of the fake's clock. `create_multiple` counts one create per device, `update_multiple`
/// one update per device of the group.
struct DeviceRateLimiter: Sendable {
    /// A limited operation.
    enum Operation: String, Sendable {
        case create, update, delete

        /// Calls allowed per device per window.
        var limit: Int {
            switch self {
            case .create, .update: 10
            case .delete: 20
            }
        }
    }

    /// The window, in seconds.
    static let window: TimeInterval = 60

    private var history: [String: [Date]] = [:]

    private func key(_ operation: Operation, _ deviceID: String) -> String { "\(operation.rawValue) \(deviceID)" }

    /// Checks that one more `operation` on each of `deviceIDs` fits, and if so records them all.
    /// - Throws: a 429 naming the first device over its limit, with `Retry-After` until a slot frees.
    mutating func admit(_ operation: Operation, deviceIDs: [String], now: Date) throws(SeamAPIError) {
        for deviceID in Set(deviceIDs) {
            let recent = history[key(operation, deviceID), default: []].filter {
                now.timeIntervalSince($0) < Self.window
            }
            history[key(operation, deviceID)] = recent
            if recent.count >= operation.limit, let oldest = recent.first {
                let wait = Int((oldest.addingTimeInterval(Self.window).timeIntervalSince(now)).rounded(.up))
                throw SeamAPIError.rateLimited(
                    "Too many \(operation.rawValue) requests for device \(deviceID): at most \(operation.limit) a minute; retry after \(max(1, wait)) s.",
                    retryAfterSeconds: wait
                )
            }
        }
        for deviceID in Set(deviceIDs) { history[key(operation, deviceID), default: []].append(now) }
    }
}
