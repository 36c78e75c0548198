/// A PMS's booking statuses and what each means for door access. Lookups ignore case.
struct StatusTable: Sendable {
    let pms: String
    let entries: [String: BookingEvent.Status]

    init(pms: String, _ entries: [String: BookingEvent.Status]) {
        self.pms = pms
        self.entries = Dictionary(uniqueKeysWithValues: entries.map { ($0.key.lowercased(), $0.value) })
    }

    /// The status for `raw`. An unknown status is an error rather than a guess: guessing `pending` would
    /// delete a confirmed guest's code, guessing `confirmed` would hand one out.
    func status(_ raw: String, field: String) throws(AdapterError) -> BookingEvent.Status {
        if let status = entries[raw.lowercased()] { return status }
        throw AdapterError(
            field: field,
            problem: "unknown \(pms) status \"\(raw)\"; known: \(entries.keys.sorted().joined(separator: ", "))")
    }

    /// Reads and maps the required status field `key` of `object`.
    func status(in object: JSONObject, key: String) throws(AdapterError) -> BookingEvent.Status {
        try status(try object.string(key), field: object.pathOf(key))
    }
}

/// Both dates or neither: a check-in without a check-out (or the reverse) is an error naming the missing one.
func checkedStay(
    checkIn: StayTime?, checkOut: StayTime?, in object: JSONObject, checkInKey: String, checkOutKey: String
) throws(AdapterError) -> (StayTime?, StayTime?) {
    switch (checkIn, checkOut) {
    case (.some, nil): throw object.missing(checkOutKey)
    case (nil, .some): throw object.missing(checkInKey)
    default: return (checkIn, checkOut)
    }
}

/// `first last`, either part optional; `nil` when both are absent.
func joinedName(_ first: String?, _ last: String?) -> String? {
    let parts = [first, last].compactMap { $0 }
    return parts.isEmpty ? nil : parts.joined(separator: " ")
}

/// The first non-`nil` value. Arguments are evaluated eagerly (`??` would turn typed throws into `any Error`),
/// so a fallback field of the wrong type is reported even when an earlier one is present.
func firstPresent<Value>(_ values: Value?...) -> Value? {
    values.lazy.compactMap { $0 }.first
}
