import Foundation
import Glibc
import LatchkeyTestSupport
import Logging
import Store
import Synchronization
import Testing

extension TemporaryDirectory {
    /// A data directory inside it (not created: the store creates it).
    var data: String { path + "/data" }
}

/// A settable clock in whole seconds.
final class TestClock: Sendable {
    private let now = Mutex<Int64>(1_800_000_000)
    /// The current time.
    var current: Int64 { now.withLock { $0 } }
    /// Moves time forward.
    func advance(by seconds: Int64) { now.withLock { $0 += seconds } }
}

/// Opens a store, retrying for up to a second while its lock is held. The tests run in parallel in one
/// process and the crash test spawns children; between a spawn's clone and its exec the child briefly
/// shares every open file description, `LOCK` included, so a lock released a moment ago can still be held.
/// A lock that is really leaked stays held and still fails here.
func openStore(at path: String, configuration: StoreConfiguration, logger: Logger) throws -> Store {
    for _ in 0..<100 {
        do throws(StoreError) {
            return try Store.open(at: path, configuration: configuration, logger: logger)
        } catch {
            guard error.code == .locked else { throw error }
            usleep(10_000)
        }
    }
    return try Store.open(at: path, configuration: configuration, logger: logger)
}

/// A configuration using `clock`.
func configuration(clock: TestClock? = nil, _ tweak: (inout StoreConfiguration) -> Void = { _ in })
    -> StoreConfiguration
{
    var c = StoreConfiguration()
    if let clock { c.clock = { clock.current } }
    tweak(&c)
    return c
}

/// A transaction claiming `key` (response `"resp-" + key`) and putting `value` under `entry`.
func claimAndPut(_ key: String, entry: String, value: String) -> Transaction {
    var t = Transaction()
    t.claim(key, response: bytes("resp-" + key))
    t.put(bytes(value), forKey: entry)
    return t
}

/// The permission bits of a path.
func permissions(_ path: String) -> mode_t {
    var info = stat()
    #expect(stat(path, &info) == 0, "stat \(path)")
    return info.st_mode & 0o777
}

/// The byte offsets at which each record of a journal segment ends (frame = 9-byte header + payload).
func recordEnds(ofSegment path: String) -> [Int] {
    let data = [UInt8](FileManager.default.contents(atPath: path)!)
    var ends: [Int] = []
    var offset = 0
    while offset + 9 <= data.count && data[offset + 8] != 0 {  // kind 0: the zeros written ahead of the records
        let length =
            Int(data[offset]) | Int(data[offset + 1]) << 8 | Int(data[offset + 2]) << 16 | Int(data[offset + 3]) << 24
        offset += 9 + length
        ends.append(offset)
    }
    return ends
}

/// Creates a store holding one transaction (`delivery/1`, `e` = `v`) in a snapshot, then closes it.
func writeCompactedStore(at path: String) async throws {
    let store = try openStore(at: path, configuration: configuration(), logger: quietLogger)
    _ = try await store.commit(claimAndPut("delivery/1", entry: "e", value: "v"))
    try store.compact()
    store.close()
}
