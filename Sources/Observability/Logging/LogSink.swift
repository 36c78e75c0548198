import Glibc
import Synchronization
import SystemCalls

/// Where formatted log lines go. Each call carries one complete line, newline included, and an
/// implementation must never interleave two lines, whichever threads call it.
package protocol LogSink: Sendable {
    /// Writes one complete line (its trailing newline included) in one piece.
    /// - Parameter line: The UTF-8 bytes of the line.
    func write(line: [UInt8])
}

/// Writes lines to a file descriptor (standard error by default) under one lock, one `write` loop a line (or a
/// gathered run of lines, see ``LogLines/gathered(_:)``).
///
/// Logging must never stop the server: a descriptor that fails (`EPIPE`, `EAGAIN` on a non-blocking
/// pipe, `ENOSPC`, even `EBADF` when someone closed standard error) loses the rest of that line and nothing else
/// happens. `EINTR` is retried (``SystemCalls``' one write wrapper).
package final class FileDescriptorLogSink: LogSink {
    /// The descriptor, owned by the lock so that a line's `write` calls are never interleaved with another's.
    private let descriptor: Mutex<FileDescriptor>

    /// Creates a sink writing to `fileDescriptor`; the sink does not close it.
    /// - Parameter fileDescriptor: Where to write; default standard error (2).
    package init(fileDescriptor: FileDescriptor = .standardError) {
        descriptor = Mutex(fileDescriptor)
    }

    /// Whether the descriptor is a terminal (the C function `isatty`).
    package var isTerminal: Bool {
        descriptor.withLock { $0.isTerminal }
    }

    /// Writes `line` completely, or as much of it as the descriptor takes before an error; inside
    /// ``LogLines/gathered(_:)`` on this thread, when that returns.
    package func write(line: [UInt8]) {
        if let gathering = LineGathering.current {
            gathering.add(line, for: self)
            return
        }
        writeNow(line)
    }

    /// Writes `lines` (one or more whole lines) under the lock.
    fileprivate func writeNow(_ lines: [UInt8]) {
        descriptor.withLock { fd in
            // The descriptor is borrowed: EBADF is the caller's doing, not a bug here, and must not stop the server.
            lines.withUnsafeBytes { raw in try? fd.writeAll(raw, policy: .isAnError) }
        }
    }
}

/// Keeps lines in memory, for tests that assert what was logged (never `LoggingSystem.bootstrap` in tests).
package final class MemoryLogSink: LogSink {
    private let storage = Mutex<[String]>([])

    /// Creates an empty sink.
    package init() {}

    /// Appends `line`, decoded as UTF-8, without its trailing newline.
    package func write(line: [UInt8]) {
        var text = String(decoding: line, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        storage.withLock { $0.append(text) }
    }

    /// Every line written so far, in order, without trailing newlines.
    package var lines: [String] {
        storage.withLock { $0 }
    }
}

/// Lets one thread write the log lines of a short stretch of work together.
package enum LogLines {
    /// Runs `body`; the lines this thread gives a ``FileDescriptorLogSink`` meanwhile are written when `body`
    /// returns, in order, one `write` per sink instead of one per line. Lines of other threads are not held.
    /// Nested calls join the outermost one.
    ///
    /// For work that logs a line per item of a batch and must not be slowed by a system call per line: the
    /// journal's writer completing a group commit. The lines wait for microseconds, not for a timer, so at most
    /// those of the batch in hand are lost if the process is killed right then.
    /// - Parameter body: The work.
    /// - Returns: What `body` returns.
    package static func gathered<Result>(_ body: () throws -> Result) rethrows -> Result {
        if LineGathering.current != nil { return try body() }
        let gathering = LineGathering()
        LineGathering.current = gathering
        defer {
            LineGathering.current = nil
            gathering.flush()
        }
        return try body()
    }
}

/// The lines one thread is gathering (``LogLines/gathered(_:)``), found through a thread-specific key; only
/// that thread touches it.
private final class LineGathering {
    /// Per sink, in the order sinks were first written to, the bytes gathered so far.
    private var pending: [(sink: FileDescriptorLogSink, bytes: [UInt8])] = []

    func add(_ line: [UInt8], for sink: FileDescriptorLogSink) {
        if let index = pending.firstIndex(where: { $0.sink === sink }) {
            pending[index].bytes.append(contentsOf: line)
        } else {
            pending.append((sink, line))
        }
    }

    func flush() {
        for (sink, bytes) in pending { sink.writeNow(bytes) }
        pending = []
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)  // a value is only ever set inside `gathered`, which clears it
        return key
    }()

    /// The calling thread's gathering, if it is inside ``LogLines/gathered(_:)``.
    static var current: LineGathering? {
        get {
            pthread_getspecific(key).map { Unmanaged<LineGathering>.fromOpaque($0).takeUnretainedValue() }
        }
        set {
            if let old = pthread_getspecific(key) { Unmanaged<LineGathering>.fromOpaque(old).release() }
            pthread_setspecific(key, newValue.map { Unmanaged.passRetained($0).toOpaque() })
        }
    }
}
