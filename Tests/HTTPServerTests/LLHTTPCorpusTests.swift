import Foundation
import LatchkeyTestSupport
import Testing

@testable import HTTPServer

/// The llhttp request corpus, at `../shared/corpora/llhttp` relative to the package root.
private let corpusDirectory: URL = RepositoryFiles.url("../shared/corpora/llhttp").standardizedFileURL

private let corpusPresent = FileManager.default.fileExists(
    atPath: corpusDirectory.appendingPathComponent("SOURCE.md").path)

/// Why a corpus case may get a different verdict from llhttp's strict mode.
enum Allowance: CustomStringConvertible {
    /// An HTTP/1.1 request without a Host field: RFC 9112 §3.2 says a server MUST answer 400, llhttp does not
    /// check. The test re-parses the case with the Host requirement off and expects llhttp's verdict then.
    case missingHost
    /// A deliberate policy difference, with its reason.
    case policy(String)

    var description: String {
        switch self {
        case .missingHost: "HTTP/1.1 without Host is 400 (RFC 9112 §3.2 MUST)"
        case .policy(let reason): reason
        }
    }
}

private let unimplementedMethod = Allowance.policy(
    "method outside GET/HEAD/POST/PUT/DELETE/OPTIONS/PATCH: 501 (RFC 9110 §9.1 SHOULD); a webhook sink serves no WebDAV/RTSP/ICE/SSDP"
)

/// Cases where this parser deliberately differs from llhttp's strict mode, each with its reason.
/// Keys are `file: heading path` (a repeated heading gets ` #2`).
let llhttpAllowList: [String: Allowance] = [
    "connection.md: Connection header > `keep-alive` > Setting flag": .missingHost,
    "connection.md: Connection header > `keep-alive` > Restarting when keep-alive is explicitly": .missingHost,
    "connection.md: Connection header > `close` > Setting flag on `close`": .missingHost,
    "connection.md: Connection header > `close` > Setting flag on `close` followed by tab": .missingHost,
    "connection.md: Connection header > Parsing multiple tokens > Sample": .missingHost,
    "content-length.md: Content-Length header > `Content-Length` with zeroes": .missingHost,
    "content-length.md: Content-Length header > `Content-Length` with follow-up headers": .missingHost,
    "content-length.md: Content-Length header > Spaces in `Content-Length` (surrounding)": .missingHost,
    "content-length.md: Content-Length header > Spaces in `Content-Length` (surrounding) > Tabs in `Content-Length` (surrounding)":
        .missingHost,
    "content-length.md: Content-Length header > Content-Length reset when no body is received": .missingHost,
    "finish.md: Finish > It should be safe to finish after GET request": .missingHost,
    "pausing.md: Pausing > on_message_begin": .missingHost,
    "pausing.md: Pausing > on_message_complete": .missingHost,
    "pausing.md: Pausing > on_protocol_complete": .missingHost,
    "pausing.md: Pausing > on_method_complete": .missingHost,
    "pausing.md: Pausing > on_url_complete": .missingHost,
    "pausing.md: Pausing > on_version_complete": .missingHost,
    "pausing.md: Pausing > on_header_field_complete": .missingHost,
    "pausing.md: Pausing > on_header_value_complete": .missingHost,
    "pausing.md: Pausing > on_headers_complete": .missingHost,
    "pausing.md: Pausing > on_chunk_header": .missingHost,
    "pausing.md: Pausing > on_chunk_extension_name": .missingHost,
    "pausing.md: Pausing > on_chunk_extension_value": .missingHost,
    "pausing.md: Pausing > on_chunk_complete": .missingHost,
    "pipelining.md: Pipelining > Should parse multiple events": .missingHost,
    "sample.md: Sample requests > Simple request": .missingHost,
    "sample.md: Sample requests > Request with method starting with `H`": .missingHost,
    "sample.md: Sample requests > DUMBPACK": .missingHost,
    "sample.md: Sample requests > No headers and no body": .missingHost,
    "sample.md: Sample requests > One header and no body": .missingHost,
    "sample.md: Sample requests > Prefix newline": .missingHost,
    "sample.md: Sample requests > Request starting with CRLF": .missingHost,
    "sample.md: Sample requests > Extended Characters": .missingHost,
    "sample.md: Sample requests > 255 ASCII in header value": .missingHost,
    "transfer-encoding.md: Transfer-Encoding header > `chunked` > Parsing and setting flag": .missingHost,
    "transfer-encoding.md: Transfer-Encoding header > `chunked` > Parse chunks with lowercase size": .missingHost,
    "transfer-encoding.md: Transfer-Encoding header > `chunked` > Parse chunks with uppercase size": .missingHost,
    "transfer-encoding.md: Transfer-Encoding header > `chunked` > POST with `Transfer-Encoding: chunked`": .missingHost,
    "transfer-encoding.md: Transfer-Encoding header > `chunked` > Two chunks and triple zero prefixed end chunk":
        .missingHost,
    "transfer-encoding.md: Transfer-Encoding header > `chunked` > Trailing headers": .missingHost,
    "transfer-encoding.md: Transfer-Encoding header > `chunked` > Chunk extensions": .missingHost,
    "transfer-encoding.md: Transfer-Encoding header > `chunked` > Chunk extensions quoting": .missingHost,
    "uri.md: URI > Quotes in URI": .missingHost,
    "uri.md: URI > Query URL with question mark": .missingHost,
    "uri.md: URI > Host terminated by a query string": .missingHost,
    "uri.md: URI > `host:port` terminated by a query string": .missingHost,
    "uri.md: URI > Query URL with vertical bar character": .missingHost,
    "uri.md: URI > `host:port` terminated by a space": .missingHost,
    "uri.md: URI > Fragment in URI": .missingHost,
    "uri.md: URI > `host:port` and basic auth": .missingHost,
    "method.md: Methods > REPORT request": unimplementedMethod,
    "method.md: Methods > M-SEARCH request": unimplementedMethod,
    "method.md: Methods > PURGE request": unimplementedMethod,
    "method.md: Methods > SEARCH request": unimplementedMethod,
    "method.md: Methods > LINK request": unimplementedMethod,
    "method.md: Methods > LINK request #2": unimplementedMethod,
    "method.md: Methods > SOURCE request": unimplementedMethod,
    "method.md: Methods > SOURCE request with ICE": unimplementedMethod,
    "method.md: Methods > ANNOUNCE request with RTSP": unimplementedMethod,
    "method.md: Methods > QUERY request": unimplementedMethod,
    "method.md: Methods > OPTIONS request with RTSP": .policy(
        "only HTTP/1.1 and HTTP/1.0 are served; `RTSP/1.0` is 400"),
    "sample.md: Sample requests > No HTTP version": .policy("HTTP/0.9 (`GET /` with no version) is not served: 400"),
    "transfer-encoding.md: Transfer-Encoding header > POST with `chunked` as last transfer-encoding": .policy(
        "a coding before `chunked` (e.g. `deflate, chunked`) is never decoded here: 501 (RFC 9112 §6.1 SHOULD)"),
    "transfer-encoding.md: Transfer-Encoding header > POST with `chunked` as last transfer-encoding (multiple headers)":
        .policy(
            "Transfer-Encoding split over two fields is refused (400): one field, exactly `chunked`"),
]

