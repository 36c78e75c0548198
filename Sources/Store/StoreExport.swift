import Foundation
import SystemCalls

/// Everything a store holds that another backend needs to take over: every entry and every unexpired idempotency
/// claim (`latchkey store export`, then `latchkey store import` into PostgreSQL).
///
/// The file is text, one record a line, so it survives any copy:
/// ```
/// latchkey-store-export 1
/// E <key, base64> <value, base64>
/// C <key digest, 32 hex digits> <expires at, Unix seconds> <response, base64>
/// end <entries> <claims>
/// ```
/// A file without its `end` line, or whose counts differ, is refused as incomplete.
package struct StoreExport: Sendable, Equatable {
    /// A key and its value.
    package struct Entry: Sendable, Equatable {
        /// The key, e.g. `booking/guesty/123`.
        package var key: String
        /// The value.
        package var value: [UInt8]

        /// Creates an entry.
        package init(key: String, value: [UInt8]) {
            self.key = key
            self.value = value
        }
    }

    /// An idempotency claim as the journal keeps it: the key's digest, not the key.
    package struct Claim: Sendable, Equatable {
        /// The first 16 bytes of SHA-256 over the key (``KeyDigest``).
        package var digest: [UInt8]
        /// When the claim lapses, in seconds since the Unix epoch.
        package var expiresAt: Int64
        /// The answer for repeats.
        package var response: [UInt8]

        /// Creates a claim.
        package init(digest: [UInt8], expiresAt: Int64, response: [UInt8]) {
            self.digest = digest
            self.expiresAt = expiresAt
            self.response = response
        }
    }

    /// Every entry, sorted by key.
    package var entries: [Entry]
    /// Every unexpired claim, sorted by digest.
    package var claims: [Claim]

    /// Creates an export.
    package init(entries: [Entry], claims: [Claim]) {
        self.entries = entries
        self.claims = claims
    }

    private static let header = "latchkey-store-export 1"

    /// Reads a data directory's committed entries and unexpired claims without its lock and without changing a file
    /// (like ``Store/readOnlySnapshot(at:configuration:)``): safe on a running instance, but what it commits later is
    /// not in the export, so stop it first when moving (or export again after stopping it, and import again).
    /// - Parameters:
    ///   - directory: The data directory.
    ///   - configuration: For the maximum record size and the clock; default configuration.
    /// - Throws: ``StoreError`` when the directory is missing, unreadable or damaged.
    package static func read(
        dataDirectory directory: String, configuration: StoreConfiguration = StoreConfiguration()
    ) throws(StoreError) -> StoreExport {
        let dir = DataDirectory(path: directory)
        guard FileSystem.exists(dir.path) else {
            throw StoreError(
                .io, "the data directory does not exist; check the path", path: dir.path, errno: .noSuchFileOrDirectory)
        }
        let now = configuration.clock()
        let recovered = try Recovery.load(dir, now: now, maxPayload: configuration.maxRecordBytes)
        if let damaged = recovered.middleDamage, let damage = damaged.damage {
            throw StoreError.corruptJournal(path: damaged.path, damage: damage)
        }
        let state = recovered.state
        let entries = state.entries.map { Entry(key: $0.key, value: $0.value) }.sorted { $0.key < $1.key }
        let claims = state.claims.compactMap { digest, slot -> Claim? in
            guard Int64(slot.expiresAt) > now else { return nil }
            return Claim(
                digest: digest.bytes, expiresAt: Int64(slot.expiresAt), response: Array(state.arena.bytes(of: slot)))
        }
        return StoreExport(entries: entries, claims: claims.sorted { $0.digest.lexicographicallyPrecedes($1.digest) })
    }

    /// Writes the export to `path` (a temporary file, synced, then renamed into place).
    /// - Throws: ``StoreError`` when the file cannot be written.
    package func write(to path: String) throws(StoreError) {
        var text = Self.header + "\n"
        for entry in entries {
            text += "E \(Data(entry.key.utf8).base64EncodedString()) \(Data(entry.value).base64EncodedString())\n"
        }
        for claim in claims {
            text += "C \(claim.digest.map { String(format: "%02x", $0) }.joined()) \(claim.expiresAt) "
            text += Data(claim.response).base64EncodedString() + "\n"
        }
        text += "end \(entries.count) \(claims.count)\n"
        let temporary = path + ".tmp"
        try StoreError.catching(path: path) { () throws(SystemCallError) in
            let fd = try FileDescriptor.open(temporary, .writeOnly, options: [.create, .truncate])
            do throws(SystemCallError) {
                try fd.writeAll(Array(text.utf8), atOffset: 0, path: temporary)
                try fd.synchronize(path: temporary)
            } catch {
                fd.close()
                throw error
            }
            fd.close()
            try FileSystem.rename(temporary, to: path)
        }
    }

    /// Reads a file written by ``write(to:)``.
    /// - Throws: ``StoreError/Code/io`` when it cannot be read, and ``StoreError/Code/corruptSnapshot`` naming the
    ///   line when it is not an export or is incomplete.
    package static func load(from path: String) throws(StoreError) -> StoreExport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(.io, "cannot read the export file; check the path", path: path)
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        func bad(_ line: Int, _ problem: String) -> StoreError {
            StoreError(
                .corruptSnapshot, "line \(line + 1): \(problem); export the data directory again", path: path)
        }
        guard lines.first.map(String.init) == header else {
            throw bad(0, "not a Latchkey store export (expected \"\(header)\")")
        }
        var export = StoreExport(entries: [], claims: [])
        for (index, line) in lines.enumerated().dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            switch fields.first {
            case "E" where fields.count == 3:
                guard let key = Data(base64Encoded: String(fields[1])),
                    let value = Data(base64Encoded: String(fields[2]))
                else { throw bad(index, "an entry's base64 does not decode") }
                export.entries.append(Entry(key: String(decoding: key, as: UTF8.self), value: [UInt8](value)))
            case "C" where fields.count == 4:
                let hex = Array(fields[1].utf8)
                guard hex.count == 32, let expiresAt = Int64(fields[2]),
                    let response = Data(base64Encoded: String(fields[3]))
                else { throw bad(index, "a claim is malformed") }
                var digest: [UInt8] = []
                for i in stride(from: 0, to: 32, by: 2) {
                    guard let byte = UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) else {
                        throw bad(index, "a claim's digest is not hex")
                    }
                    digest.append(byte)
                }
                export.claims.append(Claim(digest: digest, expiresAt: expiresAt, response: [UInt8](response)))
            case "end" where fields.count == 3:
                guard Int(fields[1]) == export.entries.count, Int(fields[2]) == export.claims.count else {
                    throw bad(index, "the counts on the end line do not match the records: the file is incomplete")
                }
                return export
            default:
                throw bad(index, "unexpected line")
            }
        }
        throw bad(lines.count - 1, "no end line: the file is incomplete")
    }
}
