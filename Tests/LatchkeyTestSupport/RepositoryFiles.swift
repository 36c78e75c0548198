import Foundation

/// Files of this repository that tests read (the example configuration, the OpenAPI documents, the scenarios),
/// found from this source file's place in the checkout.
package enum RepositoryFiles {
    /// The repository's root: the directory holding Package.swift.
    package static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/LatchkeyTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// The URL of a file below the root.
    /// - Parameter relativePath: A path relative to the root, such as `deploy/latchkey.example.yaml`.
    /// - Returns: Its file URL (which need not exist).
    package static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }

    /// The path of a file below the root.
    /// - Parameter relativePath: A path relative to the root, such as `deploy/latchkey.example.yaml`.
    /// - Returns: Its path (which need not exist).
    package static func path(_ relativePath: String) -> String { url(relativePath).path }
}