@Suite("llhttp request corpus")
struct LLHTTPCorpusTests {
    @Test(
        "every corpus case gets the strict verdict, identically whole, byte by byte and split at every offset",
        .enabled(if: corpusPresent, "the llhttp corpus (../shared/corpora/llhttp) is absent; skipped")
    )
    func corpusVerdictsMatchStrictModeForEveryFeed() throws {
        let cases = try LLHTTPCase.load(from: corpusDirectory)
        #expect(cases.count >= 160, "expected the 166 cases of llhttp 9.4.2, read \(cases.count)")
        var tally: [String: Int] = [:]
        var usedAllowances = Set<String>()
        for testCase in cases {
            let whole = ParserDriver.whole(testCase.input)
            let bytewise = ParserDriver.byteByByte(testCase.input)
            #expect(bytewise == whole, "\(testCase): byte-by-byte \(bytewise) differs from whole \(whole)")
            for offset in 1..<max(1, testCase.input.count) {
                let split = ParserDriver.split(testCase.input, at: offset)
                if split != whole {
                    Issue.record("\(testCase): split at \(offset) gives \(split), whole gives \(whole)")
                    break
                }
            }
            let wanted: Bool  // true: must be accepted / safe to finish
            switch testCase.expectation {
            case .accept: wanted = !testCase.isLenient
            case .reject, .upgrade: wanted = false
            case .finish(let safe): wanted = safe
            }
            let got: Bool
            if case .finish = testCase.expectation {
                got = whole.error == nil && whole.endedIdle
            } else {
                got = whole.error == nil
            }
            let key = testCase.description
            let kind =
                testCase.isLenient
                ? "lenient-mode case (\(testCase.expectation) in llhttp's lenient mode), must be rejected"
                : "strict \(testCase.expectation)"
            if got == wanted {
                tally["\(kind): agreed", default: 0] += 1
                #expect(llhttpAllowList[key] == nil, "\(key) is allow-listed but now agrees; remove it")
            } else if let allowance = llhttpAllowList[key] {
                usedAllowances.insert(key)
                tally["\(kind): allow-listed (\(allowance))", default: 0] += 1
                if case .missingHost = allowance {
                    var limits = HTTPServerConfiguration().parserLimits
                    limits.requiresHost = false
                    let relaxed = ParserDriver.whole(testCase.input, limits: limits)
                    let relaxedGot =
                        testCase.expectation == .finish(safe: true)
                        ? relaxed.error == nil && relaxed.endedIdle : relaxed.error == nil
                    #expect(relaxedGot == wanted, "\(key): without the Host rule still \(relaxed)")
                }
            } else {
                tally["\(kind): DISAGREED", default: 0] += 1
                Issue.record("\(key): wanted \(wanted ? "accept" : "reject"), got \(whole)")
            }
        }
        #expect(
            usedAllowances == Set(llhttpAllowList.keys),
            "unused allow-list entries: \(Set(llhttpAllowList.keys).subtracting(usedAllowances))")
        print("llhttp corpus tally (\(cases.count) cases):")
        for (key, count) in tally.sorted(by: { $0.key < $1.key }) { print("  \(key): \(count)") }
    }
}
