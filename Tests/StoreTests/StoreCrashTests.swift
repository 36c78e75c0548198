import Dispatch
import Foundation
import Glibc
import LatchkeyTestSupport
import Store
import Synchronization
import Testing

/// The crash-test child, built next to the test bundle (StoreTests depends on the executable target).
private func benchExecutable() throws -> String {
    let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let path = (me as NSString).deletingLastPathComponent + "/latchkey-store-bench"
    try #require(FileManager.default.isExecutableFile(atPath: path), "build latchkey-store-bench first: \(path)")
    return path
}

@Suite("Store crash safety")
struct StoreCrashTests {
    /// A child process commits transactions (claim `delivery/i`, put `applied/i/<run>`) and prints each
    /// acknowledgement; it is SIGKILLed at a random moment, 20 times. After every kill the store must hold
    /// every acknowledged key, and no transaction may have been applied twice.
    @Test(.timeLimit(.minutes(3)))
    func everyAcknowledgedCommitSurvivesSIGKILLExactlyOnce() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let executable = try benchExecutable()
        let keys = 1_000_000  // more than a child can commit before it is killed: every kill lands mid-run
        var acknowledged = Set<Int>()
        var killedMidRun = 0
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: executable)
            // A small compaction threshold, so kills also land inside compactions and segment roll-overs.
            child.arguments = [
                "--torture", dir.data, "--run", "r\(round)", "--keys", String(keys), "--compact-bytes", "24576",
            ]
            let output = Pipe()
            child.standardOutput = output
            try child.run()
            let collected = Collector(output.fileHandleForReading)
            usleep(UInt32.random(in: 50_000...300_000, using: &generator))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            let lines = collected.finish()
            if !lines.contains("done") { killedMidRun += 1 }
            for line in lines {
                let parts = line.split(separator: " ")
                if parts.count == 2, let i = Int(parts[0]) { acknowledged.insert(i) }
            }

            let store = try openStore(at: dir.data, configuration: configuration(), logger: quietLogger)
            var applied: [Int: Int] = [:]
            for entry in store.entries(withPrefix: "applied/") {
                applied[Int(entry.key.split(separator: "/")[1])!, default: 0] += 1
            }
            #expect(applied.values.allSatisfy { $0 == 1 }, "round \(round): a transaction was applied twice")
            let missing = acknowledged.filter {
                applied[$0] != 1 || store.idempotencyResponse(forKey: "delivery/\($0)") != bytes("r-\($0)")
            }
            #expect(
                missing.count == 0,
                "round \(round): \(missing.count) acknowledged but lost, e.g. \(missing.sorted().prefix(10))")
            store.close()
        }
        #expect(killedMidRun == 20, "every kill should land mid-run (\(killedMidRun) of 20 did)")
        #expect(acknowledged.count > 100)
    }
}

/// Reads a pipe to its end on a background thread, so the child never blocks on a full pipe.
private final class Collector: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let text = Mutex<String>("")

    init(_ handle: FileHandle) {
        Thread.detachNewThread { self.readToEnd(handle) }
    }

    private func readToEnd(_ handle: FileHandle) {
        let data = handle.readDataToEndOfFile()
        text.withLock { $0 = String(decoding: data, as: UTF8.self) }
        done.signal()
    }

    /// Waits for end of file and returns the lines.
    func finish() -> [String] {
        done.wait()
        return text.withLock { $0 }.split(separator: "\n").map(String.init)
    }
}
