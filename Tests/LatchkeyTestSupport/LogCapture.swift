import InMemoryLogging
import Logging

/// Collects every log record in memory (swift-log's `InMemoryLogHandler`), so a test can check what was, and was
/// not, logged.
package struct LogCapture: Sendable {
    private let handler: InMemoryLogHandler

    /// A logger at `trace` writing here.
    package let logger: Logger

    /// Creates an empty capture.
    /// - Parameter label: The logger's label.
    package init(label: String = "latchkey-tests") {
        var handler = InMemoryLogHandler()
        handler.logLevel = .trace
        self.handler = handler
        logger = Logger(label: label) { _ in handler }
    }

    /// Every record so far, with the logger's metadata merged into each.
    package var entries: [InMemoryLogHandler.Entry] { handler.entries }

    /// Every record so far as one line: `<level> <message> <key>=<value> ...`, keys sorted.
    package var messages: [String] {
        entries.map { entry in
            let fields = entry.metadata.keys.sorted().map { "\($0)=\(entry.metadata[$0]!)" }
            return "\(entry.level) \(entry.message) \(fields.joined(separator: " "))"
        }
    }

    /// ``messages`` joined with newlines.
    package var text: String { messages.joined(separator: "\n") }
}

/// A logger that drops everything, for code under test that wants one.
package let quietLogger = Logger(label: "latchkey-tests") { _ in SwiftLogNoOpLogHandler() }
