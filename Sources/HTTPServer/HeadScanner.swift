import Glibc

/// The request-head grammar (RFC 9112 §3, §5; RFC 9110 §5.5, §5.6.2) as a byte state machine that looks at
/// every byte once, however the input is split, and rejects as soon as a byte cannot belong to a valid head.
///
/// ```
/// request-line = method SP request-target SP HTTP-version CRLF
/// field-line   = field-name ":" OWS field-value OWS CRLF
/// field-name   = token; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
/// field-value  = *( VCHAR / obs-text / SP / HTAB ), without leading or trailing whitespace
/// ```
///
/// Positions are offsets from the first byte of the head, which stays in the caller's buffer until the head is
/// complete; the strings are made once, at the end.
struct HeadScanner {
    /// What the head says, once it has passed every check.
    struct ParsedHead {
        /// The method token.
        var method: String
        /// The request target as received.
        var target: String
        /// The path of an absolute-form target (`http://host/path?q` → `/path`), else `nil`.
        var absolutePath: String?
        /// 0 or 1.
        var minorVersion: Int
        /// The fields, trimmed, in order.
        var headers: HTTPHeaders
        /// The body length from `Content-Length`, if sent.
        var contentLength: Int?
        /// Whether the body is chunked.
        var chunked: Bool
        /// Whether the connection may carry another request.
        var keepAlive: Bool
        /// Whether the client waits for `100 Continue`.
        var expectsContinue: Bool
    }

    /// The result of scanning more bytes.
    enum Progress {
        /// Every byte so far is valid; the head is not complete.
        case needMore
        /// The head ends just before this offset (after its final CRLF).
        case complete(end: Int)
        /// The head is invalid.
        case failure(HTTPParseError)
    }

    private enum State {
        case method, target
        case version(Int)
        case requestLineFeed
        case lineStart, name, valueSpace, value
        case fieldLineFeed
        case endLineFeed
    }

    private struct FieldSpan {
        var nameStart: Int32, nameEnd: Int32, valueStart: Int32, valueEnd: Int32
    }

    private static let versionPrefix: [UInt8] = Array("HTTP/".utf8)

    private let maxHeadBytes: Int
    private let maxHeaderCount: Int
    private let requiresHost: Bool
    private var state: State = .method
    /// Offset of the next byte to look at.
    private(set) var scanned = 0
    private var methodEnd = 0
    private var targetEnd = 0
    private var minorVersion = 1
    private var nameStart = 0, nameEnd = 0, valueStart = 0, valueEnd = 0
    private var fields: [FieldSpan] = []
    private var framing = Framing()

    /// Creates a scanner for heads within `limits`.
    init(limits: HTTPRequestParser.Limits) {
        self.maxHeadBytes = limits.maxHeadBytes
        self.maxHeaderCount = limits.maxHeaderCount
        self.requiresHost = limits.requiresHost
        fields.reserveCapacity(16)
    }

    /// Whether nothing of a head has been seen yet.
    var isAtStart: Bool { scanned == 0 }

    /// Forgets the current head, keeping buffers, to scan the next one.
    mutating func reset() {
        state = .method
        scanned = 0
        minorVersion = 1
        fields.removeAll(keepingCapacity: true)
        framing = Framing()
    }

