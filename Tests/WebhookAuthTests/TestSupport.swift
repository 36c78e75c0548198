import Foundation

/// A case-insensitive header lookup over `pairs`, as the HTTP layer provides it.
func lookup(_ pairs: [String: String]) -> (String) -> String? {
    let lowered = Dictionary(uniqueKeysWithValues: pairs.map { ($0.key.lowercased(), $0.value) })
    return { lowered[$0.lowercased()] }
}

/// The UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A Unix-seconds date.
func unix(_ seconds: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
