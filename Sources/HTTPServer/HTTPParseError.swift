/// Why a request was refused by the parser: the status to answer, a stable type and a message for a person.
///
/// Every parse error closes the connection after the answer, because the framing of whatever follows is unknown.
struct HTTPParseError: Error, Sendable, Equatable {
    /// The status to answer (400, 405, 408, 413, 417, 431, 501, 505).
    let status: Int
    /// A stable machine-readable name, used as the error body's `type`.
    let type: String
    /// What was wrong and what to do.
    let message: String

    /// The error answer for this problem.
    var response: HTTPResponse {
        .error(status: status, type: type, message: message)
    }

    /// A 400 refusal of the given type.
    static func badRequest(_ type: String, _ message: String) -> HTTPParseError {
        HTTPParseError(status: 400, type: type, message: message)
    }

    /// 400 `bare_lf`: A line ended with LF alone.
    static let bareLineFeed = badRequest("bare_lf", "A line ended with LF alone; HTTP/1.1 lines end with CRLF.")
    /// 400 `bare_cr`: A CR was not followed by LF.
    static let bareCarriageReturn = badRequest("bare_cr", "A CR was not followed by LF; HTTP/1.1 lines end with CRLF.")
    /// 400 `invalid_request_line`: More than two empty lines came before the request line.
    static let tooManyLeadingEmptyLines = badRequest(
        "invalid_request_line", "More than two empty lines came before the request line.")
    /// 400 `invalid_method`: The method is not a token followed by one space.
    static let invalidMethod = badRequest("invalid_method", "The method is not a token followed by one space.")
    /// 400 `invalid_target`: The request target is missing, holds bytes outside visible ASCII, or is not in origin, absolute or asterisk form.
    static let invalidTarget = badRequest(
        "invalid_target",
        "The request target is missing, holds bytes outside visible ASCII, or is not in origin, absolute or asterisk form."
    )
    /// 400 `invalid_version`: The request line does not end in ` HTTP/1.1` or ` HTTP/1.0` followed by CRLF.
    static let invalidVersion = badRequest(
        "invalid_version", "The request line does not end in ` HTTP/1.1` or ` HTTP/1.0` followed by CRLF.")
    /// 505 `http_version_not_supported`: Only HTTP/1.1 and HTTP/1.0 are served.
    static let versionNotSupported = HTTPParseError(
        status: 505, type: "http_version_not_supported", message: "Only HTTP/1.1 and HTTP/1.0 are served.")
    /// 400 `obs_fold`: A header line starts with whitespace (obsolete line folding).
    static let obsFold = badRequest(
        "obs_fold", "A header line starts with whitespace (obsolete line folding); put each field on one line.")
    /// 400 `invalid_header_name`: A header name is followed by whitespace before the colon.
    static let whitespaceBeforeColon = badRequest(
        "invalid_header_name", "A header name is followed by whitespace before the colon; remove it.")
    /// 400 `invalid_header_name`: A header name is empty or holds a byte that is not a token character.
    static let invalidHeaderName = badRequest(
        "invalid_header_name", "A header name is empty or holds a byte that is not a token character.")
    /// 400 `invalid_header_value`: A header value holds a control character (NUL, CR, LF or another CTL).
    static let invalidHeaderValue = badRequest(
        "invalid_header_value", "A header value holds a control character (NUL, CR, LF or another CTL).")
    /// 431 `header_too_large`: The request head is larger than this server accepts.
    static let headTooLarge = HTTPParseError(
        status: 431, type: "header_too_large", message: "The request head is larger than this server accepts.")
    /// 414 `uri_too_long`: The request target is longer than this server accepts.
    static let targetTooLong = HTTPParseError(
        status: 414, type: "uri_too_long", message: "The request target is longer than this server accepts.")
    /// 431 `too_many_headers`: The request has more header fields than this server accepts.
    static let tooManyHeaders = HTTPParseError(
        status: 431, type: "too_many_headers", message: "The request has more header fields than this server accepts.")
    /// 400 `invalid_host`: An HTTP/1.1 request needs exactly one Host header.
    static let missingHost = badRequest("invalid_host", "An HTTP/1.1 request needs exactly one Host header.")
    /// 400 `invalid_host`: The Host header is not a valid host[:port].
    static let invalidHost = badRequest("invalid_host", "The Host header is not a valid host[:port].")
    /// 400 `invalid_content_length`: Content-Length must be one field of 1 to 18 decimal digits.
    static let invalidContentLength = badRequest(
        "invalid_content_length", "Content-Length must be one field of 1 to 18 decimal digits.")
    /// 400 `invalid_content_length`: Content-Length appears more than once.
    static let duplicateContentLength = badRequest(
        "invalid_content_length", "Content-Length appears more than once; send it once.")
    /// 400 `ambiguous_framing`: Content-Length and Transfer-Encoding were both sent.
    static let contentLengthWithTransferEncoding = badRequest(
        "ambiguous_framing", "Content-Length and Transfer-Encoding were both sent; send one of them.")
    /// 400 `invalid_transfer_encoding`: Transfer-Encoding must end in `chunked`.
    static let transferEncodingNotChunkedLast = badRequest(
        "invalid_transfer_encoding", "Transfer-Encoding must end in `chunked`.")
    /// 400 `invalid_transfer_encoding`: Transfer-Encoding must be exactly one field with the value `chunked`.
    static let invalidTransferEncoding = badRequest(
        "invalid_transfer_encoding", "Transfer-Encoding must be exactly one field with the value `chunked`.")
    /// 400 `invalid_transfer_encoding`: Transfer-Encoding is not allowed in an HTTP/1.0 request.
    static let transferEncodingInHTTP10 = badRequest(
        "invalid_transfer_encoding", "Transfer-Encoding is not allowed in an HTTP/1.0 request.")
    /// 501 `unsupported_transfer_coding`: Only the `chunked` transfer coding is supported.
    static let unsupportedTransferCoding = HTTPParseError(
        status: 501, type: "unsupported_transfer_coding", message: "Only the `chunked` transfer coding is supported.")
    /// 413 `body_too_large`: The request body is larger than this server accepts.
    static let bodyTooLarge = HTTPParseError(
        status: 413, type: "body_too_large", message: "The request body is larger than this server accepts.")
    /// 417 `expectation_failed`: Only `Expect: 100-continue` is supported.
    static let expectationFailed = HTTPParseError(
        status: 417, type: "expectation_failed", message: "Only `Expect: 100-continue` is supported.")
    /// 400 `upgrade_not_supported`: Protocol upgrades (Upgrade header) are not served here.
    static let upgradeRefused = badRequest(
        "upgrade_not_supported", "Protocol upgrades (Upgrade header) are not served here; send plain HTTP/1.1.")
    /// 501 `not_implemented`: The method is not implemented here.
    static let methodNotImplemented = HTTPParseError(
        status: 501, type: "not_implemented",
        message: "The method is not implemented here; use GET, HEAD, POST, PUT, DELETE, OPTIONS or PATCH.")
    /// 405 `method_not_allowed`: CONNECT is not served here.
    static let connectRefused = HTTPParseError(
        status: 405, type: "method_not_allowed", message: "CONNECT is not served here; this is not a proxy.")
    /// 400 `invalid_chunk`: A chunk size is not 1 to 16 hexadecimal digits followed by an extension or CRLF.
    static let invalidChunkSize = badRequest(
        "invalid_chunk", "A chunk size is not 1 to 16 hexadecimal digits followed by an extension or CRLF.")
    /// 400 `invalid_chunk`: A chunk extension is malformed or too long.
    static let invalidChunkExtension = badRequest(
        "invalid_chunk", "A chunk extension is malformed or too long.")
    /// 400 `invalid_chunk`: Chunk data was not followed by CRLF.
    static let invalidChunkData = badRequest("invalid_chunk", "Chunk data was not followed by CRLF.")
    /// 400 `invalid_trailer`: A trailer field is malformed.
    static let invalidTrailer = badRequest("invalid_trailer", "A trailer field is malformed.")
    /// 400 `data_after_close`: Bytes followed a request that closes the connection.
    static let dataAfterClose = badRequest(
        "data_after_close", "Bytes followed a request that closes the connection; they were not processed.")
    /// 408 `request_timeout`: The request did not arrive in time.
    static let requestTimeout = HTTPParseError(
        status: 408, type: "request_timeout", message: "The request did not arrive in time; send it faster or retry.")
}
