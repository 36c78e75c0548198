import Glibc
@testable import Store

/// Journal recovery over arbitrary bytes: the first byte picks the layout (one segment; a snapshot; a
/// snapshot and a segment; two segments split at the second byte), the rest are the files' contents, written
/// to a directory in /dev/shm and read back by `Recovery.load`, the code `Store.open` and `store verify` use.
/// Properties: no crash; each segment's reported valid bytes and damage offset lie inside the segment, and a
/// segment without damage was read to its end, or to where only zeros follow (space the writer fills ahead of
/// its records, `StoreConfiguration.preallocationBytes`).
enum JournalTarget {
    static let directory: String = {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let path = "\(base)/latchkey-fuzz-journal-\(getpid())"
        mkdir(path, 0o700)
        mkdir(path + "/journal", 0o700)
        return path
    }()

    static func run(_ data: UnsafeBufferPointer<UInt8>) {
        guard data.count >= 2 else { return }
        let dir = DataDirectory(path: directory)
        let body = Array(data.dropFirst(2))
        let cut = min(Int(data[1]) * max(body.count, 1) / 255, body.count)
        unlink(dir.snapshotPath)
        unlink(dir.segmentPath(1))
        unlink(dir.segmentPath(2))
        switch data[0] % 4 {
        case 0: write(body, to: dir.segmentPath(1))
        case 1: write(body, to: dir.snapshotPath)
        case 2:
            write(Array(body[..<cut]), to: dir.snapshotPath)
            write(Array(body[cut...]), to: dir.segmentPath(1))
        default:
            write(Array(body[..<cut]), to: dir.segmentPath(1))
            write(Array(body[cut...]), to: dir.segmentPath(2))
        }
        guard let recovered = try? Recovery.load(dir, now: 1_700_000_000_000, maxPayload: 1 << 20) else { return }
        for scan in recovered.segments {
            guard scan.validBytes >= 0, scan.validBytes <= scan.size else { fuzzFailure("validBytes \(scan.validBytes) of \(scan.size)") }
            if let damage = scan.damage {
                guard damage.offset >= scan.validBytes, damage.offset < scan.size else {
                    fuzzFailure("damage at \(damage.offset) in a segment of \(scan.size) bytes, valid \(scan.validBytes)")
                }
            } else if scan.validBytes != scan.size {
                let tail = contents(of: scan.path).dropFirst(scan.validBytes)
                guard tail.count == scan.size - scan.validBytes, tail.allSatisfy({ $0 == 0 }) else {
                    fuzzFailure("undamaged segment read \(scan.validBytes) of \(scan.size) bytes, and the rest is not zeros")
                }
            }
        }
    }

    private static func contents(of path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { fuzzFailure("cannot read \(path): errno \(errno)") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            bytes += chunk[..<n]
        }
        return bytes
    }

    private static func write(_ bytes: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fuzzFailure("cannot write \(path): errno \(errno)") }
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
