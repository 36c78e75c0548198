/// The object members an adapter reads, level by level: ``JSONParser`` builds values only for these and checks
/// the others without building them (a PMS body carries far more than a booking needs: prices, addresses,
/// notes, tags).
///
/// A member listed without nested members is built whole. A member listed with nested members applies them to
/// its value when that is an object, and to each object in it when it is an array. Unlisted members are absent
/// from the parsed ``JSONFields``, so an adapter must list every key it looks up (its tests decode each fixture
/// with and without its filter and compare).
struct JSONMemberFilter: Sendable {
    /// One kept member.
    struct Member: Sendable {
        /// The key.
        let name: String
        /// The key's UTF-8 bytes, compared with the body's.
        let bytes: [UInt8]
        /// The members kept inside its value; nil keeps the whole value.
        let members: JSONMemberFilter?
    }

    /// The kept members of this level.
    let members: [Member]

    /// A filter keeping `members` (each with the members kept inside it, or nil for the whole value).
    init(_ members: KeyValuePairs<String, JSONMemberFilter?>) {
        self.members = members.map { Member(name: $0.key, bytes: Array($0.key.utf8), members: $0.value) }
    }

    /// A filter keeping `names`, each whole.
    init(_ names: String...) {
        self.members = names.map { Member(name: $0, bytes: Array($0.utf8), members: nil) }
    }

    /// The kept member whose key is `key`, or nil.
    func member(named key: UnsafeBufferPointer<UInt8>) -> Member? {
        for member in members where member.bytes.count == key.count {
            let same = member.bytes.withUnsafeBufferPointer { name in
                for offset in 0..<name.count where name[offset] != key[offset] { return false }
                return true
            }
            if same { return member }
        }
        return nil
    }
}
