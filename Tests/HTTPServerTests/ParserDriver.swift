@testable import HTTPServer

/// What a parser made of one input, in a form that can be compared across ways of feeding it.
struct ParseOutcome: Equatable, CustomStringConvertible {
    /// One parsed request, reduced to what framing decides.
    struct Summary: Equatable {
        var method: String
        var target: String
        var minorVersion: Int
        var headerCount: Int
        var body: [UInt8]
        var keepAlive: Bool
    }

    /// The requests, in order.
    var requests: [Summary] = []
    /// How many `headComplete` steps asked for `100 Continue`.
    var continues = 0
    /// The error that stopped parsing, if any.
    var error: HTTPParseError?
    /// Whether the parser was between messages when the input ended (llhttp's "safe to finish").
    var endedIdle = false

    var description: String {
        let error = error.map { "error \($0.status) \($0.type)" } ?? "no error"
        return "\(requests.count) request(s), \(error), idle at end: \(endedIdle)"
    }
}

/// Feeds bytes to an ``HTTPRequestParser`` the way a connection does.
struct ParserDriver {
    var parser: HTTPRequestParser
    var buffer: [UInt8] = []
    var outcome = ParseOutcome()

    init(limits: HTTPRequestParser.Limits = HTTPServerConfiguration().parserLimits) {
        parser = HTTPRequestParser(limits: limits)
    }

    /// Appends `bytes` and parses as far as possible.
    mutating func feed(_ bytes: some Collection<UInt8>) {
        guard outcome.error == nil else { return }
        buffer.append(contentsOf: bytes)
        while true {
            let (consumed, step) = buffer.withUnsafeBufferPointer { parser.parse($0) }
            buffer.removeFirst(consumed)
            switch step {
            case .needMore:
                outcome.endedIdle = parser.isIdle && buffer.isEmpty
                return
            case .headComplete(let expectsContinue):
                if expectsContinue { outcome.continues += 1 }
            case .request(let request, let keepAlive):
                outcome.requests.append(
                    .init(
                        method: request.method, target: request.target, minorVersion: request.minorVersion,
                        headerCount: request.headers.count, body: request.body, keepAlive: keepAlive
                    ))
            case .failure(let error):
                outcome.error = error
                outcome.endedIdle = false
                return
            }
        }
    }

    /// The outcome of `input` fed whole.
    static func whole(_ input: [UInt8], limits: HTTPRequestParser.Limits = HTTPServerConfiguration().parserLimits)
        -> ParseOutcome
    {
        var driver = ParserDriver(limits: limits)
        driver.feed(input)
        return driver.outcome
    }

    /// The outcome of `input` fed one byte at a time.
    static func byteByByte(_ input: [UInt8], limits: HTTPRequestParser.Limits = HTTPServerConfiguration().parserLimits)
        -> ParseOutcome
    {
        var driver = ParserDriver(limits: limits)
        for byte in input { driver.feed(CollectionOfOne(byte)) }
        if input.isEmpty { driver.feed([]) }
        return driver.outcome
    }

    /// The outcome of `input` fed in two pieces split at `offset`.
    static func split(
        _ input: [UInt8], at offset: Int, limits: HTTPRequestParser.Limits = HTTPServerConfiguration().parserLimits
    ) -> ParseOutcome {
        var driver = ParserDriver(limits: limits)
        driver.feed(input[..<offset])
        driver.feed(input[offset...])
        return driver.outcome
    }
}
