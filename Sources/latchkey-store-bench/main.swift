// latchkey-store-bench: measures the Store (append, look-up, start-up, resident memory) and, with
// `--torture`, serves as the child process of the crash test.
//
//   latchkey-store-bench [--keys 10000,100000,1000000] [--dir DIR] [--keep]
//   latchkey-store-bench --torture DIR --run R --keys N [--compact-bytes B]
//   latchkey-store-bench --measure-open DIR --keys N      (internal: run by the benchmark in a fresh process)
import Dispatch
import Foundation
import Glibc
import Logging
import Store

/// The command line, parsed by hand: `--name value` pairs.
struct Arguments {
    private var values: [String: String] = [:]

    /// Parses `arguments` (without the program name).
    init(_ arguments: [String]) {
        var i = 0
        while i < arguments.count {
            if arguments[i].hasPrefix("--") {
                let value = i + 1 < arguments.count && !arguments[i + 1].hasPrefix("--") ? arguments[i + 1] : ""
                values[String(arguments[i].dropFirst(2))] = value
                i += value.isEmpty ? 1 : 2
            } else {
                i += 1
            }
        }
    }

    /// The value given for `--name` ("" for a bare flag), or nil if absent.
    subscript(_ name: String) -> String? { values[name] }
}

/// Writes one line to stdout at once (no buffering: the torture parent reads it even after SIGKILL).
func emit(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// Prints `message` to stderr and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("latchkey-store-bench: " + message + "\n").utf8))
    exit(1)
}

/// Opens a store, logging warnings and above only; exits on failure.
func openStore(_ dir: String, _ configuration: StoreConfiguration) -> Store {
    var logger = Logger(label: "latchkey-store-bench")
    logger.logLevel = .warning
    do {
        return try Store.open(at: dir, configuration: configuration, logger: logger)
    } catch {
        fail("\(error)")
    }
}

/// The response stored with claim `i`, about 45 bytes like a real 202 body.
func response(_ i: Int) -> [UInt8] { Array(#"{"status":"accepted","delivery":"evt_\#(i)"}"#.utf8) }

/// Commits `count` transactions produced by `make`, keeping up to `window` in flight, calling `done` per ack.
func commitAll(
    _ store: Store, range: Range<Int>, window: Int, make: (Int) -> Transaction,
    done: @escaping @Sendable (Int, CommitOutcome) -> Void
) {
    let slots = DispatchSemaphore(value: window)
    let group = DispatchGroup()
    for i in range {
        slots.wait()
        group.enter()
        store.commit(make(i)) { result in
            switch result {
            case .success(let outcome): done(i, outcome)
            case .failure(let error): fail("commit \(i) failed: \(error)")
            }
            slots.signal()
            group.leave()
        }
    }
    group.wait()
}

/// Resident set size in MB, from /proc/self/status.
func residentMB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return -1 }
    return kb / 1024
}

/// CPU seconds (user + system, all threads) this process has used so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
        usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Wall-clock seconds `body` takes.
func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// `--torture`: claims `delivery/i` and puts `applied/i/R` for i in 0..<keys, printing `i C` or `i D` per ack.
func torture(_ args: Arguments, dir: String) -> Never {
    guard let run = args["run"], let keys = Int(args["keys"] ?? "") else { fail("--torture needs --run and --keys") }
    var configuration = StoreConfiguration()
    configuration.compactionThresholdBytes = Int(args["compact-bytes"] ?? "") ?? 64 << 10
    configuration.segmentSizeLimitBytes = 16 << 10
    let store = openStore(dir, configuration)
    emit("open")
    commitAll(
        store, range: 0..<keys, window: 16,
        make: { i in
            var t = Transaction()
            t.claim("delivery/\(i)", response: Array("r-\(i)".utf8))
            t.put([1], forKey: "applied/\(i)/\(run)")
            return t
        }, done: { i, outcome in emit("\(i) \(outcome == .committed ? "C" : "D")") })
    store.close()
    emit("done")
    exit(0)
}

/// `--measure-open`: opens a store in this fresh process; prints start-up seconds, RSS MB and look-up µs.
func measureOpen(_ args: Arguments, dir: String) -> Never {
    let keys = Int(args["keys"] ?? "") ?? 0
    var configuration = StoreConfiguration()
    configuration.compactionThresholdBytes = .max
    var store: Store?
    let startup = seconds { store = openStore(dir, configuration) }
    guard let store else { exit(1) }
    let rss = residentMB()
    let lookups = 200_000
    var generator = SystemRandomNumberGenerator()
    let probes = (0..<lookups).map { _ in "delivery/guesty/evt_\(Int.random(in: 0..<keys, using: &generator))" }
    var hits = 0
    let lookupSeconds = seconds {
        for key in probes where store.idempotencyResponse(forKey: key) != nil { hits += 1 }
    }
    guard hits == lookups else { fail("only \(hits) of \(lookups) look-ups found their key") }
    emit("\(startup) \(rss) \(lookupSeconds / Double(lookups) * 1e6)")
    store.close()
    exit(0)
}

