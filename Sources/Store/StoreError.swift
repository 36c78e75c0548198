import SystemCalls

/// A failure of the durable store, carrying what went wrong, where, and what to do about it.
///
/// Every error that can reach a caller is one of these. `code` is for programs (the gateway maps
/// ``Code/notWritable``, ``Code/diskFull`` and ``Code/io`` to 503 + Retry-After); ``description``
/// is for people and names the file, offset and errno involved.
package struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    package enum Code: String, Sendable, Equatable {
        /// Another process (or another `Store` in this process) holds the directory's `LOCK`.
        case locked
        /// The directory or a file in it cannot be created or written (read-only file system, permissions).
        case notWritable
        /// The file system is full (`ENOSPC`/`EDQUOT`), or below the configured free-space floor at open.
        case diskFull
        /// A read, write or sync failed for another reason (`EIO`, …).
        case io
        /// A journal segment is damaged before its last record: recovery would lose acknowledged data.
        case corruptJournal
        /// The snapshot file is damaged or incomplete.
        case corruptSnapshot
        /// The store was closed; nothing more can be committed.
        case closed
        /// The transaction cannot be stored as given (too large, or a key too long).
        case invalidTransaction
        /// The database (PostgreSQL) cannot be reached, or the connection was lost before `COMMIT` returned: the
        /// transaction is not known to be durable (it may or may not have committed; a retry is answered by the
        /// idempotency key).
        case unavailable
        /// The database refused a statement for another reason than a lost connection (`sqlState` says which).
        case database
        /// The database's schema is not the version this Latchkey needs (`latchkey db migrate`, or a newer Latchkey).
        case schemaVersion
    }

    /// The kind of failure.
    package var code: Code
    /// What went wrong and what to do, in one or two sentences.
    package var message: String
    /// The file or directory involved, if any.
    package var path: String?
    /// The byte offset in `path` involved, if any.
    package var offset: Int?
    /// The `errno` of the failed system call, if any.
    package var errno: Errno?
    /// The SQLSTATE PostgreSQL answered with (e.g. `57P01`, `08006`), if any.
    package var sqlState: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What went wrong and what to do.
    ///   - path: The file or directory involved.
    ///   - offset: The byte offset in `path` involved.
    ///   - errno: The `errno` of the failed system call.
    ///   - sqlState: The SQLSTATE of a failed database statement.
    package init(
        _ code: Code, _ message: String, path: String? = nil, offset: Int? = nil, errno: Errno? = nil,
        sqlState: String? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.errno = errno
        self.sqlState = sqlState
    }

    /// Whether a client may retry the same request later (the gateway answers 503 + Retry-After).
    package var isRetryable: Bool {
        switch code {
        case .notWritable, .diskFull, .io, .locked, .unavailable, .database: true
        case .corruptJournal, .corruptSnapshot, .closed, .invalidTransaction, .schemaVersion: false
        }
    }

    /// A one-line, human-readable account: code, message, file, offset and errno.
    package var description: String {
        var text = "store \(code.rawValue): \(message)"
        if let path { text += " [file: \(path)" + (offset.map { ", offset: \($0)" } ?? "") + "]" }
        if let errno { text += " [errno \(errno.rawValue): \(errno)]" }
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        return text
    }

    /// Maps a failed system call to a store error, classifying the errno.
    /// - Parameters:
    ///   - call: The name of the C function that failed (`open`, `pwrite`, `fdatasync`, …).
    ///   - path: The file or directory it was called on.
    ///   - errno: The errno it set.
    /// - Returns: ``Code/diskFull`` for `ENOSPC`/`EDQUOT`, ``Code/notWritable`` for `EROFS`/`EACCES`/`EPERM`,
    ///   ``Code/io`` otherwise.
    static func system(_ call: String, path: String, errno: Errno) -> StoreError {
        switch errno {
        case .noSpace, .diskQuotaExceeded:
            StoreError(
                .diskFull, "\(call) failed: the file system is full; free space, then retry", path: path, errno: errno)
        case .readOnlyFileSystem, .permissionDenied, .notPermitted:
            StoreError(
                .notWritable,
                "\(call) failed: the data directory is not writable; check mount options and permissions "
                    + "(the directory must be writable by this user)",
                path: path, errno: errno)
        default:
            StoreError(.io, "\(call) failed; check the disk and the kernel log", path: path, errno: errno)
        }
    }

    /// Maps a failed system call to a store error (see ``system(_:path:errno:)``).
    /// - Parameter error: What the ``SystemCalls`` wrapper threw.
    init(_ error: SystemCallError) {
        self = .system(error.call, path: error.path ?? "", errno: error.errno)
    }

    /// Maps a failed system call to a store error (see ``system(_:path:errno:)``).
    /// - Parameters:
    ///   - error: What the ``SystemCalls`` wrapper threw.
    ///   - path: The path to name when the error carries none.
    init(_ error: SystemCallError, path: String?) {
        self = .system(error.call, path: error.path ?? path ?? "", errno: error.errno)
    }

    /// Runs one or more system-call wrappers, turning their failure into a store error.
    /// - Parameters:
    ///   - path: The path to name when the failure carries none.
    ///   - body: The calls.
    /// - Returns: What `body` returns.
    /// - Throws: The ``StoreError`` for the ``SystemCallError`` `body` threw.
    static func catching<Result>(path: String? = nil, _ body: () throws(SystemCallError) -> Result) throws(StoreError)
        -> Result
    {
        do {
            return try body()
        } catch {
            throw StoreError(error, path: path)
        }
    }
}
