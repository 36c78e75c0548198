import Foundation

extension LocalDate {
    /// Parses `YYYY-MM-DD`; `nil` when the text has another shape or names no real day (e.g. `2025-02-30`).
    package init?(parsing text: some StringProtocol) {
        self.init(utf8: ArraySlice(text.utf8))
    }

    /// ``init(parsing:)`` of text given as UTF-8 bytes (a slice of a larger date-time: no copy).
    init?(utf8: ArraySlice<UInt8>) {
        let at = utf8.startIndex
        guard utf8.count == 10, utf8[at + 4] == UInt8(ascii: "-"), utf8[at + 7] == UInt8(ascii: "-"),
            let year = WireTime.digits(utf8[at..<at + 4]), let month = WireTime.digits(utf8[at + 5..<at + 7]),
            let day = WireTime.digits(utf8[at + 8..<at + 10])
        else { return nil }
        self.init(year: year, month: month, day: day)
        guard isValid else { return nil }
    }

    /// Whether the date names a real day of the proleptic Gregorian calendar (years 1…9999).
    package var isValid: Bool {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1 else { return false }
        let leap = year.isMultiple(of: 4) && (!year.isMultiple(of: 100) || year.isMultiple(of: 400))
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }

    /// Days since 1970-01-01 (negative before). Howard Hinnant's `days_from_civil`.
    var daysSinceEpoch: Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension LocalTime {
    /// Parses `HH:MM` or `HH:MM:SS` (24-hour); `nil` for another shape or an out-of-range field.
    package init?(parsing text: some StringProtocol) {
        self.init(utf8: ArraySlice(text.utf8))
    }

    /// ``init(parsing:)`` of text given as UTF-8 bytes (a slice of a larger date-time: no copy).
    init?(utf8: ArraySlice<UInt8>) {
        let at = utf8.startIndex
        guard utf8.count == 5 || utf8.count == 8, utf8[at + 2] == UInt8(ascii: ":"),
            let hour = WireTime.digits(utf8[at..<at + 2]), let minute = WireTime.digits(utf8[at + 3..<at + 5])
        else { return nil }
        var second = 0
        if utf8.count == 8 {
            guard utf8[at + 5] == UInt8(ascii: ":"), let parsed = WireTime.digits(utf8[at + 6..<at + 8]) else {
                return nil
            }
            second = parsed
        }
        self.init(hour: hour, minute: minute, second: second)
        guard isValid else { return nil }
    }

    /// Whether hour, minute and second are in range (0…23, 0…59, 0…59).
    package var isValid: Bool { (0...23).contains(hour) && (0...59).contains(minute) && (0...59).contains(second) }

    /// Seconds since midnight.
    var secondsOfDay: Int { hour * 3600 + minute * 60 + second }
}

/// Date-time text as PMSs send it: `YYYY-MM-DD`, then optionally `T` or a space, `HH:MM[:SS[.fraction]]`,
/// then optionally `Z`, `±HH:MM`, `±HHMM` or `±HH`.
struct WireTime: Equatable {
    let date: LocalDate
    let time: LocalTime?
    /// Seconds east of UTC, when the text carries an offset.
    let offsetSeconds: Int?

