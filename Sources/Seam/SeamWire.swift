import Foundation

// The request and response bodies of the routes Latchkey calls, in Seam's wire shapes (seam-api.md §3).
// `package` so the tests and the fake can build and read them; the client's public API takes plain arguments.

/// `POST /access_codes/create_multiple`.
package struct CreateMultipleRequest: Codable, Equatable, Sendable {
    var deviceIDs: [String]
    var name: String
    var startsAt: Date
    var endsAt: Date
    var preferredCodeLength: Int?
    var behaviorWhenCodeCannotBeShared: CodeSharingBehavior
    var code: String?
    /// `use_backup_access_code_pool`; `nil` leaves it out.
    var useBackupAccessCodePool: Bool?

    enum CodingKeys: String, CodingKey {
        case deviceIDs = "device_ids"
        case name
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case preferredCodeLength = "preferred_code_length"
        case behaviorWhenCodeCannotBeShared = "behavior_when_code_cannot_be_shared"
        case code
        case useBackupAccessCodePool = "use_backup_access_code_pool"
    }
}

/// `POST /access_codes/update_multiple`.
package struct UpdateMultipleRequest: Codable, Equatable, Sendable {
    var commonCodeKey: String
    var name: String?
    var startsAt: Date
    var endsAt: Date

    enum CodingKeys: String, CodingKey {
        case commonCodeKey = "common_code_key"
        case name
        case startsAt = "starts_at"
        case endsAt = "ends_at"
    }
}

/// `POST /access_codes/create`: one time-bound code with a custom PIN.
package struct CreateRequest: Codable, Equatable, Sendable {
    var deviceID: String
    var name: String
    var code: String
    var startsAt: Date
    var endsAt: Date
    /// The group to join; `nil` leaves the member out (it is then not sent).
    var commonCodeKey: String?
    /// `use_backup_access_code_pool`; `nil` leaves it out.
    var useBackupAccessCodePool: Bool?

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id"
        case name, code
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case commonCodeKey = "common_code_key"
        case useBackupAccessCodePool = "use_backup_access_code_pool"
    }
}

/// `POST /access_codes/update`: one time-bound code's window and name.
package struct UpdateRequest: Codable, Equatable, Sendable {
    var accessCodeID: String
    var name: String?
    var startsAt: Date
    var endsAt: Date
    var type = AccessCodeType.timeBound

    enum CodingKeys: String, CodingKey {
        case accessCodeID = "access_code_id"
        case name
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case type
    }
}

/// `POST /access_codes/delete` and `/access_codes/get`.
package struct AccessCodeIDRequest: Codable, Equatable, Sendable {
    var accessCodeID: String
    enum CodingKeys: String, CodingKey { case accessCodeID = "access_code_id" }
}

/// `POST /devices/get`.
package struct DeviceIDRequest: Codable, Equatable, Sendable {
    var deviceID: String
    enum CodingKeys: String, CodingKey { case deviceID = "device_id" }
}

/// `POST /action_attempts/get`.
package struct ActionAttemptIDRequest: Codable, Equatable, Sendable {
    var actionAttemptID: String
    enum CodingKeys: String, CodingKey { case actionAttemptID = "action_attempt_id" }
}

/// `POST /access_codes/list` and `/devices/list`: a filter plus the page cursor.
package struct ListRequest: Codable, Equatable, Sendable {
    var deviceID: String?
    var accessCodeIDs: [String]?
    var limit: Int?
    var pageCursor: String?

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id"
        case accessCodeIDs = "access_code_ids"
        case limit
        case pageCursor = "page_cursor"
    }
}

/// A list response: items plus the optional `pagination` object.
protocol ListPage: Decodable {
    associatedtype Item
    var items: [Item] { get }
    var pagination: Pagination? { get }
}

/// `{"access_code": {...}}`.
/// The answer of `/access_codes/pull_backup_access_code`.
struct PullBackupBody: Decodable {
    var accessCode: AccessCode
    var backupAccessCode: AccessCode
    enum CodingKeys: String, CodingKey {
        case accessCode = "access_code"
        case backupAccessCode = "backup_access_code"
    }
}

struct AccessCodeBody: Decodable {
    var accessCode: AccessCode
    enum CodingKeys: String, CodingKey { case accessCode = "access_code" }
}

/// `{"access_codes": [...], "pagination"?: {...}}` (create_multiple and list).
struct AccessCodesBody: ListPage {
    var items: [AccessCode]
    var pagination: Pagination?
    enum CodingKeys: String, CodingKey {
        case items = "access_codes"
        case pagination
    }
}

/// `{"devices": [...], "pagination"?: {...}}`.
struct DevicesBody: ListPage {
    var items: [Device]
    var pagination: Pagination?
    enum CodingKeys: String, CodingKey {
        case items = "devices"
        case pagination
    }
}

/// `{"device": {...}}`.
struct DeviceBody: Decodable {
    var device: Device
}

/// `{"action_attempt": {...}}`; optional because some servers (the public fake) omit it.
struct ActionAttemptBody: Decodable {
    var actionAttempt: ActionAttempt?
    enum CodingKeys: String, CodingKey { case actionAttempt = "action_attempt" }
}

/// Seam's JSON conventions: ISO 8601 dates (fractional seconds accepted, any precision; written only when
/// not whole), snake_case keys spelled out in each type's `CodingKeys`, unknown fields ignored.
package enum SeamJSON {
    /// An encoder for request bodies (sorted keys so bodies are byte-stable in tests).
    package static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTimestamp(date))
        }
        return encoder
    }

    /// A decoder for response bodies.
    package static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "not an ISO 8601 date-time: \(text)")
            }
            return date
        }
        return decoder
    }

    /// `2026-12-01T15:00:00Z`, or `2026-12-01T15:00:00.250Z` when the instant has a fraction of a second.
    package static func formatTimestamp(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down) == date.timeIntervalSince1970
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: !whole)
        return style.format(date)
    }

    /// Parses an ISO 8601 date-time with or without a fraction of any length (Seam sends microseconds,
    /// `2025-06-14T16:54:17.946242Z`) and with `Z` or a numeric offset.
    package static func parseTimestamp(_ text: String) -> Date? {
        // Keep at most three fractional digits: Foundation's parser is exact to milliseconds.
        var text = Substring(text)
        if let dot = text.firstIndex(of: ".") {
            let digitsEnd = text[text.index(after: dot)...].firstIndex(where: { !$0.isNumber }) ?? text.endIndex
            let digits = text[text.index(after: dot)..<digitsEnd]
            if digits.count > 3 {
                text = text[..<text.index(dot, offsetBy: 4)] + text[digitsEnd...]
            }
        }
        let value = String(text)
        return (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(value))
            ?? (try? Date.ISO8601FormatStyle().parse(value))
    }
}
