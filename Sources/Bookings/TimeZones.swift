import Foundation
import Synchronization

/// IANA time zones by name, each built once: `TimeZone(identifier:)` may read the zone database, and both the
/// adapters (checking a delivery's `time_zone`) and stay-window arithmetic ask for the same few zones over and over.
enum TimeZones {
    private static let known = Mutex<[String: TimeZone]>([:])
    /// At most this many zones are remembered; default 1,024 (the IANA database has ~600 names).
    private static let limit = 1_024

    /// The zone named `identifier`, or `nil` when Foundation knows no such zone.
    static func named(_ identifier: String) -> TimeZone? {
        if let zone = known.withLock({ $0[identifier] }) { return zone }
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        known.withLock { zones in
            if zones.count < limit { zones[identifier] = zone }
        }
        return zone
    }
}
