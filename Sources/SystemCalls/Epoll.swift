import CLinux
import Glibc

/// An epoll instance: the registrations and the wait, with each call following ``SystemCall``'s errno policy.
///
/// The C types stay inside this module: callers see ``Events`` and a 64-bit user-data word per registration.
package struct Epoll: Sendable {
    /// The epoll descriptor.
    package let descriptor: FileDescriptor

    /// Readiness and interest bits (`EPOLL*`).
    ///
    /// The constants and helpers are `@inlinable` with the Linux ABI values written out (``SystemCallsTests``
    /// checks them against the headers): callers in other modules test and combine bits with plain integer
    /// operations. Avoid array literals such as `[.readable, .writable]` on hot paths: across the module boundary
    /// they build an array and go through the unspecialized `SetAlgebra` initializer.
    package struct Events: OptionSet, Hashable, Sendable {
        /// The bits.
        package let rawValue: UInt32
        /// Wraps `EPOLL*` bits.
        /// - Parameter rawValue: The bits.
        @inlinable package init(rawValue: UInt32) { self.rawValue = rawValue }

        /// `EPOLLIN`: bytes (or a connection, or EOF) to read.
        @inlinable package static var readable: Events { Events(rawValue: 0x001) }
        /// `EPOLLOUT`: room to write.
        @inlinable package static var writable: Events { Events(rawValue: 0x004) }
        /// `EPOLLERR`: an error on the descriptor (always reported).
        @inlinable package static var error: Events { Events(rawValue: 0x008) }
        /// `EPOLLHUP`: both sides hung up (always reported).
        @inlinable package static var hangup: Events { Events(rawValue: 0x010) }
        /// `EPOLLRDHUP`: the peer shut its write side.
        @inlinable package static var readHangup: Events { Events(rawValue: 0x2000) }
        /// ``readable`` and ``readHangup``: what a connection that wants bytes listens for.
        @inlinable package static var input: Events { Events(rawValue: 0x2001) }
        /// ``error`` and ``hangup``: the connection is over.
        @inlinable package static var failure: Events { Events(rawValue: 0x018) }
        /// No bits.
        @inlinable package static var none: Events { Events(rawValue: 0) }

        /// Whether any bit of `other` is set here.
        /// - Parameter other: The bits to look for.
        @inlinable package func containsAny(of other: Events) -> Bool { rawValue & other.rawValue != 0 }

        /// These bits and `other`'s.
        /// - Parameter other: The bits to add.
        @inlinable package func adding(_ other: Events) -> Events { Events(rawValue: rawValue | other.rawValue) }
    }

    /// A new close-on-exec epoll instance. The corresponding C function is `epoll_create1`.
    /// - Throws: ``SystemCallError``.
    package init() throws(SystemCallError) {
        descriptor = FileDescriptor(
            rawValue: try SystemCall.retrying("epoll_create1") { epoll_create1(CInt(EPOLL_CLOEXEC)) })
    }

    /// Registers `fd` for `events`, tagged with `data`. The corresponding C function is `epoll_ctl`.
    /// - Parameters:
    ///   - fd: The descriptor to watch.
    ///   - events: The interest set.
    ///   - data: Comes back with each of its events.
    /// - Throws: ``SystemCallError``.
    package func add(_ fd: FileDescriptor, events: Events, data: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_ADD, fd, events: events, data: data)
    }

    /// Changes the interest set (and tag) of a registered `fd`. The corresponding C function is `epoll_ctl`.
    /// - Parameters:
    ///   - fd: The registered descriptor.
    ///   - events: The new interest set; empty pauses it.
    ///   - data: Comes back with each of its events.
    /// - Throws: ``SystemCallError``.
    package func modify(_ fd: FileDescriptor, events: Events, data: UInt64) throws(SystemCallError) {
        try control(EPOLL_CTL_MOD, fd, events: events, data: data)
    }

    private func control(_ operation: CInt, _ fd: FileDescriptor, events: Events, data: UInt64)
        throws(SystemCallError)
    {
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = data
        _ = try SystemCall.retrying("epoll_ctl") { epoll_ctl(descriptor.rawValue, operation, fd.rawValue, &event) }
    }

    /// Waits for events. An interrupted wait returns 0 events instead of retrying, so that the caller
    /// re-computes its timeout. The corresponding C function is `epoll_wait`.
    /// - Parameters:
    ///   - buffer: Where the events go; its capacity bounds how many one call returns.
    ///   - timeoutMilliseconds: How long to wait; -1 waits forever, 0 polls.
    /// - Returns: How many events `buffer` now holds.
    /// - Throws: ``SystemCallError`` (never expected).
    package func wait(into buffer: EventBuffer, timeoutMilliseconds: CInt) throws(SystemCallError) -> Int {
        let result = epoll_wait(
            descriptor.rawValue, buffer.storage.baseAddress, CInt(buffer.storage.count), timeoutMilliseconds)
        if result >= 0 { return Int(result) }
        let errno = Errno.current
        if errno == .interrupted { return 0 }
        SystemCall.trapOnBug("epoll_wait", errno)
        throw SystemCallError(call: "epoll_wait", errno: errno)
    }

    /// Closes the instance (its registrations go with it).
    package func close() {
        descriptor.close()
    }

    /// Room for the events one ``Epoll/wait(into:timeoutMilliseconds:)`` returns; allocated once, read in place.
    package final class EventBuffer {
        fileprivate let storage: UnsafeMutableBufferPointer<epoll_event>

        /// Allocates room for `capacity` events.
        /// - Parameter capacity: The most events one wait returns.
        package init(capacity: Int) {
            storage = .allocate(capacity: capacity)
            storage.initialize(repeating: epoll_event())
        }

        deinit { storage.deallocate() }

        /// The ready bits of event `index`.
        /// - Parameter index: An index below the count the last wait returned.
        @inline(__always)
        package func events(at index: Int) -> Events { Events(rawValue: storage[index].events) }

        /// The tag of event `index`, as registered.
        /// - Parameter index: An index below the count the last wait returned.
        @inline(__always)
        package func data(at index: Int) -> UInt64 { storage[index].data.u64 }
    }
}
