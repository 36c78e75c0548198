import Glibc

/// Thin errno-handling wrappers over the few system calls the store makes. Each retries on `EINTR`
/// and turns any other failure into a ``StoreError`` naming the call and the path.
enum Posix {
    /// Opens (and maybe creates) a file. The corresponding C function is `open`.
    /// - Parameters:
    ///   - path: The file.
    ///   - flags: `O_*` flags; `O_CLOEXEC` is always added.
    ///   - mode: Permissions for a created file. Default 0600.
    /// - Returns: The file descriptor.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(StoreError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            let e = Glibc.errno
            if e != EINTR { throw StoreError.system("open", path: path, errno: e) }
        }
    }

    /// Writes all of `bytes` at `offset`, looping on short writes. The corresponding C function is `pwrite`.
    /// - Parameters:
    ///   - fd: An open file descriptor.
    ///   - bytes: What to write.
    ///   - offset: Where in the file.
    ///   - path: The file's path, for errors.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String) throws(StoreError)
    {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n > 0 {
                done += n
            } else if n < 0 && Glibc.errno == EINTR {
                continue
            } else {
                throw StoreError.system("pwrite", path: path, errno: n == 0 ? EIO : Glibc.errno)
            }
        }
    }

    /// Writes all of `bytes` at `offset`, looping on short writes. The corresponding C function is `pwrite`.
    /// - Parameters:
    ///   - fd: An open file descriptor.
    ///   - bytes: What to write.
    ///   - offset: Where in the file.
    ///   - path: The file's path, for errors.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(StoreError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(StoreError) in try writeAll(fd, raw, at: offset, path: path) }
        }
        try result.get()
    }

    /// Flushes a file's data to stable storage. The corresponding C function is `fdatasync`.
    /// - Parameters:
    ///   - fd: An open file descriptor.
    ///   - path: The file's path, for errors.
    static func dataSync(_ fd: Int32, path: String) throws(StoreError) {
        while fdatasync(fd) != 0 {
            let e = Glibc.errno
            if e != EINTR { throw StoreError.system("fdatasync", path: path, errno: e) }
        }
    }

    /// Flushes a file's data and metadata. The corresponding C function is `fsync`.
    /// - Parameters:
    ///   - fd: An open file descriptor.
    ///   - path: The file's path, for errors.
    static func fullSync(_ fd: Int32, path: String) throws(StoreError) {
        while fsync(fd) != 0 {
            let e = Glibc.errno
            if e != EINTR { throw StoreError.system("fsync", path: path, errno: e) }
        }
    }

    /// Makes a directory's entries (created, renamed, removed files) durable: `open(O_DIRECTORY)` + `fsync`.
    /// - Parameter path: The directory.
    static func syncDirectory(_ path: String) throws(StoreError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { closeQuietly(fd) }
        try fullSync(fd, path: path)
    }

    /// Cuts a file to `length` bytes. The corresponding C function is `ftruncate`.
    /// - Parameters:
    ///   - fd: An open, writable file descriptor.
    ///   - length: The new size.
    ///   - path: The file's path, for errors.
    static func truncate(_ fd: Int32, to length: Int, path: String) throws(StoreError) {
        while ftruncate(fd, off_t(length)) != 0 {
            let e = Glibc.errno
            if e != EINTR { throw StoreError.system("ftruncate", path: path, errno: e) }
        }
    }

    /// Closes a descriptor. `EINTR` from `close` means closed on Linux and is never retried.
    /// - Parameter fd: The descriptor.
    static func closeQuietly(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Renames a file within one file system. The corresponding C function is `rename`.
    /// - Parameters:
    ///   - from: The current path.
    ///   - to: The new path, replaced atomically if it exists.
    static func rename(_ from: String, _ to: String) throws(StoreError) {
        if Glibc.rename(from, to) != 0 { throw StoreError.system("rename", path: to, errno: Glibc.errno) }
    }

    /// Removes a file; a file that is already gone counts as removed. The corresponding C function is `unlink`.
    /// - Parameter path: The file.
    static func unlink(_ path: String) throws(StoreError) {
        if Glibc.unlink(path) != 0 && Glibc.errno != ENOENT {
            throw StoreError.system("unlink", path: path, errno: Glibc.errno)
        }
    }

    /// Creates a directory (and any missing parents) with mode 0700 unless it exists; tightens an existing one
    /// to 0700.
    /// - Parameter path: The directory.
    static func makeDirectory(_ path: String) throws(StoreError) {
        if mkdir(path, 0o700) == 0 { return }
        var e = Glibc.errno
        if e == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectory(String(path[..<slash]))
            if mkdir(path, 0o700) == 0 { return }
            e = Glibc.errno
        }
        guard e == EEXIST else { throw StoreError.system("mkdir", path: path, errno: e) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw StoreError.system("stat", path: path, errno: Glibc.errno) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw StoreError(
                .notWritable, "the data directory path exists but is not a directory; choose another path",
                path: path, errno: ENOTDIR)
        }
        if info.st_mode & 0o077 != 0 && chmod(path, 0o700) != 0 {
            throw StoreError.system("chmod", path: path, errno: Glibc.errno)
        }
    }

    /// The size of a file in bytes. The corresponding C function is `fstat`.
    /// - Parameters:
    ///   - fd: An open descriptor.
    ///   - path: The file's path, for errors.
    static func size(_ fd: Int32, path: String) throws(StoreError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StoreError.system("fstat", path: path, errno: Glibc.errno) }
        return Int(info.st_size)
    }

    /// The names in a directory, without `.` and `..`. The corresponding C function is `readdir`.
    /// - Parameter path: The directory.
    static func listDirectory(_ path: String) throws(StoreError) -> [String] {
        guard let dir = opendir(path) else { throw StoreError.system("opendir", path: path, errno: Glibc.errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Bytes available to unprivileged users on the file system holding `path`. The C function is `statvfs`.
    /// - Parameter path: Any path on the file system.
    static func availableBytes(_ path: String) throws(StoreError) -> Int {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw StoreError.system("statvfs", path: path, errno: Glibc.errno) }
        return Int(info.f_bavail) &* Int(info.f_frsize)
    }

    /// Maps a whole file read-only and hands its bytes to `body`; an empty file gives an empty buffer.
    /// - Parameters:
    ///   - path: The file.
    ///   - body: Reads the bytes; they are valid only during the call.
    /// - Returns: What `body` returns.
    static func withMappedFile<R>(
        _ path: String, _ body: (UnsafeRawBufferPointer) throws(StoreError) -> R
    ) throws(StoreError) -> R {
        let fd = try open(path, O_RDONLY)
        defer { closeQuietly(fd) }
        let size = try size(fd, path: path)
        if size == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw StoreError.system("mmap", path: path, errno: Glibc.errno)
        }
        defer { munmap(base, size) }
        _ = madvise(base, size, MADV_SEQUENTIAL)
        return try body(UnsafeRawBufferPointer(start: base, count: size))
    }
}

extension Posix {
    /// The size of the file at `path` in bytes. The corresponding C function is `stat`.
    /// - Parameter path: The file.
    static func fileSize(_ path: String) throws(StoreError) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw StoreError.system("stat", path: path, errno: Glibc.errno) }
        return Int(info.st_size)
    }

    /// Reads up to `count` bytes at `offset`; fewer at the end of the file. The corresponding C function is `pread`.
    /// - Parameters:
    ///   - fd: An open file descriptor.
    ///   - count: How many bytes to read at most.
    ///   - offset: Where to read.
    ///   - path: The file's path, for errors.
    static func read(_ fd: Int32, count: Int, at offset: Int, path: String) throws(StoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done))
            }
            if n > 0 {
                done += n
            } else if n == 0 {
                break
            } else if Glibc.errno != EINTR {
                throw StoreError.system("pread", path: path, errno: Glibc.errno)
            }
        }
        return Array(bytes[..<done])
    }

    /// Whether anything exists at `path`.
    /// - Parameter path: The path.
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}
