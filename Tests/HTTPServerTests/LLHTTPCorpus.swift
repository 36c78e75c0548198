import Foundation

/// One request case of the llhttp corpus (`/work/shared/corpora/llhttp/*.md`, see its SOURCE.md).
struct LLHTTPCase: CustomStringConvertible {
    /// What llhttp does with the input in the case's mode.
    enum Expectation: Equatable {
        /// Parses without error (an incomplete last message is not an error).
        case accept
        /// Stops with an error.
        case reject
        /// Pauses for an Upgrade, CONNECT or `PRI` (HTTP/2 preface): a strict webhook listener refuses these.
        case upgrade
        /// `llhttp_finish` after the input: 0 (safe, nothing pending) or not (a request was cut short).
        case finish(safe: Bool)
    }

    /// The file, e.g. `transfer-encoding.md`.
    var file: String
    /// The heading path, e.g. `Transfer-Encoding header > Invalid OBS fold after chunked value`.
    var name: String
    /// The meta `type`, e.g. `request` or `request-lenient-headers`.
    var type: String
    /// The raw request bytes.
    var input: [UInt8]
    /// The expected outcome in the case's own mode.
    var expectation: Expectation

    /// Whether the case is for one of llhttp's optional lenient modes (which a strict server rejects).
    var isLenient: Bool { type.hasPrefix("request-lenient") }

    var description: String { "\(file): \(name)" }

    /// Reads every case of every `.md` file in `directory`.
    static func load(from directory: URL) throws -> [LLHTTPCase] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".md") && $0 != "SOURCE.md" }
            .sorted()
        return try files.flatMap { file in
            try parse(String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8), file: file)
        }
    }

    /// Parses one Markdown file: headings name cases, `<!-- meta=… -->` starts one, then an `http` and a `log` fence.
    static func parse(_ text: String, file: String) -> [LLHTTPCase] {
        let lines = text.components(separatedBy: "\n")
        var cases: [LLHTTPCase] = []
        var seen: [String: Int] = [:]
        var headings: [Int: String] = [:]
        var previous: String?
        var index = 0
        var meta: String?
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("#") {
                let level = line.prefix { $0 == "#" }.count
                headings[level] = line.dropFirst(level).trimmingCharacters(in: .whitespaces)
                headings = headings.filter { $0.key <= level }
            } else if line.hasPrefix("===") || line.hasPrefix("---"), let previous, !previous.isEmpty {
                headings = [(line.hasPrefix("===") ? 1 : 2): previous]
            } else if let range = line.range(of: #"<!--\s*meta=(\{.*?\})\s*-->"#, options: .regularExpression) {
                meta = String(line[range])
            } else if line == "```http", let currentMeta = meta {
                var body: [String] = []
                index += 1
                while index < lines.count, lines[index] != "```" {
                    body.append(lines[index])
                    index += 1
                }
                var log: [String] = []
                while index < lines.count, lines[index] != "```log" { index += 1 }
                index += 1
                while index < lines.count, lines[index] != "```" {
                    log.append(lines[index])
                    index += 1
                }
                let type = currentMeta.firstMatch(of: /"type":\s*"([^"]+)"/).map { String($0.1) } ?? "request"
                var name = headings.keys.sorted().compactMap { headings[$0] }.joined(separator: " > ")
                seen[name, default: 0] += 1
                if let repeats = seen[name], repeats > 1 { name += " #\(repeats)" }
                cases.append(
                    LLHTTPCase(
                        file: file, name: name, type: type, input: decode(body.joined(separator: "\n")),
                        expectation: classify(log)
                    ))
                meta = nil
            }
            previous = line
            index += 1
        }
        return cases
    }

    /// llhttp's `md-test.ts` decoding: join backslash-newline, newline → CRLF, then expand
    /// `\r \n \t \f \xHH \NNN`. (md-test also drops the fence's final newline, which `source`, the fence lines
    /// joined by newlines, never has.)
    static func decode(_ source: String) -> [UInt8] {
        var text = source
        text = text.replacingOccurrences(of: "\\\n", with: "")
        text = text.replacingOccurrences(of: "\n", with: "\r\n")
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                out.append(byte)
                index += 1
                continue
            }
            let next = bytes[index + 1]
            switch next {
            case UInt8(ascii: "r"):
                out.append(0x0D)
                index += 2
            case UInt8(ascii: "n"):
                out.append(0x0A)
                index += 2
            case UInt8(ascii: "t"):
                out.append(0x09)
                index += 2
            case UInt8(ascii: "f"):
                out.append(0x0C)
                index += 2
            case UInt8(ascii: "x"):
                let hex = String(decoding: bytes[(index + 2)..<min(index + 4, bytes.count)], as: UTF8.self)
                out.append(UInt8(hex, radix: 16) ?? 0)
                index += 4
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var end = index + 1
                while end < bytes.count, end < index + 4, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(bytes[end]) {
                    end += 1
                }
                out.append(UInt8(String(decoding: bytes[(index + 1)..<end], as: UTF8.self), radix: 8) ?? 0)
                index = end
            default:
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    private static func classify(_ log: [String]) -> Expectation {
        for line in log {
            if let match = line.firstMatch(of: /finish=(\d+)/) { return .finish(safe: match.1 == "0") }
            if let match = line.firstMatch(of: /error code=(\d+)/) {
                return ["21", "22", "23"].contains(String(match.1)) ? .upgrade : .reject
            }
        }
        return .accept
    }
}
