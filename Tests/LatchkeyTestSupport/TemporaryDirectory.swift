import Foundation

/// A fresh directory under the system's temporary directory, for one test; removed by ``remove()``.
///
/// Create it at the top of a test and pair it with `defer { directory.remove() }`.
package struct TemporaryDirectory: Sendable {
    /// The directory's path.
    package let path: String

    /// Creates a new, empty directory named `<prefix>-<UUID>`.
    /// - Parameter prefix: What the directory's name starts with, so a leftover one tells which test made it.
    package init(prefix: String = "latchkey-tests") {
        path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The directory's file URL.
    package var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    /// The path of `name` inside the directory (not created).
    /// - Parameter name: A file or directory name, or a relative path.
    /// - Returns: `path + "/" + name`.
    package func appending(_ name: String) -> String { path + "/" + name }

    /// Deletes the directory and everything in it.
    package func remove() { try? FileManager.default.removeItem(atPath: path) }
}
