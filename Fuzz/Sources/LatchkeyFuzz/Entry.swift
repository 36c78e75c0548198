import Foundation
import Glibc

/// libFuzzer entry points for Latchkey's parsers, one binary for every target (one sanitized link instead of
/// eleven). The target is chosen by the environment variable `LATCHKEY_FUZZ_TARGET`, one of
/// ``FuzzTarget/allCases``; scripts/checks/70-fuzz runs each in turn with its own corpus.
///
/// Every target checks more than "does not crash": see each target's documentation for the property it traps on.
enum FuzzTarget: String, CaseIterable {
    case httpParser = "http-parser"
    case standardWebhooks = "standard-webhooks"
    case bodyHMAC = "body-hmac"
    case basicAuth = "basic-auth"
    case pathToken = "path-token"
    case native, guesty, hostaway, hospitable, lodgify
    case journal

    /// The target named by `LATCHKEY_FUZZ_TARGET`; exits with a usage message when it is missing or unknown.
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["LATCHKEY_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            writeError("set LATCHKEY_FUZZ_TARGET to one of: \(names) (got \"\(name)\")")
            exit(2)
        }
        return target
    }()

    /// Runs the target on one input.
    func run(_ data: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .httpParser: HTTPParserTarget.run(data)
        case .standardWebhooks, .bodyHMAC, .basicAuth, .pathToken: SignatureTarget.run(self, data)
        case .native, .guesty, .hostaway, .hospitable, .lodgify: AdapterTarget.run(rawValue, data)
        case .journal: JournalTarget.run(data)
        }
    }
}

/// libFuzzer's initialisation hook: resolves the target once, before the first input.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = FuzzTarget.selected
    return 0
}

/// libFuzzer's per-input hook.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

/// Splits `data` at NUL bytes into at most `count` parts (the last part keeps any further NULs).
func fuzzParts(_ data: UnsafeBufferPointer<UInt8>, count: Int) -> [[UInt8]] {
    var parts: [[UInt8]] = []
    var current: [UInt8] = []
    for byte in data {
        if byte == 0, parts.count < count - 1 {
            parts.append(current)
            current = []
        } else {
            current.append(byte)
        }
    }
    parts.append(current)
    while parts.count < count { parts.append([]) }
    return parts
}

/// Stops the run with a message libFuzzer records next to the crashing input.
func fuzzFailure(_ message: String) -> Never {
    writeError("fuzz property violated: \(message)")
    abort()
}

/// Writes one line to standard error.
func writeError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}

/// libFuzzer's driver (compiler-rt, linked by `-sanitize=fuzzer`).
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The executable's entry point. SwiftPM links an executable target with `main` aliased to `<module>_main`
/// (so tests can import executables), which hides libFuzzer's own `main`; this one hands over to libFuzzer.
@_cdecl("LatchkeyFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    _ = FuzzTarget.selected
    return llvmFuzzerRunDriver(&count, &arguments) { data, size in fuzzTestOneInput(data, size) }
}
