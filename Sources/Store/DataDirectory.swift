import SystemCalls

/// The files of a data directory:
///
/// ```
/// DIR/            0700
///   LOCK          0600  flock'd by the one writing process; holds its pid
///   snapshot      0600  live entries + unexpired claims, replaced atomically by compaction
///   journal/      0700
///     00000001.log 0600 append-only segments of CRC-framed transaction records
/// ```
struct DataDirectory: Sendable {
    /// The directory itself.
    let path: String

    /// The lock file.
    var lockPath: String { path + "/LOCK" }
    /// The snapshot file.
    var snapshotPath: String { path + "/snapshot" }
    /// The prefix of temporary snapshot files; leftovers are removed at open.
    static let snapshotTempPrefix = "snapshot.tmp."
    /// The journal directory.
    var journalPath: String { path + "/journal" }

    /// The path of segment `number`.
    /// - Parameter number: The segment's number (1, 2, …).
    func segmentPath(_ number: UInt64) -> String {
        let digits = String(number)
        return journalPath + "/" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".log"
    }

    /// The segment number a file name stands for, or nil if it is not a segment.
    /// - Parameter name: A file name in the journal directory.
    static func segmentNumber(fromName name: String) -> UInt64? {
        guard name.hasSuffix(".log"), name.count >= 12 else { return nil }
        let digits = name.dropLast(4)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }

    /// The segment numbers present, ascending. A missing journal directory counts as empty.
    func segmentNumbers() throws(StoreError) -> [UInt64] {
        let names: [String]
        do {
            names = try FileSystem.contentsOfDirectory(journalPath)
        } catch  where error.errno == .noSuchFileOrDirectory {
            return []
        } catch {
            throw StoreError(error)
        }
        return names.compactMap(Self.segmentNumber(fromName:)).sorted()
    }

    /// Creates a directory (and any missing parents) with mode 0700 unless it exists; tightens an existing one
    /// to 0700.
    /// - Parameter path: The directory.
    /// - Throws: ``StoreError/Code/notWritable`` when the path exists but is not a directory, or it cannot be
    ///   created; the mapped errno otherwise.
    static func makePrivateDirectory(_ path: String) throws(StoreError) {
        do {
            try FileSystem.makeDirectory(path, permissions: 0o700)
            return
        } catch  where error.errno == .noSuchFileOrDirectory {
            guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { throw StoreError(error) }
            try makePrivateDirectory(String(path[..<slash]))
            do {
                try FileSystem.makeDirectory(path, permissions: 0o700)
                return
            } catch  where error.errno == .fileExists {
                // made meanwhile: checked below
            } catch {
                throw StoreError(error)
            }
        } catch  where error.errno == .fileExists {
            // checked below
        } catch {
            throw StoreError(error)
        }
        let status = try StoreError.catching { () throws(SystemCallError) in try FileSystem.status(path) }
        guard status.isDirectory else {
            throw StoreError(
                .notWritable, "the data directory path exists but is not a directory; choose another path",
                path: path, errno: .notDirectory)
        }
        if status.permissions & 0o077 != 0 {
            try StoreError.catching { () throws(SystemCallError) in try FileSystem.setPermissions(path, 0o700) }
        }
    }
}
