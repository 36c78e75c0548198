import Foundation

/// A case-insensitive header lookup over `pairs`, as the HTTP layer provides it.
func lookup(_ pairs: [String: String]) -> (String) -> String? {
    let lowered = Dictionary(uniqueKeysWithValues: pairs.map { ($0.key.lowercased(), $0.value) })
    return { lowered[$0.lowercased()] }
}

/// A Unix-seconds date.
func unix(_ seconds: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
