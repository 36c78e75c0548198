import Glibc

/// An open file descriptor: a file, a socket, an epoll instance, an eventfd or a signalfd.
///
/// A typed wrapper around the C `int`, in the manner of swift-system's `FileDescriptor`: it costs nothing over
/// the raw value, and every operation on it goes through one wrapper that follows ``SystemCall``'s errno policy.
/// It is a plain value: whoever opened it closes it, once, with ``close()``.
package struct FileDescriptor: RawRepresentable, Hashable, Sendable {
    /// The C descriptor number.
    package let rawValue: CInt

    /// Wraps a descriptor number.
    /// - Parameter rawValue: The C descriptor number.
    package init(rawValue: CInt) {
        self.rawValue = rawValue
    }

    /// Standard error (descriptor 2).
    package static let standardError = FileDescriptor(rawValue: STDERR_FILENO)

    /// How ``open(_:_:options:permissions:)`` may use the file.
    package enum AccessMode: Sendable {
        /// `O_RDONLY`.
        case readOnly
        /// `O_WRONLY`.
        case writeOnly
        /// `O_RDWR`.
        case readWrite

        fileprivate var flags: CInt {
            switch self {
            case .readOnly: O_RDONLY
            case .writeOnly: O_WRONLY
            case .readWrite: O_RDWR
            }
        }
    }

    /// Flags for ``open(_:_:options:permissions:)``; `O_CLOEXEC` is always added.
    package struct OpenOptions: OptionSet, Sendable {
        /// The `O_*` bits.
        package let rawValue: CInt
        /// Wraps `O_*` bits.
        /// - Parameter rawValue: The bits.
        package init(rawValue: CInt) { self.rawValue = rawValue }

        /// `O_CREAT`: create the file if it does not exist.
        package static let create = OpenOptions(rawValue: O_CREAT)
        /// `O_EXCL`: with ``create``, fail with `EEXIST` if it exists.
        package static let exclusiveCreate = OpenOptions(rawValue: O_EXCL)
        /// `O_TRUNC`: cut an existing file to 0 bytes.
        package static let truncate = OpenOptions(rawValue: O_TRUNC)
        /// `O_DIRECTORY`: fail unless the path is a directory.
        package static let directory = OpenOptions(rawValue: O_DIRECTORY)
    }

    // MARK: - Opening and closing

    /// Opens (and maybe creates) a file, close-on-exec. The corresponding C function is `open`.
    /// - Parameters:
    ///   - path: The file.
    ///   - mode: How the file will be used.
    ///   - options: Creation and truncation flags. Default none.
    ///   - permissions: Permissions of a created file. Default 0600.
    /// - Returns: The new descriptor.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package static func open(
        _ path: String, _ mode: AccessMode, options: OpenOptions = [], permissions: mode_t = 0o600
    ) throws(SystemCallError) -> FileDescriptor {
        let flags = mode.flags | options.rawValue | O_CLOEXEC
        return FileDescriptor(
            rawValue: try SystemCall.retrying("open", path: path) { Glibc.open(path, flags, permissions) })
    }

    /// Closes the descriptor. Never retried: on Linux the descriptor is released even when `close` reports
    /// `EINTR` (the LKML thread swift-nio cites in `Posix.close`), and a retry could close a descriptor another
    /// thread has just been given. `EBADF` traps (a double close); other errors are ignored, since nothing is
    /// left to do with the descriptor. The corresponding C function is `close`.
    package func close() {
        if Glibc.close(rawValue) == -1 {
            let errno = Errno.current
            precondition(errno != .badFileDescriptor, "close(\(rawValue)) failed with EBADF: a bug (double close)")
        }
    }

    // MARK: - Reading and writing

    /// Reads up to `buffer.count` bytes from a non-blocking descriptor; `.processed(0)` is end of file.
    /// The corresponding C function is `read`.
    /// - Parameter buffer: Where the bytes go.
    /// - Returns: The byte count, or `.wouldBlock`.
    /// - Throws: ``SystemCallError``.
    @inline(__always)
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> IOResult<Int> {
        try SystemCall.nonBlocking("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes to a non-blocking descriptor that is not a socket (an eventfd). The corresponding C function is
    /// `write`.
    /// - Parameter buffer: The bytes.
    /// - Returns: How many were written, or `.wouldBlock`.
    /// - Throws: ``SystemCallError``.
    package func write(_ buffer: UnsafeRawBufferPointer) throws(SystemCallError) -> IOResult<Int> {
        try SystemCall.nonBlocking("write") { Glibc.write(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes all of `buffer` to a blocking descriptor, looping on short writes. The corresponding C function is
    /// `write`.
    /// - Parameters:
    ///   - buffer: The bytes.
    ///   - policy: Whether `EBADF` is a bug (default) or, for a borrowed descriptor, an error.
    /// - Throws: ``SystemCallError``; a write of 0 bytes counts as `EIO`. What was written before stays written.
    package func writeAll(_ buffer: UnsafeRawBufferPointer, policy: BadDescriptorPolicy = .isABug)
        throws(SystemCallError)
    {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let written = try SystemCall.retrying("write", policy: policy) {
                Glibc.write(rawValue, base + done, buffer.count - done)
            }
            if written == 0 { throw SystemCallError(call: "write", errno: .ioError) }
            done += written
        }
    }

    /// Writes all of `buffer` at `offset`, looping on short writes. The corresponding C function is `pwrite`.
    /// - Parameters:
    ///   - buffer: The bytes.
    ///   - offset: Where in the file.
    ///   - path: The file's path, for errors.
    /// - Throws: ``SystemCallError`` carrying `path`; a write of 0 bytes counts as `EIO`.
    package func writeAll(_ buffer: UnsafeRawBufferPointer, atOffset offset: Int, path: String? = nil)
        throws(SystemCallError)
    {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let written = try SystemCall.retrying("pwrite", path: path) {
                pwrite(rawValue, base + done, buffer.count - done, off_t(offset + done))
            }
            if written == 0 { throw SystemCallError(call: "pwrite", errno: .ioError, path: path) }
            done += written
        }
    }

    /// Writes all of `bytes` at `offset`, looping on short writes. The corresponding C function is `pwrite`.
    /// - Parameters:
    ///   - bytes: The bytes.
    ///   - offset: Where in the file.
    ///   - path: The file's path, for errors.
    /// - Throws: ``SystemCallError`` carrying `path`; a write of 0 bytes counts as `EIO`.
    package func writeAll(_ bytes: [UInt8], atOffset offset: Int, path: String? = nil) throws(SystemCallError) {
        // Through a Result: a typed-throwing closure handed to the rethrowing `withUnsafeBytes` crashes the
        // 6.3 compiler's IR generation.
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(SystemCallError) in try writeAll(raw, atOffset: offset, path: path) }
        }
        try result.get()
    }

    /// Reads up to `buffer.count` bytes at `offset`, fewer only at the end of the file. The corresponding C
    /// function is `pread`.
    /// - Parameters:
    ///   - buffer: Where the bytes go.
    ///   - offset: Where in the file.
    ///   - path: The file's path, for errors.
    /// - Returns: How many bytes were read.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package func read(into buffer: UnsafeMutableRawBufferPointer, atOffset offset: Int, path: String? = nil)
        throws(SystemCallError) -> Int
    {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let count = try SystemCall.retrying("pread", path: path) {
                pread(rawValue, base + done, buffer.count - done, off_t(offset + done))
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Reads up to `count` bytes at `offset`, fewer only at the end of the file. The corresponding C function is
    /// `pread`.
    /// - Parameters:
    ///   - count: How many bytes to read at most.
    ///   - offset: Where in the file.
    ///   - path: The file's path, for errors.
    /// - Returns: The bytes read.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package func read(upTo count: Int, atOffset offset: Int, path: String? = nil) throws(SystemCallError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBytes { raw in
            Result { () throws(SystemCallError) in try read(into: raw, atOffset: offset, path: path) }
        }
        bytes.removeLast(count - (try result.get()))
        return bytes
    }

    // MARK: - Durability and size

    /// Flushes the file's data (and the size, when it changed) to stable storage. The corresponding C function is
    /// `fdatasync`.
    /// - Parameter path: The file's path, for errors.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package func synchronizeData(path: String? = nil) throws(SystemCallError) {
        _ = try SystemCall.retrying("fdatasync", path: path) { fdatasync(rawValue) }
    }

    /// Flushes the file's data and metadata; on a directory, makes its entries durable. The corresponding C
    /// function is `fsync`.
    /// - Parameter path: The file's path, for errors.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package func synchronize(path: String? = nil) throws(SystemCallError) {
        _ = try SystemCall.retrying("fsync", path: path) { fsync(rawValue) }
    }

    /// Cuts (or extends with zeros) the file to `length` bytes. The corresponding C function is `ftruncate`.
    /// - Parameters:
    ///   - length: The new size.
    ///   - path: The file's path, for errors.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package func resize(to length: Int, path: String? = nil) throws(SystemCallError) {
        _ = try SystemCall.retrying("ftruncate", path: path) { ftruncate(rawValue, off_t(length)) }
    }

    /// The file's size in bytes. The corresponding C function is `fstat`.
    /// - Parameter path: The file's path, for errors.
    /// - Returns: The size.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package func size(path: String? = nil) throws(SystemCallError) -> Int {
        var info = stat()
        _ = try SystemCall.retrying("fstat", path: path) { fstat(rawValue, &info) }
        return Int(info.st_size)
    }

    /// Takes an exclusive advisory lock without waiting. The corresponding C function is `flock`.
    /// - Parameter path: The file's path, for errors.
    /// - Returns: Whether the lock was taken; `false` when another open file description holds it.
    /// - Throws: ``SystemCallError`` carrying `path`.
    package func tryLockExclusively(path: String? = nil) throws(SystemCallError) -> Bool {
        switch try SystemCall.nonBlocking("flock", { flock(rawValue, LOCK_EX | LOCK_NB) }) {
        case .processed: return true
        case .wouldBlock: return false
        }
    }

    /// Whether the descriptor is a terminal. The corresponding C function is `isatty`.
    package var isTerminal: Bool { isatty(rawValue) == 1 }
}