    init?(parsing text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 10, let date = LocalDate(utf8: utf8[0..<10]) else { return nil }
        self.date = date
        guard utf8.count > 10 else {
            time = nil
            offsetSeconds = nil
            return
        }
        guard utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: " "), utf8.count >= 16 else { return nil }
        var index = 11
        let timeEnd = utf8.count >= 19 && utf8[16] == UInt8(ascii: ":") ? 19 : 16
        guard let time = LocalTime(utf8: utf8[index..<timeEnd]) else { return nil }
        self.time = time
        index = timeEnd
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < utf8.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(utf8[index]) { index += 1 }
            guard index > start else { return nil }
        }
        switch WireTime.suffix(utf8[index...]) {
        case nil: return nil
        case .absent: offsetSeconds = nil
        case .offset(let seconds): offsetSeconds = seconds
        }
    }

    private enum Suffix {
        case absent
        case offset(Int)
    }

    /// The zone suffix: none, or an offset in seconds east of UTC; `nil` when malformed.
    private static func suffix(_ suffix: ArraySlice<UInt8>) -> Suffix? {
        let rest = Array(suffix)
        if rest.isEmpty { return .absent }
        if rest == [UInt8(ascii: "Z")] || rest == [UInt8(ascii: "z")] { return .offset(0) }
        guard rest[0] == UInt8(ascii: "+") || rest[0] == UInt8(ascii: "-") else { return nil }
        let sign = rest[0] == UInt8(ascii: "-") ? -1 : 1
        let body = rest.dropFirst().filter { $0 != UInt8(ascii: ":") }
        guard body.count == 2 || body.count == 4, rest.count - 1 - body.count <= 1,
            let hours = digits(body.prefix(2)), hours <= 23
        else { return nil }
        let minutes = body.count == 4 ? digits(body.suffix(2)) : 0
        guard let minutes, minutes <= 59 else { return nil }
        return .offset(sign * (hours * 3600 + minutes * 60))
    }

    /// The instant, when the text carries an offset.
    var instant: Date? {
        offsetSeconds.map { Date(timeIntervalSince1970: TimeInterval(wallClockAsUTC - $0)) }
    }

    /// The wall-clock reading as if it were UTC, in Unix seconds.
    var wallClockAsUTC: Int { date.daysSinceEpoch * 86_400 + (time?.secondsOfDay ?? 0) }

    /// The value of 1…4 ASCII digits, or `nil`.
    static func digits(_ bytes: some Collection<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 4 else { return nil }
        var value = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

extension JSONObject {
    /// A check-in or check-out as sent: a local date or date-time (→ ``StayTime/local(date:time:timeZone:)``)
    /// or a date-time with an offset (→ ``StayTime/instant(_:)``); `nil` when absent.
    ///
    /// - Parameters:
    ///   - midnightMeansDateOnly: Treat a local `T00:00:00` as a bare date (Lodgify sends dates that way).
    ///   - timeZone: The IANA zone the PMS names for local times, if any.
    func optionalStayTime(_ key: String, midnightMeansDateOnly: Bool = false, timeZone: String? = nil)
        throws(AdapterError) -> StayTime?
    {
        guard let text = try optionalString(key) else { return nil }
        guard let wire = WireTime(parsing: text) else {
            throw AdapterError(
                field: pathOf(key),
                problem:
                    "\"\(text)\" is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SS, optionally with Z or an offset)"
            )
        }
        if let instant = wire.instant { return .instant(instant) }
        let time = midnightMeansDateOnly && wire.time == LocalTime(hour: 0) ? nil : wire.time
        return .local(date: wire.date, time: time, timeZone: timeZone)
    }

    /// An instant such as an updated-at time; text without an offset is read as UTC when `localMeansUTC`,
    /// else rejected. `nil` when absent.
    func optionalInstant(_ key: String, localMeansUTC: Bool = false) throws(AdapterError) -> Date? {
        guard let text = try optionalString(key) else { return nil }
        guard let wire = WireTime(parsing: text), wire.time != nil, wire.offsetSeconds != nil || localMeansUTC else {
            throw AdapterError(
                field: pathOf(key),
                problem: "\"\(text)\" is not a date-time with Z or an offset (e.g. 2025-07-01T09:00:00Z)")
        }
        return wire.instant ?? Date(timeIntervalSince1970: TimeInterval(wire.wallClockAsUTC))
    }

    /// A local date (`YYYY-MM-DD`, or the date part of a date-time), or `nil` when absent.
    func optionalDate(_ key: String) throws(AdapterError) -> LocalDate? {
        guard let text = try optionalString(key) else { return nil }
        guard let wire = WireTime(parsing: text) else {
            throw AdapterError(field: pathOf(key), problem: "\"\(text)\" is not a date (YYYY-MM-DD)")
        }
        return wire.date
    }

    /// A wall-clock time `HH:MM[:SS]`, or `nil` when absent.
    func optionalTime(_ key: String) throws(AdapterError) -> LocalTime? {
        guard let text = try optionalString(key) else { return nil }
        guard let time = LocalTime(parsing: text) else {
            throw AdapterError(field: pathOf(key), problem: "\"\(text)\" is not a time (HH:MM)")
        }
        return time
    }

    /// An IANA time-zone name known to this system, or `nil` when absent.
    func optionalTimeZone(_ key: String) throws(AdapterError) -> String? {
        guard let name = try optionalString(key) else { return nil }
        guard TimeZones.named(name) != nil else {
            throw AdapterError(field: pathOf(key), problem: "\"\(name)\" is not an IANA time zone (e.g. Europe/Berlin)")
        }
        return name
    }
}
