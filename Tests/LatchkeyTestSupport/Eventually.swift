import Testing

/// Polls until `condition` holds, for work that finishes on other tasks or threads; records an issue naming `what`
/// and throws when it never does.
///
/// The budget is a number of polls rather than a deadline, so a loaded machine stretches it instead of failing.
/// - Parameters:
///   - what: What the test waits for, as the failure should read ("timed out waiting for <what>").
///   - attempts: How many times `condition` is checked; 2,000 (about two seconds at the default interval).
///   - interval: The pause between checks; 1 ms.
///   - sourceLocation: Where the failure is reported: the caller.
///   - condition: The condition.
/// - Throws: `CancellationError` when the polls run out, ending the test.
package func eventually(
    _ what: String, attempts: Int = 2000, interval: Duration = .milliseconds(1),
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool
) async throws {
    for _ in 0..<attempts {
        if await condition() { return }
        try await Task.sleep(for: interval)
    }
    Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}
