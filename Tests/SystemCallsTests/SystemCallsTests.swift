import CLinux
import Glibc
import Testing

@testable import SystemCalls

@Suite("Errno")
struct ErrnoTests {
    @Test("names the errnos the code checks, and describes them as strerror does")
    func namesAndDescriptions() {
        #expect(Errno.noSpace.rawValue == ENOSPC)
        #expect(Errno.wouldBlock == Errno(EWOULDBLOCK))
        #expect(Errno.noSuchFileOrDirectory.description == "No such file or directory")
        let error = SystemCallError(call: "open", errno: .permissionDenied, path: "/x")
        #expect(error.description == "open failed: Permission denied (errno \(EACCES)) [file: /x]")
    }
}

@Suite("Socket and descriptor wrappers")
struct SocketWrapperTests {
    @Test("a socket option on a pipe throws ENOTSOCK naming the call")
    func setsockoptOnAPipeThrowsENOTSOCK() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer {
            FileDescriptor(rawValue: fds[0]).close()
            FileDescriptor(rawValue: fds[1]).close()
        }
        let error = #expect(throws: SystemCallError.self) {
            try FileDescriptor(rawValue: fds[0]).setOption(level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
        }
        #expect(error?.call == "setsockopt")
        #expect(error?.errno == Errno(ENOTSOCK))
        #expect(error?.description.contains("errno \(ENOTSOCK)") == true)
    }

    @Test("reading an empty non-blocking socket is wouldBlock, and EOF is processed(0)")
    func emptyNonBlockingReadIsWouldBlock() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        let reader = FileDescriptor(rawValue: fds[0])
        defer { reader.close() }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { buffer.deallocate() }
        guard case .wouldBlock = try reader.read(into: buffer) else {
            Issue.record("expected wouldBlock")
            return
        }
        FileDescriptor(rawValue: fds[1]).close()
        guard case .processed(0) = try reader.read(into: buffer) else {
            Issue.record("expected EOF")
            return
        }
    }

    @Test("a full socket buffer makes send return wouldBlock, a closed peer throws EPIPE without SIGPIPE")
    func sendBackPressureAndBrokenPipe() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        let writer = FileDescriptor(rawValue: fds[0])
        defer { writer.close() }
        let chunk = [UInt8](repeating: 7, count: 65536)
        var sawWouldBlock = false
        for _ in 0..<256 {
            let result = try chunk.withUnsafeBytes { bytes in try writer.send(bytes) }
            if case .wouldBlock = result {
                sawWouldBlock = true
                break
            }
        }
        #expect(sawWouldBlock)
        FileDescriptor(rawValue: fds[1]).close()
        let error = #expect(throws: SystemCallError.self) {
            _ = try chunk.withUnsafeBytes { bytes in try writer.send(bytes) }
        }
        #expect(error?.errno == .brokenPipe || error?.errno == .connectionReset)
    }

    @Test("an eventfd counts wakeups and drains to zero")
    func eventDescriptorWakesAndDrains() throws {
        let event = try FileDescriptor.makeEventDescriptor()
        defer { event.close() }
        try event.signalEvent()
        try event.signalEvent()
        var counter: UInt64 = 0
        let first = withUnsafeMutableBytes(of: &counter) { try? event.read(into: $0) }
        #expect(first == .processed(8))
        #expect(counter == 2)
        event.drainEvents()
        let again = withUnsafeMutableBytes(of: &counter) { try? event.read(into: $0) }
        #expect(again == .wouldBlock)
    }

    @Test("epoll reports a readable socket with the registered tag")
    func epollReportsTheTag() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        let (left, right) = (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
        defer {
            left.close()
            right.close()
        }
        let epoll = try Epoll()
        defer { epoll.close() }
        let buffer = Epoll.EventBuffer(capacity: 4)
        try epoll.add(left, events: .readable, data: 42)
        #expect(try epoll.wait(into: buffer, timeoutMilliseconds: 0) == 0)
        _ = try [UInt8(1)].withUnsafeBytes { bytes in try right.send(bytes) }
        #expect(try epoll.wait(into: buffer, timeoutMilliseconds: 1000) == 1)
        #expect(buffer.data(at: 0) == 42)
        #expect(buffer.events(at: 0).contains(.readable))
        try epoll.modify(left, events: [], data: 42)
        #expect(try epoll.wait(into: buffer, timeoutMilliseconds: 0) == 0)
    }

    @Test("the epoll bits written out for inlining are the headers' values")
    func epollBitsMatchTheHeaders() {
        #expect(Epoll.Events.readable.rawValue == EPOLLIN.rawValue)
        #expect(Epoll.Events.writable.rawValue == EPOLLOUT.rawValue)
        #expect(Epoll.Events.error.rawValue == EPOLLERR.rawValue)
        #expect(Epoll.Events.hangup.rawValue == EPOLLHUP.rawValue)
        #expect(Epoll.Events.readHangup.rawValue == EPOLLRDHUP.rawValue)
        #expect(Epoll.Events.input == [.readable, .readHangup])
        #expect(Epoll.Events.failure == [.error, .hangup])
        #expect(Epoll.Events.none.adding(.input).containsAny(of: .readHangup))
        #expect(!Epoll.Events.writable.containsAny(of: .input))
    }

    @Test("a borrowed descriptor that is closed is an error, not a trap, when the caller says so")
    func borrowedClosedDescriptorThrowsEBADF() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        FileDescriptor(rawValue: fds[0]).close()
        FileDescriptor(rawValue: fds[1]).close()
        let error = #expect(throws: SystemCallError.self) {
            try [UInt8(1)].withUnsafeBytes { bytes in
                try FileDescriptor(rawValue: fds[1]).writeAll(bytes, policy: .isAnError)
            }
        }
        #expect(error?.errno == .badFileDescriptor)
    }
}

