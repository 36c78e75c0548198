import Bookings

/// One PMS adapter's `decode` over arbitrary bodies. Property: no crash or trap, and every event it returns
/// carries the configured source name.
enum AdapterTarget {
    static func run(_ name: String, _ data: UnsafeBufferPointer<UInt8>) {
        guard let adapter = PMSAdapters.adapter(named: name) else { fuzzFailure("no adapter \(name)") }
        guard case .events(let events, _)? = try? adapter.decode(Array(data), source: "fuzz-source") else { return }
        for event in events where event.source != "fuzz-source" {
            fuzzFailure("\(name) returned an event for source \(event.source)")
        }
    }
}