    /// Looks at the bytes of `head` (which starts at the head's first byte) from ``scanned`` on.
    mutating func scan(_ head: UnsafeBufferPointer<UInt8>) -> Progress {
        var index = scanned
        defer { scanned = index }
        while index < head.count {
            if index >= maxHeadBytes {
                if case .target = state { return .failure(.targetTooLong) }
                return .failure(.headTooLarge)
            }
            let byte = head[index]
            switch state {
            case .method:
                if isTokenByte(byte) { break }
                guard byte == .space, index > 0 else { return .failure(.invalidMethod) }
                methodEnd = index
                if let error = Self.checkMethod(UnsafeBufferPointer(rebasing: head[0..<index])) {
                    return .failure(error)
                }
                state = .target
            case .target:
                if byte >= 0x21 && byte <= 0x7E { break }
                guard byte == .space, index > methodEnd + 1 else { return .failure(.invalidTarget) }
                targetEnd = index
                state = .version(0)
            case .version(let position):
                switch position {
                case 0..<5:
                    guard byte == Self.versionPrefix[position] else { return .failure(.invalidVersion) }
                case 5:
                    guard isDigit(byte) else { return .failure(.invalidVersion) }
                    guard byte == UInt8(ascii: "1") else { return .failure(.versionNotSupported) }
                case 6:
                    guard byte == UInt8(ascii: ".") else { return .failure(.invalidVersion) }
                case 7:
                    guard isDigit(byte) else { return .failure(.invalidVersion) }
                    guard byte <= UInt8(ascii: "1") else { return .failure(.versionNotSupported) }
                    minorVersion = Int(byte - UInt8(ascii: "0"))
                default:
                    guard byte == .cr else { return .failure(.invalidVersion) }
                    state = .requestLineFeed
                    index += 1
                    continue
                }
                state = .version(position + 1)
            case .requestLineFeed, .fieldLineFeed, .endLineFeed:
                guard byte == .lf else { return .failure(.bareCarriageReturn) }
                index += 1
                switch state {
                case .endLineFeed:
                    return .complete(end: index)
                case .fieldLineFeed:
                    let name = UnsafeBufferPointer(rebasing: head[nameStart..<nameEnd])
                    let value = UnsafeBufferPointer(rebasing: head[valueStart..<valueEnd])
                    if let error = framing.note(name: name, value: value) { return .failure(error) }
                    fields.append(
                        FieldSpan(
                            nameStart: Int32(nameStart), nameEnd: Int32(nameEnd), valueStart: Int32(valueStart),
                            valueEnd: Int32(valueEnd)))
                default:
                    break
                }
                state = .lineStart
                continue
            case .lineStart:
                if byte == .cr {
                    state = .endLineFeed
                } else if isTokenByte(byte) {
                    guard fields.count < maxHeaderCount else { return .failure(.tooManyHeaders) }
                    nameStart = index
                    state = .name
                } else if byte == .space || byte == .tab {
                    return .failure(.obsFold)
                } else if byte == .lf {
                    return .failure(.bareLineFeed)
                } else {
                    return .failure(.invalidHeaderName)
                }
            case .name:
                if isTokenByte(byte) { break }
                if byte == .colon {
                    nameEnd = index
                    state = .valueSpace
                } else if byte == .space || byte == .tab {
                    return .failure(.whitespaceBeforeColon)
                } else {
                    return .failure(.invalidHeaderName)
                }
            case .valueSpace:
                if byte == .space || byte == .tab { break }
                valueStart = index
                valueEnd = index
                if byte == .cr {
                    state = .fieldLineFeed
                } else if isFieldValueByte(byte) {
                    valueEnd = index + 1
                    state = .value
                } else {
                    return .failure(byte == .lf ? .bareLineFeed : .invalidHeaderValue)
                }
            case .value:
                if byte == .cr {
                    state = .fieldLineFeed
                } else if isFieldValueByte(byte) {
                    if byte != .space && byte != .tab { valueEnd = index + 1 }
                } else {
                    return .failure(byte == .lf ? .bareLineFeed : .invalidHeaderValue)
                }
            }
            index += 1
        }
        return .needMore
    }

    /// The parsed head, from the complete head bytes; fails when the fields together are invalid.
    func finish(_ head: UnsafeBufferPointer<UInt8>) -> Result<ParsedHead, HTTPParseError> {
        let method = String(decoding: UnsafeBufferPointer(rebasing: head[0..<methodEnd]), as: UTF8.self)
        let targetBytes = UnsafeBufferPointer(rebasing: head[(methodEnd + 1)..<targetEnd])
        var absolutePath: String?
        switch Self.targetForm(targetBytes) {
        case .origin: break
        case .asterisk: if method != "OPTIONS" { return .failure(.invalidTarget) }
        case .absolute(let pathStart):
            absolutePath =
                pathStart.map { start in
                    let rest = UnsafeBufferPointer(rebasing: targetBytes[start...])
                    let end = rest.firstIndex(of: UInt8(ascii: "?")) ?? rest.endIndex
                    return String(decoding: UnsafeBufferPointer(rebasing: rest[rest.startIndex..<end]), as: UTF8.self)
                } ?? "/"
        case .invalid: return .failure(.invalidTarget)
        }
        let decision: Framing.Decision
        switch framing.finish(minorVersion: minorVersion, requiresHost: requiresHost) {
        case .failure(let error): return .failure(error)
        case .success(let decided): decision = decided
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count)
        for field in fields {
            headers.add(
                name: String(
                    decoding: UnsafeBufferPointer(rebasing: head[Int(field.nameStart)..<Int(field.nameEnd)]),
                    as: UTF8.self),
                value: String(
                    decoding: UnsafeBufferPointer(rebasing: head[Int(field.valueStart)..<Int(field.valueEnd)]),
                    as: UTF8.self)
            )
        }
        return .success(
            ParsedHead(
                method: method, target: String(decoding: targetBytes, as: UTF8.self), absolutePath: absolutePath,
                minorVersion: minorVersion, headers: headers, contentLength: decision.contentLength,
                chunked: decision.chunked, keepAlive: decision.keepAlive, expectsContinue: decision.expectsContinue
            ))
    }

