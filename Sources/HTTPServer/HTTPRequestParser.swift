/// A strict, incremental HTTP/1.1 request parser over bytes (RFC 9112, with the policy of
/// `http-conformance.md` §2).
///
/// Feed it the unconsumed bytes of a connection, drop the `consumed` prefix it reports, and feed the rest plus
/// anything new on the next call. Head bytes are not consumed until the whole head has arrived: the
/// ``HeadScanner`` looks at each byte once as it arrives (remembering where it stopped, as picohttpparser's
/// `last_len` does) and rejects at the first byte that cannot belong to a valid head; the strings are made once
/// from the contiguous head. Body bytes are consumed as they are copied out. The result does not depend on how
/// the input was split.
///
/// Policy highlights: lines end in CRLF only; exactly one SP between request-line parts; only HTTP/1.1 and
/// HTTP/1.0; no obs-fold, no whitespace before a colon, no CTLs in fields; `Content-Length` is one field of
/// digits; `Transfer-Encoding` is exactly `chunked`; both together are refused; HTTP/1.1 needs exactly one
/// `Host`; `Upgrade` and `CONNECT` are refused. After a message that closes the connection, any further byte
/// is an error.
struct HTTPRequestParser {
    /// The parser's limits (see ``HTTPServerConfiguration`` for meaning and defaults).
    struct Limits: Sendable {
        /// See ``HTTPServerConfiguration/maxHeadBytes``.
        var maxHeadBytes: Int
        /// See ``HTTPServerConfiguration/maxHeaderCount``.
        var maxHeaderCount: Int
        /// See ``HTTPServerConfiguration/maxBodyBytes``.
        var maxBodyBytes: Int
        /// See ``HTTPServerConfiguration/maxChunkExtensionBytes``.
        var maxChunkExtensionBytes: Int
        /// Whether an HTTP/1.1 request must carry exactly one Host (RFC 9112 §3.2). Always true in the server;
        /// tests turn it off to compare the rest of the grammar with parsers that do not check it.
        var requiresHost = true
    }

    /// What one call to ``parse(_:)`` produced.
    enum Step {
        /// Every input byte has been looked at; more are needed.
        case needMore
        /// The head of a request with a body was accepted; the body follows. `expectsContinue` is true when the
        /// client sent `Expect: 100-continue` (HTTP/1.1) and waits for a 100 before sending the body.
        case headComplete(expectsContinue: Bool)
        /// A whole request. `keepAlive` tells whether the connection may carry another one.
        case request(HTTPRequest, keepAlive: Bool)
        /// The input is invalid; answer the error and close.
        case failure(HTTPParseError)
    }

    private enum ChunkState {
        case size(digits: Int, value: Int)
        /// Optional whitespace after a `;`, an extension name or an extension value.
        case extensionSpace(after: ExtensionPart)
        /// Inside an extension name or a token value.
        case extensionWord(isName: Bool)
        case extensionValueStart
        case extensionQuoted(escaped: Bool)
        case sizeLineFeed
        case data(remaining: Int)
        case dataCarriageReturn
        case dataLineFeed
        case trailerLineStart
        case trailerName
        case trailerValue
        case trailerLineFeed(lastLine: Bool)
    }