@Suite("File wrappers")
struct FileWrapperTests {
    private static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/latchkey-syscalls-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test("pwrite, pread, ftruncate, fstat and fsync round-trip; rename, unlink and listing see the file")
    func fileRoundTrip() throws {
        let directory = try Self.temporaryDirectory()
        defer { rmdir(directory) }
        let path = directory + "/a"
        let file = try FileDescriptor.open(path, .readWrite, options: [.create, .exclusiveCreate])
        try Array("hello world".utf8).withUnsafeBytes { bytes in
            try file.writeAll(bytes, atOffset: 2, path: path)
        }
        try file.synchronizeData(path: path)
        #expect(try file.size(path: path) == 13)
        try file.resize(to: 7, path: path)
        try file.synchronize(path: path)
        var bytes = [UInt8](repeating: 0xFF, count: 16)
        let count = try bytes.withUnsafeMutableBytes { buffer in
            try file.read(into: buffer, atOffset: 0, path: path)
        }
        #expect(count == 7)
        #expect(Array(bytes[..<7]) == [0, 0] + Array("hello".utf8))
        #expect(try file.tryLockExclusively(path: path))
        file.close()
        try FileSystem.rename(path, to: directory + "/b")
        try FileSystem.synchronizeDirectory(directory)
        #expect(try FileSystem.contentsOfDirectory(directory) == ["b"])
        #expect(try FileSystem.status(directory + "/b").size == 7)
        #expect(try FileSystem.status(directory).isDirectory)
        let mapped = try FileSystem.withMappedFile(
            directory + "/b", mapError: { $0 },
            { (bytes) throws(SystemCallError) -> [UInt8] in Array(bytes) })
        #expect(mapped.count == 7)
        try FileSystem.remove(directory + "/b")
        try FileSystem.remove(directory + "/b")  // already gone counts as removed
        #expect(!FileSystem.exists(directory + "/b"))
        #expect(try FileSystem.availableBytes(directory) > 0)
    }

    @Test("a failed open names the call, the errno and the path")
    func failedOpenCarriesThePath() throws {
        let error = #expect(throws: SystemCallError.self) {
            try FileDescriptor.open("/nonexistent-latchkey/x", .readOnly)
        }
        #expect(error?.call == "open")
        #expect(error?.errno == .noSuchFileOrDirectory)
        #expect(error?.path == "/nonexistent-latchkey/x")
        let exists = #expect(throws: SystemCallError.self) {
            try FileSystem.makeDirectory("/tmp", permissions: 0o700)
        }
        #expect(exists?.errno == .fileExists)
    }
}
