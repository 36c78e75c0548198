import Foundation

/// An instant written in ISO 8601 with a zone (`2026-06-01T00:00:00Z`), parsed independently of the code under test.
/// - Parameter text: The instant.
/// - Returns: The date. A malformed one stops the run: it is a mistake in the test, not in the code.
package func utc(_ text: String) -> Date {
    guard let date = try? Date(text, strategy: .iso8601) else { fatalError("bad test date \(text)") }
    return date
}
