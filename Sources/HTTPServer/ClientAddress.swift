import Glibc

/// An IPv4 or IPv6 address as 128 bits (IPv4 and IPv4-mapped IPv6 both kept as IPv4).
struct IPAddress: Sendable, Equatable, CustomStringConvertible {
    /// The upper 64 address bits (0 for IPv4).
    var high: UInt64
    /// The lower 64 address bits; an IPv4 address sits in the low 32.
    var low: UInt64
    /// Whether this is an IPv4 address (or an IPv4-mapped IPv6 one).
    var isIPv4: Bool

    /// Parses a textual IPv4 or IPv6 address (no brackets, no port, no zone).
    init?(_ text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        let string = String(text)
        if string.contains(":") {
            var storage = in6_addr()
            guard inet_pton(AF_INET6, string, &storage) == 1 else { return nil }
            self.init(ipv6: storage)
        } else {
            var storage = in_addr()
            guard inet_pton(AF_INET, string, &storage) == 1 else { return nil }
            self.init(ipv4NetworkOrder: storage.s_addr)
        }
    }

    /// An IPv4 address from `in_addr.s_addr` (network byte order).
    init(ipv4NetworkOrder value: UInt32) {
        high = 0
        low = UInt64(UInt32(bigEndian: value))
        isIPv4 = true
    }

    /// An IPv6 address; IPv4-mapped ones (`::ffff:a.b.c.d`) become IPv4.
    init(ipv6 address: in6_addr) {
        var copy = address
        let bytes = withUnsafeBytes(of: &copy) { Array($0) }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
        for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
        if high == 0 && low >> 32 == 0xFFFF {
            self.high = 0
            self.low = low & 0xFFFF_FFFF
            self.isIPv4 = true
        } else {
            self.high = high
            self.low = low
            self.isIPv4 = false
        }
    }

    /// The address of a `sockaddr_storage` filled by `accept`, if it is IPv4 or IPv6.
    init?(_ storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            self.init(ipv4NetworkOrder: address.sin_addr.s_addr)
        case AF_INET6:
            let address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            self.init(ipv6: address.sin6_addr)
        default:
            return nil
        }
    }

    /// The canonical text form (`inet_ntop`).
    var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        if isIPv4 {
            var address = in_addr(s_addr: UInt32(truncatingIfNeeded: low).bigEndian)
            inet_ntop(AF_INET, &address, &buffer, 64)
        } else {
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { raw in
                for index in 0..<8 { raw[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index))) }
                for index in 0..<8 { raw[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(index))) }
            }
            inet_ntop(AF_INET6, &address, &buffer, 64)
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A CIDR block such as `10.0.0.0/8` or `::1/128`; a bare address is a block of one.
struct AddressBlock: Sendable, Equatable {
    /// The block's first address.
    var network: IPAddress
    /// How many leading bits must match.
    var prefixLength: Int

    /// Parses `address[/prefix]`.
    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let network = IPAddress(parts[0]) else { return nil }
        let maximum = network.isIPv4 ? 32 : 128
        var prefixLength = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 0, value <= maximum, parts[1].allSatisfy(\.isASCII) else {
                return nil
            }
            prefixLength = value
        }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// Whether `address` is inside the block.
    func contains(_ address: IPAddress) -> Bool {
        guard address.isIPv4 == network.isIPv4 else { return false }
        let bits = network.isIPv4 ? prefixLength + 96 : prefixLength
        let highMask: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : .max << (64 - UInt64(bits)))
        let lowBits = max(0, bits - 64)
        let lowMask: UInt64 = lowBits >= 64 ? .max : (lowBits == 0 ? 0 : .max << (64 - UInt64(lowBits)))
        return address.high & highMask == network.high & highMask && address.low & lowMask == network.low & lowMask
    }
}

/// Decides a request's client address: the peer's, or what a trusted proxy says it forwarded for.
struct ClientAddressResolver: Sendable {
    private let trusted: [AddressBlock]

    /// Creates a resolver that believes forwarding headers from peers inside `trustedProxies`.
    /// - Throws: ``HTTPServerError`` naming the entry that is not an address or CIDR block.
    init(trustedProxies: [String]) throws(HTTPServerError) {
        var blocks: [AddressBlock] = []
        for entry in trustedProxies {
            guard let block = AddressBlock(entry) else {
                throw HTTPServerError(
                    "trustedProxies entry \"\(entry)\" is not an IP address or CIDR block (e.g. 10.0.0.0/8, ::1/128)")
            }
            blocks.append(block)
        }
        trusted = blocks
    }

    /// Whether `address` is a trusted proxy.
    func isTrusted(_ address: IPAddress) -> Bool {
        trusted.contains { $0.contains(address) }
    }

    /// The client address for a request from `peer`.
    ///
    /// From an untrusted peer: the peer. From a trusted one: the rightmost `X-Forwarded-For` hop that is not
    /// itself a trusted proxy (hops are walked right to left; an unparsable hop stops the walk at the last good
    /// one), else `X-Real-IP` when it is an address, else the peer.
    func resolve(peer: IPAddress?, peerText: String, headers: HTTPHeaders) -> String {
        guard let peer, isTrusted(peer) else { return peerText }
        let forwarded = headers.values(for: "X-Forwarded-For")
        if !forwarded.isEmpty {
            var candidate = peerText
            let hops = forwarded.flatMap { $0.split(separator: ",") }
            for hop in hops.reversed() {
                let trimmed = hop.trimmingASCIIWhitespace
                guard let address = IPAddress(trimmed) else { return candidate }
                candidate = address.description
                if !isTrusted(address) { return candidate }
            }
            return candidate
        }
        if let real = headers["X-Real-IP"], let address = IPAddress(real.trimmingASCIIWhitespace) {
            return address.description
        }
        return peerText
    }
}

extension StringProtocol {
    /// This text without leading and trailing spaces and tabs.
    var trimmingASCIIWhitespace: Substring {
        let text = Substring(self)
        let start = text.firstIndex { $0 != " " && $0 != "\t" } ?? text.endIndex
        let end = text.lastIndex { $0 != " " && $0 != "\t" }.map { text.index(after: $0) } ?? start
        return text[start..<Swift.max(start, end)]
    }
}
