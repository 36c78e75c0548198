import Foundation

/// Parses the `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
package enum RetryAfter {
    /// The delay a `Retry-After` value asks for.
    /// - Parameters:
    ///   - value: The header value: `120`, or `Sun, 06 Nov 1994 08:49:37 GMT` (the obsolete RFC 850 and asctime
    ///     date forms are accepted too).
    ///   - now: The instant the response arrived; a date in the past gives zero.
    /// - Returns: The delay, or nil when the value is neither form.
    package static func parse(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            // Beyond Int64: absurdly long; the reconciler's backoff cuts it to its cap anyway.
            guard let seconds = Int64(text) else { return .seconds(Int64(Int32.max)) }
            return .seconds(seconds)
        }
        for format in httpDateFormats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                return .interval(date.timeIntervalSince(now))
            }
        }
        return nil
    }

    /// IMF-fixdate, RFC 850, asctime (RFC 9110 §5.6.7).
    private static let httpDateFormats = [
        "EEE, dd MMM yyyy HH:mm:ss 'GMT'",
        "EEEE, dd-MMM-yy HH:mm:ss 'GMT'",
        "EEE MMM d HH:mm:ss yyyy",
    ]
}
