import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Shows how far a replay has got: a bar redrawn in place on a terminal, plain lines otherwise.
package protocol ReplayProgress: Sendable {
    /// Called after each answer.
    /// - Parameters:
    ///   - done: Sends answered so far.
    ///   - total: Sends planned.
    ///   - report: The counts so far.
    func update(done: Int, total: Int, report: ReplayReport)
    /// Called once when sending is over.
    func finish(report: ReplayReport)
}

/// Writes progress to standard error: a `[#####-----]` bar when standard error is a terminal (`isatty`),
/// else one plain line about every 5 % of the sends.
package struct StandardErrorProgress: ReplayProgress {
    private let isTerminal: Bool

    /// Creates a reporter; `isTerminal` defaults to whether standard error is a terminal.
    package init(isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.isTerminal = isTerminal
    }

    /// Draws the bar or prints a line.
    package func update(done: Int, total: Int, report: ReplayReport) {
        if let text = Self.text(done: done, total: total, report: report, isTerminal: isTerminal) {
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    /// Ends the bar's line.
    package func finish(report: ReplayReport) {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// The text to write after an answer, or `nil` when nothing is due (plain mode prints every ~5 %).
    package static func text(done: Int, total: Int, report: ReplayReport, isTerminal: Bool) -> String? {
        let counts =
            "accepted \(report.accepted), duplicates \(report.duplicates), rejected \(report.rejectedTotal), errors \(report.transportErrors)"
        if isTerminal {
            let width = 30
            let filled = total == 0 ? width : width * done / total
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            return "\r[\(bar)] \(done)/\(total)  \(counts)\u{1B}[K"
        }
        let step = max(1, total / 20)
        guard done % step == 0 || done == total else { return nil }
        return "replay: \(done)/\(total) sent; \(counts)\n"
    }
}
