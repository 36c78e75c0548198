import Bookings
import Foundation
import Logging
import Reconciler
import Seam

/// The notifications part: the outbox written through the reconciler's store (``stateStore``, handed to the
/// reconciler) and the dispatcher that sends it. Started before the reconciler, so that no committed change goes
/// unnoticed, and stopped after it.
package final class NotificationService: Sendable {
    /// The reconciler's store, with the events of each change written into the same transaction.
    package let stateStore: NotifyingStateStore
    /// The sender, for the admin API and `/metrics`.
    package let dispatcher: NotificationDispatcher

    /// Loads the outbox and the records to compare with, and starts sending.
    /// - Parameters:
    ///   - endpoints: The configured endpoints (at least one; without any, use the base store as it is).
    ///   - properties: The configured properties (name and zone in each event).
    ///   - store: The journal-backed store.
    ///   - clock: Dates events and schedules retries. Default ``SystemClock``.
    ///   - makeTransport: For tests: the transport of an endpoint. Default `URLSession`.
    ///   - logger: The root logger.
    /// - Returns: The running service.
    /// - Throws: The store's errors, or ``NotificationError/corrupt(key:reason:)``; nothing is left running then.
    package static func start(
        endpoints: [NotificationEndpoint], properties: [Property], store: any StateStore,
        clock: any ReconcilerClock = SystemClock(),
        makeTransport: (@Sendable (NotificationEndpoint) -> any SeamTransport)? = nil, logger: Logger
    ) async throws -> NotificationService {
        let dispatcher =
            if let makeTransport {
                NotificationDispatcher(
                    endpoints: endpoints, store: store, clock: clock, makeTransport: makeTransport, logger: logger)
            } else {
                NotificationDispatcher(endpoints: endpoints, store: store, clock: clock, logger: logger)
            }
        let stateStore = NotifyingStateStore(
            base: store,
            properties: Dictionary(
                properties.map {
                    (
                        $0.id,
                        NotifyingStateStore.PropertyInfo(name: $0.name, timeZone: $0.timeZone, deviceIDs: $0.deviceIDs)
                    )
                },
                uniquingKeysWith: { first, _ in first }),
            endpoints: endpoints, clock: clock, dispatcher: dispatcher)
        let last = try await dispatcher.load()
        try await stateStore.load(lastSequence: last)
        await dispatcher.start()
        return NotificationService(stateStore: stateStore, dispatcher: dispatcher)
    }

    private init(stateStore: NotifyingStateStore, dispatcher: NotificationDispatcher) {
        self.stateStore = stateStore
        self.dispatcher = dispatcher
    }

    /// Stops sending; returns once the dispatcher's task has ended.
    package func stop() async {
        await dispatcher.stop()
    }
}