    /// Methods served: the RFC 9110 set a webhook listener needs. CONNECT is refused (405), others are 501.
    private static func checkMethod(_ method: UnsafeBufferPointer<UInt8>) -> HTTPParseError? {
        let known: [StaticString] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
        for name in known where equalsExactly(method, name) { return nil }
        return equalsExactly(method, "CONNECT") ? .connectRefused : .methodNotImplemented
    }

    // MARK: - Request target (RFC 9112 §3.2)

    private enum TargetForm {
        case origin
        case asterisk
        /// `scheme://authority[path]`; the index where the path starts, or `nil` when there is none.
        case absolute(pathStart: Int?)
        case invalid
    }

    private static func targetForm(_ target: UnsafeBufferPointer<UInt8>) -> TargetForm {
        if target[0] == UInt8(ascii: "/") { return .origin }
        if target.count == 1 && target[0] == UInt8(ascii: "*") { return .asterisk }
        for scheme: StaticString in ["http://", "https://"] where target.count > scheme.utf8CodeUnitCount {
            let prefix = UnsafeBufferPointer(rebasing: target[0..<scheme.utf8CodeUnitCount])
            if equalsLowercase(prefix, scheme) {
                let path = target[scheme.utf8CodeUnitCount...].firstIndex(of: UInt8(ascii: "/"))
                return .absolute(pathStart: path)
            }
        }
        return .invalid
    }
}

/// Gathers the framing-relevant fields of one head and decides the body length and persistence from them.
private struct Framing {
    var contentLengths = 0
    var contentLength: Int?
    var transferEncodings = 0
    var transferEncodingError: HTTPParseError?
    var chunked = false
    var hosts = 0
    var hostValid = true
    var connectionClose = false
    var connectionKeepAlive = false
    var upgrade = false
    var expectation: Expectation = .none

    enum Expectation { case none, hundredContinue, unsupported }

    struct Decision {
        var contentLength: Int?
        var chunked: Bool
        var keepAlive: Bool
        var expectsContinue: Bool
    }

    /// Notes one field; returns an error that makes the request invalid whatever else it says.
    mutating func note(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> HTTPParseError? {
        switch name.count {
        case 4 where equalsLowercase(name, "host"):
            hosts += 1
            hostValid = hostValid && isValidHost(value)
        case 6 where equalsLowercase(name, "expect"):
            if equalsLowercase(value, "100-continue") {
                if expectation == .none { expectation = .hundredContinue }
            } else {
                expectation = .unsupported
            }
        case 7 where equalsLowercase(name, "upgrade"):
            upgrade = true
        case 10 where equalsLowercase(name, "connection"):
            for option in listElements(value) {
                if equalsLowercase(option, "close") {
                    connectionClose = true
                } else if equalsLowercase(option, "keep-alive") {
                    connectionKeepAlive = true
                }
            }
        case 14 where equalsLowercase(name, "content-length"):
            contentLengths += 1
            if contentLengths > 1 { return .duplicateContentLength }
            if transferEncodings > 0 { return .contentLengthWithTransferEncoding }
            guard let length = parseDecimal(value) else { return .invalidContentLength }
            contentLength = length
        case 17 where equalsLowercase(name, "transfer-encoding"):
            transferEncodings += 1
            if contentLengths > 0 { return .contentLengthWithTransferEncoding }
            if transferEncodings > 1 {
                transferEncodingError = .invalidTransferEncoding
                break
            }
            if equalsLowercase(value, "chunked") {
                chunked = true
                break
            }
            let codings = listElements(value, keepEmpty: true)
            guard let last = codings.last, equalsLowercase(last, "chunked") else {
                transferEncodingError = .transferEncodingNotChunkedLast
                break
            }
            let knownCodings: [StaticString] = ["gzip", "deflate", "compress", "x-gzip", "x-compress"]
            let known = codings.dropLast().allSatisfy { coding in
                knownCodings.contains { equalsLowercase(coding, $0) }
            }
            transferEncodingError = known ? .unsupportedTransferCoding : .invalidTransferEncoding
        default:
            break
        }
        return nil
    }

    /// Decides framing and persistence (RFC 9112 §6.3, §9.3) once every field has been seen.
    func finish(minorVersion: Int, requiresHost: Bool) -> Result<Decision, HTTPParseError> {
        if transferEncodings > 0 {
            if contentLengths > 0 { return .failure(.contentLengthWithTransferEncoding) }
            if minorVersion == 0 { return .failure(.transferEncodingInHTTP10) }
            if let transferEncodingError { return .failure(transferEncodingError) }
        }
        if upgrade { return .failure(.upgradeRefused) }
        if minorVersion == 1 && requiresHost {
            if hosts != 1 { return .failure(.missingHost) }
        } else if hosts > 1 {
            return .failure(.missingHost)
        }
        if !hostValid { return .failure(.invalidHost) }
        if expectation == .unsupported { return .failure(.expectationFailed) }
        let keepAlive = minorVersion == 1 ? !connectionClose : (connectionKeepAlive && !connectionClose)
        return .success(
            Decision(
                contentLength: contentLength, chunked: chunked, keepAlive: keepAlive,
                expectsContinue: expectation == .hundredContinue && minorVersion == 1
            ))
    }
}

// MARK: - Byte classes and small scanners

extension UInt8 {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let comma: UInt8 = 0x2C
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let backslash: UInt8 = 0x5C
}

/// tchar (RFC 9110 §5.6.2).
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
    case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
    default: false
    }
}

