/// A rendered scrape: the body and the header fields to send with it.
package struct MetricsExposition: Sendable, Equatable {
    /// The media type of the text format 0.0.4.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The body: the text, or its gzip encoding when ``contentEncoding`` is `gzip`.
    package var body: [UInt8]
    /// `gzip` when the body is compressed, `nil` when it is the plain text.
    package var contentEncoding: String?

    /// Prepares the answer to a scrape.
    /// - Parameters:
    ///   - text: The rendered exposition text.
    ///   - acceptEncoding: The scraper's `Accept-Encoding` value; gzip is used when it accepts `gzip` (or `*`)
    ///     with a non-zero quality. If compression fails the plain text is sent.
    package init(text: String, acceptEncoding: String?) {
        let plain = Array(text.utf8)
        if Self.acceptsGzip(acceptEncoding), let compressed = try? Gzip.compress(plain) {
            body = compressed
            contentEncoding = "gzip"
        } else {
            body = plain
            contentEncoding = nil
        }
    }

    /// The header fields for the response: `Content-Type`, `Vary: Accept-Encoding`, and `Content-Encoding` when compressed.
    package var headerFields: [HeaderField] {
        var fields = [
            HeaderField(name: "Content-Type", value: Self.contentType),
            HeaderField(name: "Vary", value: "Accept-Encoding"),
        ]
        if let contentEncoding { fields.append(HeaderField(name: "Content-Encoding", value: contentEncoding)) }
        return fields
    }

    /// One response header field.
    package struct HeaderField: Sendable, Equatable {
        /// The field name.
        package var name: String
        /// The field value.
        package var value: String

        /// Creates a field.
        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Whether an `Accept-Encoding` value (RFC 9110 §12.5.3) allows gzip: `gzip`, `x-gzip` or `*` with q > 0,
    /// and no explicit `gzip;q=0`.
    /// - Parameter acceptEncoding: The header value, if any.
    package static func acceptsGzip(_ acceptEncoding: String?) -> Bool {
        guard let acceptEncoding else { return false }
        var gzipQuality: Double?
        var wildcardQuality: Double?
        for item in acceptEncoding.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingWhitespace().lowercased() }
            guard let coding = parts.first else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            if coding == "gzip" || coding == "x-gzip" { gzipQuality = quality }
            if coding == "*" { wildcardQuality = quality }
        }
        return (gzipQuality ?? wildcardQuality ?? 0) > 0
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
