import Glibc

/// The path-based calls (the ones that take no descriptor): rename, unlink, mkdir, stat, statvfs, directory
/// listings, mappings. Each follows ``SystemCall``'s errno policy and names its path in errors.
package enum FileSystem {
    /// What `stat` tells about a path.
    package struct Status: Sendable {
        /// The size in bytes.
        package var size: Int
        /// Whether it is a directory.
        package var isDirectory: Bool
        /// The permission bits (`st_mode & 0o7777`).
        package var permissions: mode_t
    }

    /// Facts about the file at `path`. The corresponding C function is `stat`.
    /// - Parameter path: The file.
    /// - Returns: Its size, type and permissions.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package static func status(_ path: String) throws(SystemCallError) -> Status {
        var info = stat()
        _ = try SystemCall.retrying("stat", path: path) { stat(path, &info) }
        return Status(
            size: Int(info.st_size), isDirectory: info.st_mode & S_IFMT == S_IFDIR, permissions: info.st_mode & 0o7777)
    }

    /// Whether anything exists at `path`. The corresponding C function is `access`.
    /// - Parameter path: The path.
    package static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates a directory. The corresponding C function is `mkdir`.
    /// - Parameters:
    ///   - path: The directory.
    ///   - permissions: Its permission bits.
    /// - Throws: ``SystemCallError`` carrying `path` (`EEXIST` when it exists, `ENOENT` when a parent is missing).
    package static func makeDirectory(_ path: String, permissions: mode_t) throws(SystemCallError) {
        _ = try SystemCall.retrying("mkdir", path: path) { mkdir(path, permissions) }
    }

    /// Changes a path's permission bits. The corresponding C function is `chmod`.
    /// - Parameters:
    ///   - path: The file or directory.
    ///   - permissions: The new bits.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package static func setPermissions(_ path: String, _ permissions: mode_t) throws(SystemCallError) {
        _ = try SystemCall.retrying("chmod", path: path) { chmod(path, permissions) }
    }

    /// Renames a file within one file system, replacing `destination` atomically if it exists. The
    /// corresponding C function is `rename`.
    /// - Parameters:
    ///   - source: The current path.
    ///   - destination: The new path (named in errors).
    /// - Throws: ``SystemCallError`` carrying `destination`.
    package static func rename(_ source: String, to destination: String) throws(SystemCallError) {
        _ = try SystemCall.retrying("rename", path: destination) { Glibc.rename(source, destination) }
    }

    /// Removes a file; one that is already gone counts as removed. The corresponding C function is `unlink`.
    /// - Parameter path: The file.
    /// - Throws: ``SystemCallError`` carrying `path`, for any errno but `ENOENT`.
    package static func remove(_ path: String) throws(SystemCallError) {
        do {
            _ = try SystemCall.retrying("unlink", path: path) { unlink(path) }
        } catch  where error.errno == .noSuchFileOrDirectory {
            return
        }
    }

    /// Makes a directory's entries (created, renamed, removed files) durable: `open(O_DIRECTORY)` + `fsync`.
    /// - Parameter path: The directory.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package static func synchronizeDirectory(_ path: String) throws(SystemCallError) {
        let directory = try FileDescriptor.open(path, .readOnly, options: .directory)
        defer { directory.close() }
        try directory.synchronize(path: path)
    }

    /// The names in a directory, without `.` and `..`. The corresponding C function is `readdir`.
    /// - Parameter path: The directory.
    /// - Returns: The names, in the order the file system lists them.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package static func contentsOfDirectory(_ path: String) throws(SystemCallError) -> [String] {
        guard let directory = opendir(path) else {
            throw SystemCallError(call: "opendir", errno: .current, path: path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            // readdir returns nil both at the end and on failure; only errno tells them apart. A listing cut
            // short must not pass for a whole one (recovery would miss journal segments).
            errno = 0
            guard let entry = readdir(directory) else {
                let failure = Errno.current
                if failure.rawValue != 0 { throw SystemCallError(call: "readdir", errno: failure, path: path) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// Bytes available to unprivileged users on the file system holding `path`. The corresponding C function is
    /// `statvfs`.
    /// - Parameter path: Any path on the file system.
    /// - Returns: `f_bavail × f_frsize`.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package static func availableBytes(_ path: String) throws(SystemCallError) -> Int {
        var info = statvfs()
        _ = try SystemCall.retrying("statvfs", path: path) { statvfs(path, &info) }
        return Int(info.f_bavail) &* Int(info.f_frsize)
    }

    /// Maps a whole file read-only and hands its bytes to `body`; an empty file gives an empty buffer. The
    /// corresponding C function is `mmap`.
    /// - Parameters:
    ///   - path: The file.
    ///   - body: Reads the bytes; they are valid only during the call.
    /// - Returns: What `body` returns.
    /// - Throws: ``SystemCallError`` carrying `path` when the file cannot be opened or mapped; what `body`
    ///   throws, converted by `mapError`.
    package static func withMappedFile<Result, Failure: Error>(
        _ path: String, mapError: (SystemCallError) -> Failure,
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let file: FileDescriptor
        let size: Int
        do {
            file = try FileDescriptor.open(path, .readOnly)
        } catch {
            throw mapError(error)
        }
        defer { file.close() }
        do {
            size = try file.size(path: path)
        } catch {
            throw mapError(error)
        }
        if size == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, file.rawValue, 0), base != MAP_FAILED else {
            throw mapError(SystemCallError(call: "mmap", errno: .current, path: path))
        }
        defer { munmap(base, size) }
        _ = madvise(base, size, MADV_SEQUENTIAL)
        return try body(UnsafeRawBufferPointer(start: base, count: size))
    }
}