/// A byte allowed in a field value: HTAB, SP, VCHAR, obs-text. NUL, CR, LF, other CTLs and DEL are not.
func isFieldValueByte(_ byte: UInt8) -> Bool {
    byte == .tab || (byte >= .space && byte != 0x7F)
}

func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x46: byte - 0x41 + 10
    case 0x61...0x66: byte - 0x61 + 10
    default: nil
    }
}

/// `1*DIGIT`, at most 18 digits so it cannot overflow; nothing else (no sign, space or list).
private func parseDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
    var value = 0
    for byte in bytes {
        guard isDigit(byte) else { return nil }
        value = value * 10 + Int(byte - 0x30)
    }
    return value
}

/// Whether `bytes` equal `literal` exactly (methods are case-sensitive).
func equalsExactly(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
    guard bytes.count == literal.utf8CodeUnitCount else { return false }
    return memcmp(bytes.baseAddress!, literal.utf8Start, bytes.count) == 0
}

/// Whether `bytes` equal the lower-case ASCII `literal`, ignoring ASCII case.
func equalsLowercase(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
    guard bytes.count == literal.utf8CodeUnitCount else { return false }
    let expected = literal.utf8Start
    for offset in 0..<bytes.count {
        var byte = bytes[offset]
        if byte >= 0x41 && byte <= 0x5A { byte |= 0x20 }
        if byte != expected[offset] { return false }
    }
    return true
}

/// The elements of a comma-separated list value, each without surrounding whitespace. Empty elements are
/// dropped (RFC 9110 §5.6.1) unless `keepEmpty` (Transfer-Encoding, where `,chunked` is a smuggling vector).
private func listElements(_ value: UnsafeBufferPointer<UInt8>, keepEmpty: Bool = false) -> [UnsafeBufferPointer<UInt8>]
{
    var elements: [UnsafeBufferPointer<UInt8>] = []
    var start = 0
    for index in 0...value.count where index == value.count || value[index] == .comma {
        var lower = start
        var upper = index
        while lower < upper, value[lower] == .space || value[lower] == .tab { lower += 1 }
        while upper > lower, value[upper - 1] == .space || value[upper - 1] == .tab { upper -= 1 }
        if upper > lower || keepEmpty { elements.append(UnsafeBufferPointer(rebasing: value[lower..<upper])) }
        start = index + 1
    }
    return elements
}

/// `uri-host [ ":" port ]` loosely: reg-name, IPv4 or bracketed IPv6 characters, and an optional port.
private func isValidHost(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
    for byte in value {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: continue
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"),
            UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "%"), UInt8(ascii: "!"), UInt8(ascii: "$"),
            UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            continue
        default: return false
        }
    }
    return true
}
