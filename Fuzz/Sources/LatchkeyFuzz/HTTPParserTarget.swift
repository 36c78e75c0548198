@testable import HTTPServer

/// The HTTP/1.1 request parser over arbitrary bytes, fed whole and again in pieces (piece sizes taken from the
/// input's first byte). Properties: no crash; `consumed` never exceeds the input; the parser always makes
/// progress or asks for more; and the outcome (requests, errors) does not depend on how the bytes were split.
enum HTTPParserTarget {
    static let limits = HTTPRequestParser.Limits(
        maxHeadBytes: 4096, maxHeaderCount: 32, maxBodyBytes: 16 << 10, maxChunkExtensionBytes: 256
    )

    static func run(_ data: UnsafeBufferPointer<UInt8>) {
        guard let first = data.first else { return }
        let input = Array(data.dropFirst())
        let whole = outcome(input, pieceSize: max(input.count, 1))
        let split = outcome(input, pieceSize: Int(first % 17) + 1)
        if whole != split {
            fuzzFailure("parser outcome depends on the split:\n whole: \(whole)\n split (\(Int(first % 17) + 1)): \(split)")
        }
    }

    /// The steps the parser reports for `input` delivered `pieceSize` bytes at a time, as text.
    static func outcome(_ input: [UInt8], pieceSize: Int) -> [String] {
        var parser = HTTPRequestParser(limits: limits)
        var buffer: [UInt8] = []
        var steps: [String] = []
        var offset = 0
        while offset < input.count {
            let end = min(offset + pieceSize, input.count)
            buffer.append(contentsOf: input[offset..<end])
            offset = end
            var spins = 0
            while true {
                let (consumed, step) = buffer.withUnsafeBufferPointer { parser.parse($0) }
                guard consumed >= 0, consumed <= buffer.count else { fuzzFailure("consumed \(consumed) of \(buffer.count)") }
                buffer.removeFirst(consumed)
                switch step {
                case .needMore:
                    break
                case .headComplete(let expectsContinue):
                    steps.append("head(continue: \(expectsContinue))")
                    spins += 1
                    if spins > input.count + 2 { fuzzFailure("parser keeps answering without progress") }
                    continue
                case .request(let request, let keepAlive):
                    steps.append(describe(request) + " keepAlive=\(keepAlive)")
                    spins += 1
                    if spins > input.count + 2 { fuzzFailure("parser keeps answering without progress") }
                    continue
                case .failure(let error):
                    steps.append("failure(\(error))")
                    return steps
                }
                break
            }
        }
        return steps
    }

    static func describe(_ request: HTTPRequest) -> String {
        let headers = request.headers.fields.map { "\($0.name)=\($0.value)" }.joined(separator: "|")
        return "\(request.method) \(request.target) 1.\(request.minorVersion) [\(headers)] body=\(request.body.count):\(request.body.reduce(0) { $0 &* 31 &+ Int($1) })"
    }
}