/// What a fresh process measured after opening a store.
struct OpenFigures {
    /// Seconds `Store.open` took.
    var startupSeconds: Double
    /// Resident memory right after opening, MB.
    var residentMB: Double
    /// Mean `idempotencyResponse(forKey:)` time over 200,000 random hits, µs.
    var lookupMicroseconds: Double
}

/// Runs `--measure-open` in a fresh process, so start-up and memory are not flattered by this one's state.
func measureInChild(dir: String, keys: Int) -> OpenFigures {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["--measure-open", dir, "--keys", String(keys)]
    let pipe = Pipe()
    child.standardOutput = pipe
    do { try child.run() } catch { fail("cannot run \(child.executableURL!.path): \(error)") }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    child.waitUntilExit()
    let figures = output.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    guard figures.count == 3 else { fail("measure-open printed \(output)") }
    return OpenFigures(startupSeconds: figures[0], residentMB: figures[1], lookupMicroseconds: figures[2])
}

/// The benchmark: for each size, appends that many claims (256 in flight), then measures a fresh process's
/// start-up from the journal alone, its resident memory and its look-up cost; then the same from a snapshot.
func benchmark(_ args: Arguments) -> Never {
    let sizes = (args["keys"] ?? "10000,100000,1000000").split(separator: ",").compactMap { Int($0) }
    let base = args["dir"] ?? NSTemporaryDirectory() + "latchkey-store-bench-\(getpid())"
    print("keys       append µs/op  (last 10%)  CPU µs/op  lookup µs/op  startup s  RSS MB  journal MB")
    for size in sizes {
        let dir = base + "/\(size)"
        try? FileManager.default.removeItem(atPath: dir)  // always start empty
        var configuration = StoreConfiguration()
        configuration.compactionThresholdBytes = .max  // keep every record in the journal for the start-up figure
        let store = openStore(dir, configuration)
        let make = { (i: Int) -> Transaction in
            var t = Transaction()
            t.claim("delivery/guesty/evt_\(i)", response: response(i))
            return t
        }
        let tail = size / 10
        let cpuBefore = cpuSeconds()
        let head = seconds { commitAll(store, range: 0..<(size - tail), window: 256, make: make, done: { _, _ in }) }
        let last = seconds { commitAll(store, range: (size - tail)..<size, window: 256, make: make, done: { _, _ in }) }
        let cpu = cpuSeconds() - cpuBefore
        let stats = store.stats()
        store.close()
        let fromJournal = measureInChild(dir: dir, keys: size)
        // Then the same state from a snapshot: compact, and start a fresh process again.
        let compacting = openStore(dir, configuration)
        let compactSeconds = seconds {
            do { try compacting.compact() } catch { fail("compaction failed: \(error)") }
        }
        compacting.close()
        let fromSnapshot = measureInChild(dir: dir, keys: size)
        let line = String(
            format: "%-10d %12.2f  %10.2f  %9.2f  %12.3f  %9.3f  %6.1f  %10.1f", size,
            (head + last) / Double(size) * 1e6, last / Double(tail) * 1e6, cpu / Double(size) * 1e6,
            fromJournal.lookupMicroseconds, fromJournal.startupSeconds,
            fromJournal.residentMB, Double(stats.journalBytes) / 1_048_576)
        print(line)
        print(
            String(
                format: "           %d fdatasyncs for %d transactions; compaction %.3f s; from the snapshot: "
                    + "startup %.3f s, RSS %.1f MB, lookup %.3f µs",
                stats.journalSyncs, stats.transactionsCommitted, compactSeconds, fromSnapshot.startupSeconds,
                fromSnapshot.residentMB, fromSnapshot.lookupMicroseconds))
        if args["keep"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }
    if args["keep"] == nil { try? FileManager.default.removeItem(atPath: base) }
    exit(0)
}

let arguments = Arguments(Array(CommandLine.arguments.dropFirst()))
if let dir = arguments["torture"] { torture(arguments, dir: dir) }
if let dir = arguments["measure-open"] { measureOpen(arguments, dir: dir) }
benchmark(arguments)
