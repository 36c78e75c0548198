import Glibc
import Synchronization

/// Where formatted log lines go. Each call carries one complete line, newline included, and an
/// implementation must never interleave two lines, whichever threads call it.
public protocol LogSink: Sendable {
    /// Writes one complete line (its trailing newline included) in one piece.
    /// - Parameter line: The UTF-8 bytes of the line.
    func write(line: [UInt8])
}

/// Writes lines to a file descriptor (standard error by default) under one lock, one `write` loop a line.
///
/// Logging must never stop the server: a descriptor that fails (`EPIPE`, `EAGAIN` on a non-blocking
/// pipe, `ENOSPC`) loses the rest of that line and nothing else happens. `EINTR` is retried.
public final class FileDescriptorLogSink: LogSink {
    /// The descriptor, owned by the lock so that a line's `write` calls are never interleaved with another's.
    private let descriptor: Mutex<Int32>

    /// Creates a sink writing to `fileDescriptor`; the sink does not close it.
    /// - Parameter fileDescriptor: Where to write; default standard error (2).
    public init(fileDescriptor: Int32 = STDERR_FILENO) {
        descriptor = Mutex(fileDescriptor)
    }

    /// Whether the descriptor is a terminal (the C function `isatty`).
    public var isTerminal: Bool {
        descriptor.withLock { isatty($0) == 1 }
    }

    /// Writes `line` completely, or as much of it as the descriptor takes before an error.
    public func write(line: [UInt8]) {
        descriptor.withLock { fd in
            line.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var offset = 0
                while offset < raw.count {
                    let written = Glibc.write(fd, base + offset, raw.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}

/// Keeps lines in memory, for tests that assert what was logged (never `LoggingSystem.bootstrap` in tests).
public final class MemoryLogSink: LogSink {
    private let storage = Mutex<[String]>([])

    /// Creates an empty sink.
    public init() {}

    /// Appends `line`, decoded as UTF-8, without its trailing newline.
    public func write(line: [UInt8]) {
        var text = String(decoding: line, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        storage.withLock { $0.append(text) }
    }

    /// Every line written so far, in order, without trailing newlines.
    public var lines: [String] {
        storage.withLock { $0 }
    }
}
