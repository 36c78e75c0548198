/// Why a replay could not be prepared or run. Each message says what was wrong and what to do.
package struct ReplayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    package var message: String

    /// Creates an error.
    package init(_ message: String) {
        self.message = message
    }

    /// The message.
    package var description: String { message }

    static func unknownSource(_ name: String, scenario: String, known: [String]) -> ReplayError {
        ReplayError(
            "scenario \"\(scenario)\" posts to source \"\(name)\", which the Latchkey configuration does not have; "
                + "use one of \(known.joined(separator: ", ")) or add it under `sources:`")
    }
}
