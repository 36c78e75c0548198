/// The UTF-8 bytes of `text`.
/// - Parameter text: The text.
/// - Returns: Its bytes, as the HTTP layer and the journal carry them.
package func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
