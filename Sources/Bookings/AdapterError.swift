/// A webhook body that an adapter cannot turn into booking events. The gateway answers 400 with ``description``.
///
/// ``field`` is a JSON path such as `booking.check_in` or `data.properties[0].id`, so the sender (or the
/// person reading the log) sees exactly which field was wrong.
package struct AdapterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON path of the offending field; empty for the body as a whole.
    package let field: String
    /// What was wrong with it, and what was expected.
    package let problem: String

    /// Creates an error.
    package init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    /// `<field>: <problem>`, or just the problem for the whole body.
    package var description: String { field.isEmpty ? problem : "\(field): \(problem)" }
}

/// What an adapter made of one webhook body.
package enum AdapterOutcome: Sendable, Equatable {
    /// Booking events to record; `deliveryID` is the PMS's own unique delivery or event id, if the body has one
    /// (Hospitable's envelope `id`), for use as an idempotency key.
    case events([BookingEvent], deliveryID: String? = nil)
    /// A body of a known PMS that carries no booking change (another event type, a test ping); answer 2xx
    /// and record nothing. `reason` says why, for the log.
    case ignored(reason: String, deliveryID: String? = nil)

    /// The events, or none when ignored.
    package var events: [BookingEvent] {
        if case .events(let events, _) = self { events } else { [] }
    }

    /// The PMS's own delivery id, if any.
    package var deliveryID: String? {
        switch self {
        case .events(_, let id), .ignored(_, let id): id
        }
    }
}

/// Turns one PMS's webhook bodies into ``BookingEvent``s.
package protocol PMSAdapter: Sendable {
    /// The adapter's registry name, e.g. `hostaway`.
    var name: String { get }

    /// Decodes one webhook body.
    ///
    /// - Parameters:
    ///   - body: The raw request body (JSON).
    ///   - source: The configured source name, copied into every event's ``BookingEvent/source``.
    /// - Returns: The events, or why the body was ignored.
    /// - Throws: ``AdapterError`` naming the field that is missing or wrong.
    func decode(_ body: [UInt8], source: String) throws(AdapterError) -> AdapterOutcome
}

/// The registry of built-in adapters.
package enum PMSAdapters {
    /// Every built-in adapter, by name.
    package static let all: [any PMSAdapter] = [
        NativeAdapter(), GuestyAdapter(), HostawayAdapter(), HospitableAdapter(), LodgifyAdapter(),
    ]

    /// The names accepted by ``adapter(named:)``: `native`, `guesty`, `hostaway`, `hospitable`, `lodgify`.
    package static var names: [String] { all.map(\.name) }

    /// The adapter called `name` (case-insensitive), or `nil` when there is none.
    package static func adapter(named name: String) -> (any PMSAdapter)? {
        all.first { $0.name == name.lowercased() }
    }
}
