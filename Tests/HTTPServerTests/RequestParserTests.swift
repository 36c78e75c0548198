import Testing

@testable import HTTPServer

/// One parser case: raw bytes and the status they must be refused with, or `nil` when they must parse.
struct ParserCase: CustomTestStringConvertible, Sendable {
    var name: String
    var input: [UInt8]
    var status: Int?

    init(_ name: String, _ text: String, _ status: Int?) {
        self.name = name
        self.input = Array(text.utf8)
        self.status = status
    }

    var testDescription: String { name }
}

private let host = "Host: h\r\n"

/// The smuggling and strictness checklist of http-conformance.md §1.10 and §2, as our own table.
private let checklist: [ParserCase] = [
    // Content-Length
    .init(
        "duplicate Content-Length with equal values",
        "POST / HTTP/1.1\r\n\(host)Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
    .init("Content-Length list", "POST / HTTP/1.1\r\n\(host)Content-Length: 5, 5\r\n\r\nhello", 400),
    .init("Content-Length with plus sign", "POST / HTTP/1.1\r\n\(host)Content-Length: +5\r\n\r\nhello", 400),
    .init("negative Content-Length", "POST / HTTP/1.1\r\n\(host)Content-Length: -1\r\n\r\n", 400),
    .init("hex Content-Length", "POST / HTTP/1.1\r\n\(host)Content-Length: 0x5\r\n\r\nhello", 400),
    .init("Content-Length with inner space", "POST / HTTP/1.1\r\n\(host)Content-Length: 5 5\r\n\r\nhello", 400),
    .init("empty Content-Length", "POST / HTTP/1.1\r\n\(host)Content-Length:\r\n\r\n", 400),
    .init("19-digit Content-Length", "POST / HTTP/1.1\r\n\(host)Content-Length: 1000000000000000000\r\n\r\n", 400),
    .init("Content-Length above the body limit", "POST / HTTP/1.1\r\n\(host)Content-Length: 2000000\r\n\r\n", 413),
    .init(
        "Content-Length with surrounding OWS is trimmed", "POST / HTTP/1.1\r\n\(host)Content-Length:  5 \r\n\r\nhello",
        nil),
    .init("leading zeros are digits", "POST / HTTP/1.1\r\n\(host)Content-Length: 005\r\n\r\nhello", nil),
    // Transfer-Encoding
    .init(
        "CL and TE", "POST / HTTP/1.1\r\n\(host)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    .init(
        "TE and CL", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
    .init("chunked twice", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
    .init(
        "empty element before chunked", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", 400),
    .init("identity", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: identity\r\n\r\n", 400),
    .init(
        "chunked then identity", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
    .init("xchunked", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
    .init("quoted chunked", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400),
    .init("chunked with a parameter", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", 400),
    .init("gzip then chunked", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    .init(
        "two TE fields",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    .init("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    .init(
        "vertical tab after chunked", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\u{0B}\r\n\r\n0\r\n\r\n", 400
    ),
    .init(
        "space before the colon of TE", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    .init("obs-fold before TE value", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
    .init(
        "TE name with underscore is just another field", "GET / HTTP/1.1\r\n\(host)Transfer_Encoding: chunked\r\n\r\n",
        nil),
    .init("upper-case CHUNKED", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n", nil),
    // chunk framing
    .init(
        "chunk size with 0x", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        400),
    .init(
        "chunk size with plus", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
        400),
    .init(
        "chunk size with leading space",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", 400),
    .init(
        "chunk size with trailing space",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", 400),
    .init(
        "empty chunk size", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n", 400),
    .init(
        "17 hex digits",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n", 400),
    .init("huge chunk size", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\nffffffffffff\r\n", 413),
    .init(
        "bare LF after chunk size", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        400),
    .init(
        "chunk data too long", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n",
        400),
    .init(
        "bare LF after chunk data", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
        400),
    .init(
        "second = after an extension value",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5;a=b =c\r\nhello\r\n0\r\n\r\n", 400),
    .init(
        "semicolon without extension name",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n", 400),
    .init(
        "CR inside a quoted extension",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5;a=\"x\ry\"\r\nhello\r\n0\r\n\r\n", 400),
    .init(
        "overlong extension",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5;a=\(String(repeating: "b", count: 300))\r\nhello\r\n0\r\n\r\n",
        400),
    .init(
        "extensions with BWS and quotes",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5; a = \"q\\\"x\" ; b\r\nhello\r\n0;c=d\r\n\r\n",
        nil),
    .init("bare LF in a trailer", "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n", 400),
    .init(
        "trailer with space before colon",
        "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n0\r\nX : y\r\n\r\n", 400),
    // field lines
    .init("obs-fold", "GET / HTTP/1.1\r\n\(host)X: a\r\n b\r\n\r\n", 400),
    .init("whitespace before the first field", "GET / HTTP/1.1\r\n \(host)\r\n", 400),
    .init("space inside a name", "GET / HTTP/1.1\r\n\(host)X Y: a\r\n\r\n", 400),
    .init("empty name", "GET / HTTP/1.1\r\n\(host): a\r\n\r\n", 400),
    .init("non-token byte in a name", "GET / HTTP/1.1\r\n\(host)X(y): a\r\n\r\n", 400),
    .init("NUL in a value", "GET / HTTP/1.1\r\n\(host)X: a\u{0}b\r\n\r\n", 400),
    .init("DEL in a value", "GET / HTTP/1.1\r\n\(host)X: a\u{7F}b\r\n\r\n", 400),
    .init("bare CR in a value", "GET / HTTP/1.1\r\n\(host)X: a\rb\r\n\r\n", 400),
    .init("bare LF ending a field", "GET / HTTP/1.1\r\n\(host)X: a\n\r\n", 400),
    .init("bare LF ending the head", "GET / HTTP/1.1\r\n\(host)\n", 400),
    .init("tab and obs-text in a value are kept", "GET / HTTP/1.1\r\n\(host)X: a\tb\u{A0}\r\n\r\n", nil),
    .init("missing Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400),
    .init("two Host fields", "GET / HTTP/1.1\r\n\(host)\(host)\r\n", 400),
    .init("Host with a space inside", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    .init("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", nil),
    .init("unknown Expect", "POST / HTTP/1.1\r\n\(host)Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417),
    .init("Upgrade header", "GET / HTTP/1.1\r\n\(host)Connection: upgrade\r\nUpgrade: h2c\r\n\r\n", 400),
    // request line
    .init("two spaces after the method", "GET  / HTTP/1.1\r\n\(host)\r\n", 400),
    .init("tab as separator", "GET\t/ HTTP/1.1\r\n\(host)\r\n", 400),
    .init("space after the version", "GET / HTTP/1.1 \r\n\(host)\r\n", 400),
    .init("lower-case http", "GET / http/1.1\r\n\(host)\r\n", 400),
    .init("HTTP/1.01", "GET / HTTP/1.01\r\n\(host)\r\n", 400),
    .init("HTTP/2.0", "GET / HTTP/2.0\r\n\(host)\r\n", 505),
    .init("HTTP/1.2", "GET / HTTP/1.2\r\n\(host)\r\n", 505),
    .init("HTTP/0.9 style", "GET /\r\n\r\n", 400),
    .init("lower-case method", "get / HTTP/1.1\r\n\(host)\r\n", 501),
    .init("CONNECT", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", 405),
    .init("UTF-8 in the target", "GET /caf\u{E9} HTTP/1.1\r\n\(host)\r\n", 400),
    .init("relative target", "GET foo HTTP/1.1\r\n\(host)\r\n", 400),
    .init("asterisk with GET", "GET * HTTP/1.1\r\n\(host)\r\n", 400),
    .init("asterisk with OPTIONS", "OPTIONS * HTTP/1.1\r\n\(host)\r\n", nil),
    .init("absolute form", "GET http://h/p?q HTTP/1.1\r\n\(host)\r\n", nil),
    .init("two leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\n\(host)\r\n", nil),
    .init("three leading empty lines", "\r\n\r\n\r\nGET / HTTP/1.1\r\n\(host)\r\n", 400),
    .init("leading bare LF", "\nGET / HTTP/1.1\r\n\(host)\r\n", 400),
    // after close
    .init(
        "bytes after Connection: close",
        "GET / HTTP/1.1\r\n\(host)Connection: close\r\n\r\nGET / HTTP/1.1\r\n\(host)\r\n", 400),
]

@Suite("HTTPRequestParser")
struct RequestParserTests {
    @Test("strictness and smuggling checklist; same verdict whole, byte by byte and split", arguments: checklist)
    func checklistCase(_ testCase: ParserCase) {
        let whole = ParserDriver.whole(testCase.input)
        #expect(whole.error?.status == testCase.status, "\(whole)")
        if testCase.status == nil { #expect(whole.requests.count >= 1) }
        #expect(ParserDriver.byteByByte(testCase.input) == whole)
        for offset in 1..<testCase.input.count {
            let split = ParserDriver.split(testCase.input, at: offset)
            if split != whole {
                Issue.record("split at \(offset): \(split) vs whole \(whole)")
                break
            }
        }
    }

    @Test("a valid request's fields come out trimmed, in order, with the body")
    func validRequestFieldsAreParsed() throws {
        let input = Array(
            "POST /hooks/x?a=1 HTTP/1.1\r\nHost: h\r\nX-Sig:  abc \t\r\nX-Sig: def\r\nContent-Length: 4\r\n\r\nbody"
                .utf8)
        let requests = ParserDriver.whole(input).requests
        try #require(requests.count == 1)
        var parser = HTTPRequestParser(limits: HTTPServerConfiguration().parserLimits)
        let (_, step) = input.withUnsafeBufferPointer { parser.parse($0) }
        guard case .headComplete = step else {
            Issue.record("expected headComplete, got \(step)")
            return
        }
        let (_, final) = input.withUnsafeBufferPointer {
            parser.parse(UnsafeBufferPointer(rebasing: $0[($0.count - 4)...]))
        }
        guard case .request(let request, let keepAlive) = final else {
            Issue.record("expected a request, got \(final)")
            return
        }
        #expect(request.method == "POST")
        #expect(request.path == "/hooks/x")
        #expect(request.query == "a=1")
        #expect(request.headers.values(for: "x-sig") == ["abc", "def"])
        #expect(request.body == Array("body".utf8))
        #expect(keepAlive)
    }

    @Test("an absolute-form target's path is used for routing")
    func absoluteFormTargetGivesThePath() {
        var parser = HTTPRequestParser(limits: HTTPServerConfiguration().parserLimits)
        let input = Array("GET http://example.com/a/b?c HTTP/1.1\r\nHost: example.com\r\n\r\n".utf8)
        let (_, step) = input.withUnsafeBufferPointer { parser.parse($0) }
        guard case .request(let request, _) = step else {
            Issue.record("got \(step)")
            return
        }
        #expect(request.path == "/a/b")
    }

    @Test("head size and field count limits answer 431, an overlong target 414")
    func headLimitsAnswer431() {
        var limits = HTTPServerConfiguration().parserLimits
        limits.maxHeadBytes = 64
        limits.maxHeaderCount = 2
        let long = ParserDriver.whole(
            Array("GET / HTTP/1.1\r\nHost: h\r\nX: \(String(repeating: "a", count: 64))\r\n\r\n".utf8), limits: limits)
        #expect(long.error?.status == 431)
        let many = ParserDriver.whole(Array("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n".utf8), limits: limits)
        #expect(many.error?.status == 431)
        let longTarget = ParserDriver.whole(
            Array("GET /\(String(repeating: "a", count: 100)) HTTP/1.1\r\n".utf8), limits: limits)
        #expect(longTarget.error?.status == 414)
        let exact = ParserDriver.whole(Array("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n".utf8), limits: limits)
        #expect(exact.error == nil && exact.requests.count == 1)
    }

    @Test("Expect: 100-continue is reported on HTTP/1.1 only")
    func expectContinueIsReportedForHTTP11() {
        let eleven = ParserDriver.whole(
            Array("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n".utf8))
        #expect(eleven.continues == 1)
        let ten = ParserDriver.whole(Array("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n".utf8))
        #expect(ten.continues == 0)
    }
}

@Suite("Transfer-Encoding obfuscation matrix")
struct TransferEncodingMatrixTests {
    /// The bytes defparam/smuggler inserts (configs/default.py), regenerated here rather than copied.
    static let bytes: [UInt8] = [0x01, 0x04, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1F, 0x20, 0x7F, 0xA0, 0xFF]

    /// Every place a byte can be slipped into `Transfer-Encoding: chunked`.
    static func variants(_ byte: UInt8) -> [[UInt8]] {
        let name = Array("Transfer-Encoding".utf8)
        let value = Array("chunked".utf8)
        let colon: [UInt8] = [0x3A, 0x20]
        return [
            [byte] + name + colon + value,  // before the name
            name + [byte] + colon + value,  // after the name, before the colon
            Array(name[..<8]) + [byte] + Array(name[8...]) + colon + value,  // inside the name
            name + [0x3A, byte] + value,  // before the value
            name + colon + value + [byte],  // after the value
            name + colon + Array(value[..<3]) + [byte] + Array(value[3...]),  // inside the value
            name + colon + [byte, 0x2C] + value,  // a bogus element before chunked
        ]
    }

    @Test("every variant is refused, or framed by Content-Length alone with no Transfer-Encoding", arguments: bytes)
    func obfuscatedTransferEncodingNeverFramesTheBody(_ byte: UInt8) {
        for variant in Self.variants(byte) {
            let input =
                Array("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n".utf8) + variant
                + Array("\r\n\r\n0\r\n\r\n".utf8)
            let outcome = ParserDriver.whole(input)
            if outcome.error != nil { continue }
            #expect(outcome.requests.count == 1, "byte \(byte): \(outcome)")
            #expect(outcome.requests.first?.body == Array("0\r\n\r\n".utf8), "byte \(byte) was framed as chunked")
        }
    }
}
