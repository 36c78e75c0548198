/// A rental property as Latchkey sees it: the PMS listings that map to it, its locks, and its rules for codes.
///
/// Built from the `properties:` section of the configuration; validated by `latchkey check-config`.
package struct Property: Sendable, Codable, Hashable {
    /// What to do when one lock of the property cannot take the group's shared PIN.
    package enum CodeSharingBehavior: String, Sendable, Codable, Hashable, CaseIterable {
        /// Fail the whole group; nothing is created (Seam's default).
        case `throw`
        /// Put a different random PIN on the lock that cannot share.
        case createRandomCode = "create_random_code"
    }

    /// A stable identifier (the config's `id`, or the name slugged); part of every code's name. No default.
    package var id: String
    /// The human name, e.g. "Seaside Loft". No default.
    package var name: String
    /// The PMS listings of this property, by source name: `["guesty": ["64f0…"], "hostaway": ["12345"]]`. No default.
    package var listings: [String: [String]]
    /// The Seam device ids of the property's door locks; every confirmed booking gets one code on each. No default.
    package var deviceIDs: [String]
    /// The property's IANA time zone, e.g. `Europe/Berlin`. No default.
    package var timeZone: String
    /// Check-in time when the PMS gives only a date. Default 15:00 local.
    package var defaultCheckIn: LocalTime
    /// Check-out time when the PMS gives only a date. Default 11:00 local.
    package var defaultCheckOut: LocalTime
    /// How long before check-in the code starts working, in minutes. Default 0.
    package var bufferBeforeCheckInMinutes: Int
    /// How long after check-out the code keeps working, in minutes. Default 0.
    package var bufferAfterCheckOutMinutes: Int
    /// The PIN length asked of Seam (`preferred_code_length`), in digits. Default 4.
    package var preferredCodeLength: Int
    /// Seam's `behavior_when_code_cannot_be_shared`. Default ``CodeSharingBehavior/throw``.
    package var codeSharingBehavior: CodeSharingBehavior
    /// The code name template; `{property}`, `{guest}`, `{guest_first}`, `{reservation}`, `{source}` are filled in.
    /// Latchkey always appends its own reservation marker so a group can be found again after a crash.
    /// Default `"{guest_first} {reservation}"`.
    package var codeNameTemplate: String

    /// The placeholders a code name template may use, each filled in by the reconciler's code naming: the property's
    /// name, the guest's full and first name, the reservation id and the source name.
    package static let codeNamePlaceholders = ["property", "guest", "guest_first", "reservation", "source"]

    /// The `{…}` placeholders of `template` that are not ``codeNamePlaceholders``, in order, without braces. A
    /// placeholder is the text from a `{` to the next `}`, as code naming reads it (which would leave an unknown one in
    /// the code's name as written).
    package static func unknownPlaceholders(in template: String) -> [String] {
        var unknown: [String] = []
        var rest = template[...]
        while let open = rest.utf8.firstIndex(of: UInt8(ascii: "{")),
            let close = rest[open...].utf8.firstIndex(of: UInt8(ascii: "}"))
        {
            let name = String(rest[rest.index(after: open)..<close])
            if !codeNamePlaceholders.contains(name) { unknown.append(name) }
            rest = rest[rest.index(after: close)...]
        }
        return unknown
    }

    /// Creates a property with the documented defaults.
    package init(
        id: String,
        name: String,
        listings: [String: [String]],
        deviceIDs: [String],
        timeZone: String,
        defaultCheckIn: LocalTime = LocalTime(hour: 15),
        defaultCheckOut: LocalTime = LocalTime(hour: 11),
        bufferBeforeCheckInMinutes: Int = 0,
        bufferAfterCheckOutMinutes: Int = 0,
        preferredCodeLength: Int = 4,
        codeSharingBehavior: CodeSharingBehavior = .throw,
        codeNameTemplate: String = "{guest_first} {reservation}"
    ) {
        self.id = id
        self.name = name
        self.listings = listings
        self.deviceIDs = deviceIDs
        self.timeZone = timeZone
        self.defaultCheckIn = defaultCheckIn
        self.defaultCheckOut = defaultCheckOut
        self.bufferBeforeCheckInMinutes = bufferBeforeCheckInMinutes
        self.bufferAfterCheckOutMinutes = bufferAfterCheckOutMinutes
        self.preferredCodeLength = preferredCodeLength
        self.codeSharingBehavior = codeSharingBehavior
        self.codeNameTemplate = codeNameTemplate
    }
}

/// Finds the property of a PMS listing.
package struct PropertyCatalogue: Sendable {
    /// Every configured property, in config order.
    package let properties: [Property]
    private let byListing: [ListingKey: Int]

    private struct ListingKey: Hashable, Sendable {
        let source: String
        let listingID: String
    }

    /// Creates a catalogue. When a listing appears under two properties the first wins;
    /// `latchkey check-config` reports such duplicates as errors.
    package init(_ properties: [Property]) {
        self.properties = properties
        var index: [ListingKey: Int] = [:]
        for (position, property) in properties.enumerated() {
            for (source, listingIDs) in property.listings {
                for listingID in listingIDs where index[ListingKey(source: source, listingID: listingID)] == nil {
                    index[ListingKey(source: source, listingID: listingID)] = position
                }
            }
        }
        byListing = index
    }

    /// The property that listing `listingID` of PMS source `source` belongs to, or `nil` when none is configured.
    package func property(source: String, listingID: String) -> Property? {
        byListing[ListingKey(source: source, listingID: listingID)].map { properties[$0] }
    }

    /// The property with id `id`, or `nil`.
    package func property(id: String) -> Property? {
        properties.first { $0.id == id }
    }
}