    private enum ExtensionPart { case semicolon, name, value }

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunked(ChunkState)
        case closed
        case failed
    }

    private let limits: Limits
    private var state: State = .head
    private var head: HeadScanner
    private var pending: HTTPRequest?
    private var pendingKeepAlive = true
    private var leadingEmptyLines = 0
    private var chunkExtensionBytes = 0
    private var trailerBytes = 0
    private var trailerLines = 0
    private var chunkSize = 0

    /// Creates a parser enforcing `limits`.
    init(limits: Limits) {
        self.limits = limits
        self.head = HeadScanner(limits: limits)
    }

    /// Whether the parser is between messages with nothing of the next one seen yet.
    var isIdle: Bool {
        if case .head = state, head.isAtStart, leadingEmptyLines == 0 { return true }
        return false
    }

    /// Whether a request's body is being read (its head was accepted).
    var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunked: true
        default: false
        }
    }

    /// Parses as much of `input` as it can.
    /// - Parameter input: The connection's unconsumed bytes.
    /// - Returns: How many leading bytes of `input` are consumed (drop them before the next call) and what
    ///   was found.
    mutating func parse(_ input: UnsafeBufferPointer<UInt8>) -> (consumed: Int, step: Step) {
        switch state {
        case .failed:
            return (0, .failure(.dataAfterClose))
        case .closed:
            if input.isEmpty { return (0, .needMore) }
            state = .failed
            return (0, .failure(.dataAfterClose))
        case .head:
            return parseHead(input)
        case .fixedBody(let remaining):
            let take = min(remaining, input.count)
            pending!.body.append(contentsOf: UnsafeBufferPointer(rebasing: input[0..<take]))
            if take == remaining { return (take, finishMessage()) }
            state = .fixedBody(remaining: remaining - take)
            return (take, .needMore)
        case .chunked(let chunkState):
            return parseChunked(input, chunkState)
        }
    }

    // MARK: - Head

    private mutating func fail(_ error: HTTPParseError) -> Step {
        state = .failed
        pending = nil
        return .failure(error)
    }

    private mutating func parseHead(_ input: UnsafeBufferPointer<UInt8>) -> (consumed: Int, step: Step) {
        var consumed = 0
        // RFC 9112 §2.2: ignore at least one empty line before the request line; allow two, no more.
        if head.isAtStart {
            while consumed < input.count, input[consumed] == .cr || input[consumed] == .lf {
                if input[consumed] == .lf { return (consumed, fail(.bareLineFeed)) }
                guard consumed + 1 < input.count else { return (consumed, .needMore) }
                guard input[consumed + 1] == .lf else { return (consumed, fail(.bareCarriageReturn)) }
                leadingEmptyLines += 1
                if leadingEmptyLines > 2 { return (consumed, fail(.tooManyLeadingEmptyLines)) }
                consumed += 2
            }
        }
        let bytes = UnsafeBufferPointer(rebasing: input[consumed...])
        switch head.scan(bytes) {
        case .needMore:
            return (consumed, .needMore)
        case .failure(let error):
            return (consumed, fail(error))
        case .complete(let end):
            let step = acceptHead(UnsafeBufferPointer(rebasing: bytes[0..<end]))
            return (consumed + end, step)
        }
    }

    /// Turns a complete, byte-valid head into a request and sets up the body.
    private mutating func acceptHead(_ bytes: UnsafeBufferPointer<UInt8>) -> Step {
        let result = head.finish(bytes)
        head.reset()
        leadingEmptyLines = 0
        switch result {
        case .failure(let error):
            return fail(error)
        case .success(let parsed):
            if let length = parsed.contentLength, length > limits.maxBodyBytes { return fail(.bodyTooLarge) }
            var request = HTTPRequest(
                method: parsed.method, target: parsed.target, minorVersion: parsed.minorVersion, headers: parsed.headers
            )
            if let path = parsed.absolutePath { request.path = path }
            pending = request
            pendingKeepAlive = parsed.keepAlive
            if parsed.chunked {
                chunkExtensionBytes = 0
                state = .chunked(.size(digits: 0, value: 0))
                return .headComplete(expectsContinue: parsed.expectsContinue)
            }
            if let length = parsed.contentLength, length > 0 {
                pending!.body.reserveCapacity(length)
                state = .fixedBody(remaining: length)
                return .headComplete(expectsContinue: parsed.expectsContinue)
            }
            return finishMessage()
        }
    }

    private mutating func finishMessage() -> Step {
        let request = pending!
        pending = nil
        state = pendingKeepAlive ? .head : .closed
        return .request(request, keepAlive: pendingKeepAlive)
    }

    // MARK: - Chunked body (RFC 9112 §7.1)

    private mutating func parseChunked(_ input: UnsafeBufferPointer<UInt8>, _ start: ChunkState) -> (
        consumed: Int, step: Step
    ) {
        var chunk = start
        var index = 0
        let count = input.count
        while index < count {
            if case .data(let remaining) = chunk {
                let take = min(remaining, count - index)
                pending!.body.append(contentsOf: UnsafeBufferPointer(rebasing: input[index..<(index + take)]))
                index += take
                chunk = take == remaining ? .dataCarriageReturn : .data(remaining: remaining - take)
                continue
            }
            let byte = input[index]
            index += 1
            switch chunk {
            case .size(let digits, let value):
                if let digit = hexDigitValue(byte) {
                    guard digits < 16 else { return (index, fail(.invalidChunkSize)) }
                    let next = value &* 16 &+ Int(digit)
                    if next > limits.maxBodyBytes - pending!.body.count { return (index, fail(.bodyTooLarge)) }
                    chunk = .size(digits: digits + 1, value: next)
                    chunkSize = next
                } else if digits > 0 && byte == .semicolon {
                    chunk = .extensionSpace(after: .semicolon)
                } else if digits > 0 && byte == .cr {
                    chunk = .sizeLineFeed
                } else {
                    return (index, fail(.invalidChunkSize))
                }
            case .extensionSpace(let after):
                // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112 §7.1.1)
                guard countExtensionByte() else { return (index, fail(.invalidChunkExtension)) }
                if byte == .space || byte == .tab { continue }
                switch (after, byte) {
                case (.semicolon, _) where isTokenByte(byte): chunk = .extensionWord(isName: true)
                case (.name, .equals): chunk = .extensionValueStart
                case (.name, .semicolon), (.value, .semicolon): chunk = .extensionSpace(after: .semicolon)
                case (.name, .cr), (.value, .cr): chunk = .sizeLineFeed
                default: return (index, fail(.invalidChunkExtension))
                }
            case .extensionWord(let isName):
                guard countExtensionByte() else { return (index, fail(.invalidChunkExtension)) }
                if isTokenByte(byte) { continue }
                if byte == .space || byte == .tab {
                    chunk = .extensionSpace(after: isName ? .name : .value)
                } else if byte == .semicolon {
                    chunk = .extensionSpace(after: .semicolon)
                } else if isName && byte == .equals {
                    chunk = .extensionValueStart
                } else if byte == .cr {
                    chunk = .sizeLineFeed
                } else {
                    return (index, fail(.invalidChunkExtension))
                }
            case .extensionValueStart:
                guard countExtensionByte() else { return (index, fail(.invalidChunkExtension)) }
                if byte == .space || byte == .tab { continue }
                if byte == .quote {
                    chunk = .extensionQuoted(escaped: false)
                } else if isTokenByte(byte) {
                    chunk = .extensionWord(isName: false)
                } else {
                    return (index, fail(.invalidChunkExtension))
                }
            case .extensionQuoted(let escaped):
                guard countExtensionByte() else { return (index, fail(.invalidChunkExtension)) }
                // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4)
                guard byte == .tab || (byte >= .space && byte != 0x7F) else {
                    return (index, fail(.invalidChunkExtension))
                }
                if escaped {
                    chunk = .extensionQuoted(escaped: false)
                } else if byte == .backslash {
                    chunk = .extensionQuoted(escaped: true)
                } else if byte == .quote {
                    chunk = .extensionSpace(after: .value)
                }
            case .sizeLineFeed:
                guard byte == .lf else { return (index, fail(.invalidChunkSize)) }
                chunkExtensionBytes = 0
                if chunkSize == 0 {
                    trailerBytes = 0
                    trailerLines = 0
                    chunk = .trailerLineStart
                } else {
                    chunk = .data(remaining: chunkSize)
                }
            case .data:
                preconditionFailure("handled above")
            case .dataCarriageReturn:
                guard byte == .cr else { return (index, fail(.invalidChunkData)) }
                chunk = .dataLineFeed
            case .dataLineFeed:
                guard byte == .lf else { return (index, fail(.invalidChunkData)) }
                chunk = .size(digits: 0, value: 0)
            case .trailerLineStart:
                guard countTrailerByte() else { return (index, fail(.headTooLarge)) }
                if byte == .cr {
                    chunk = .trailerLineFeed(lastLine: true)
                } else if isTokenByte(byte) {
                    trailerLines += 1
                    guard trailerLines <= limits.maxHeaderCount else { return (index, fail(.tooManyHeaders)) }
                    chunk = .trailerName
                } else {
                    return (index, fail(.invalidTrailer))
                }
            case .trailerName:
                guard countTrailerByte() else { return (index, fail(.headTooLarge)) }
                if byte == .colon {
                    chunk = .trailerValue
                } else if !isTokenByte(byte) {
                    return (index, fail(.invalidTrailer))
                }
            case .trailerValue:
                guard countTrailerByte() else { return (index, fail(.headTooLarge)) }
                if byte == .cr {
                    chunk = .trailerLineFeed(lastLine: false)
                } else if !isFieldValueByte(byte) {
                    return (index, fail(.invalidTrailer))
                }
            case .trailerLineFeed(let lastLine):
                guard byte == .lf else { return (index, fail(.invalidTrailer)) }
                if lastLine {
                    return (index, finishMessage())
                }
                chunk = .trailerLineStart
            }
        }
        state = .chunked(chunk)
        return (index, .needMore)
    }

    private mutating func countExtensionByte() -> Bool {
        chunkExtensionBytes += 1
        return chunkExtensionBytes <= limits.maxChunkExtensionBytes
    }

    private mutating func countTrailerByte() -> Bool {
        trailerBytes += 1
        return trailerBytes <= limits.maxHeadBytes
    }
}
