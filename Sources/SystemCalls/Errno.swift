import Glibc

/// An error number a system call set, with names for the ones Latchkey checks.
///
/// Modelled on swift-system's `Errno`: a typed wrapper around the C `errno` value, so that callers match on
/// ``noSpace`` rather than on a bare `Int32`, and the description reads as `strerror(3)` does.
package struct Errno: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    /// The C value, e.g. 28 for `ENOSPC`.
    package let rawValue: CInt

    /// Wraps a C errno value.
    /// - Parameter rawValue: The value, e.g. `ENOSPC`.
    package init(rawValue: CInt) {
        self.rawValue = rawValue
    }

    /// Wraps a C errno value.
    /// - Parameter rawValue: The value, e.g. `ENOSPC`.
    package init(_ rawValue: CInt) {
        self.rawValue = rawValue
    }

    /// The calling thread's current `errno`.
    package static var current: Errno { Errno(Glibc.errno) }

    /// The text `strerror(3)` gives, e.g. `No space left on device`.
    package var description: String { String(cString: strerror(rawValue)) }

    // MARK: - Names for the errnos the code checks

    /// `EINTR`: a signal interrupted the call; retried by every wrapper.
    package static let interrupted = Errno(EINTR)
    /// `EAGAIN` (= `EWOULDBLOCK` on Linux): the non-blocking call would block.
    package static let wouldBlock = Errno(EAGAIN)
    /// `EBADF`: not an open descriptor. A bug when the descriptor is ours.
    package static let badFileDescriptor = Errno(EBADF)
    /// `EFAULT`: a bad pointer. Always a bug.
    package static let badAddress = Errno(EFAULT)
    /// `ENOENT`: no such file or directory.
    package static let noSuchFileOrDirectory = Errno(ENOENT)
    /// `EEXIST`: the file exists.
    package static let fileExists = Errno(EEXIST)
    /// `ENOTDIR`: a path component is not a directory.
    package static let notDirectory = Errno(ENOTDIR)
    /// `ENOSPC`: no space left on the device.
    package static let noSpace = Errno(ENOSPC)
    /// `EDQUOT`: the disk quota is exhausted.
    package static let diskQuotaExceeded = Errno(EDQUOT)
    /// `EROFS`: a read-only file system.
    package static let readOnlyFileSystem = Errno(EROFS)
    /// `EACCES`: permission denied.
    package static let permissionDenied = Errno(EACCES)
    /// `EPERM`: the operation is not permitted.
    package static let notPermitted = Errno(EPERM)
    /// `EIO`: an input/output error.
    package static let ioError = Errno(EIO)
    /// `ENOTSOCK`: the descriptor is not a socket.
    package static let notSocket = Errno(ENOTSOCK)
    /// `EADDRINUSE`: the address is already in use.
    package static let addressInUse = Errno(EADDRINUSE)
    /// `ECONNABORTED`: a connection was aborted before `accept` took it.
    package static let connectionAborted = Errno(ECONNABORTED)
    /// `EPROTO`: a protocol error on a connection `accept` was taking.
    package static let protocolError = Errno(EPROTO)
    /// `ENOTCONN`: the socket is not connected (the peer is already gone).
    package static let notConnected = Errno(ENOTCONN)
    /// `ECONNRESET`: the peer reset the connection.
    package static let connectionReset = Errno(ECONNRESET)
    /// `EPIPE`: the peer closed its read side.
    package static let brokenPipe = Errno(EPIPE)
}

/// A system call failed with an errno that is neither "try again" nor a bug: what failed, how, and on what.
package struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The C function that failed, e.g. `bind`.
    package let call: String
    /// The errno it set.
    package let errno: Errno
    /// The file it was called on, when there is one.
    package let path: String?

    /// Creates the error for `call` failing with `errno`.
    /// - Parameters:
    ///   - call: The C function, e.g. `bind`.
    ///   - errno: The errno it set.
    ///   - path: The file it was called on, if any.
    package init(call: String, errno: Errno, path: String? = nil) {
        self.call = call
        self.errno = errno
        self.path = path
    }

    /// `bind failed: Address already in use (errno 98)`, with ` [file: …]` when there is a path.
    package var description: String {
        "\(call) failed: \(errno) (errno \(errno.rawValue))" + (path.map { " [file: \($0)]" } ?? "")
    }
}

/// The outcome of a non-blocking call: it did something, or the kernel said "try again later" (`EAGAIN`).
package enum IOResult<Value> {
    /// The call completed with this value.
    case processed(Value)
    /// The call would have blocked; wait for readiness.
    case wouldBlock
}

extension IOResult: Equatable where Value: Equatable {}
extension IOResult: Sendable where Value: Sendable {}
