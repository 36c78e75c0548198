import Synchronization

/// Request ids: an incoming sane `X-Request-Id` (1–128 of `A-Z a-z 0-9 . _ : -`), else a process prefix and a
/// counter (`3f9a1c-1b`).
final class RequestIDGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    /// Creates a generator with a random process prefix.
    init() {
        prefix = String(UInt32.random(in: 0x10_0000...0xFF_FFFF), radix: 16)
    }

    /// The id for a request that sent `incoming` (its `X-Request-Id`, if any).
    func id(incoming: String?) -> String {
        if let incoming, (1...128).contains(incoming.utf8.count), incoming.utf8.allSatisfy(Self.isIDByte) {
            return incoming
        }
        let value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "-" + String(value, radix: 16)
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
            UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
