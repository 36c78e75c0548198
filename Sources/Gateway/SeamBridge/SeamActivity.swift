import Foundation
import Synchronization

/// The most recent Seam calls that change codes (create, update, delete), for the console's Reservation page.
///
/// In memory only, the last ``capacity`` calls; it keeps the route, the time, the outcome and what identifies the
/// reservation (the code name, which ends with Latchkey's reservation marker, the access-code ids and the
/// `common_code_key`), never a PIN.
final class SeamActivity: Sendable {
    /// One call.
    struct Entry: Sendable, Hashable {
        /// When it was answered.
        var at: Date
        /// The route, e.g. `/access_codes/create_multiple`.
        var route: String
        /// Whether Seam accepted it.
        var succeeded: Bool
        /// Seam's error, or nil.
        var message: String?
        /// The code name sent, or nil.
        var name: String?
        /// The access codes it named or made.
        var accessCodeIDs: [String]
        /// The group key it named or made, or nil.
        var commonCodeKey: String?
    }

    /// How many calls are kept. Default 2,000.
    let capacity: Int
    private let ring = Mutex<(entries: [Entry], next: Int)>(([], 0))

    /// Creates an empty log.
    init(capacity: Int = 2_000) {
        self.capacity = max(1, capacity)
    }

    /// Records a call.
    func record(_ entry: Entry) {
        ring.withLock { ring in
            if ring.entries.count < capacity {
                ring.entries.append(entry)
            } else {
                ring.entries[ring.next] = entry
            }
            ring.next = (ring.next + 1) % capacity
        }
    }

    /// The calls about one reservation, most recent first: those whose name carries `marker`, or that name one of
    /// `accessCodeIDs` or `commonCodeKey`.
    func entries(marker: String, accessCodeIDs: Set<String>, commonCodeKey: String?) -> [Entry] {
        ring.withLock { ring in
            ring.entries.filter { entry in
                (entry.name?.hasSuffix(marker) ?? false)
                    || entry.accessCodeIDs.contains(where: accessCodeIDs.contains)
                    || (commonCodeKey != nil && entry.commonCodeKey == commonCodeKey)
            }
        }
        .sorted { $0.at > $1.at }
    }
}
