import Foundation
import Logging
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sends Seam events to one webhook URL, in order, from a background task, retrying failures.
///
/// Each event is one delivery: the body is the event object itself (§9.2); the headers are `svix-id` (the
/// event id, the same on every retry), `svix-timestamp` (Unix seconds of the attempt) and `svix-signature`
/// (§9.4), made by the injected signer. A delivery counts as done on any 2xx; otherwise it is retried after
/// each of ``WebhookTarget/retryDelays`` and then dropped (and recorded as failed).
package final class WebhookSender: Sendable {
    /// Makes the three `svix-*` headers for a message id, a timestamp and the exact body.
    package typealias Signer =
        @Sendable (_ id: String, _ timestamp: Int, _ body: [UInt8]) throws -> [(name: String, value: String)]

    /// Sends one request and returns the status, or `nil` when no answer came (the test seam; the default
    /// uses URLSession).
    package typealias Transport = @Sendable (URLRequest) async -> Int?

    /// What became of one event.
    package struct Delivery: Sendable, Equatable {
        /// The event id (`svix-id`).
        package var eventID: String
        /// The event type.
        package var eventType: String
        /// Attempts made so far.
        package var attempts: Int
        /// The last status received, or `nil` when none came (connection error).
        package var lastStatus: Int?
        /// Whether a 2xx was received.
        package var delivered: Bool
        /// Whether it was given up.
        package var abandoned: Bool

        /// The wire object in `/_fake/state`.
        var json: JSONValue {
            [
                "event_id": .string(eventID), "event_type": .string(eventType), "attempts": .int(attempts),
                "last_status": lastStatus.map(JSONValue.int) ?? nil, "delivered": .bool(delivered),
                "abandoned": .bool(abandoned),
            ]
        }
    }

    private let target: WebhookTarget
    private let sign: Signer
    private let logger: Logger
    private let transport: Transport
    private let queue: AsyncStream<SeamEvent>.Continuation
    private let records = Mutex<[Delivery]>([])
    private let worker = Mutex<Task<Void, Never>?>(nil)

    /// Creates a sender and starts its background task.
    /// - Parameters:
    ///   - target: Where to send and how often to retry.
    ///   - sign: Makes the signature headers (see ``FakeSeamService``, which signs with WebhookAuth).
    ///   - logger: Where delivery failures are logged (at debug/notice; never the secret or signature).
    ///   - transport: Sends one request; default a URLSession with ``WebhookTarget/timeout``.
    package init(target: WebhookTarget, sign: @escaping Signer, logger: Logger, transport: Transport? = nil) {
        self.target = target
        self.sign = sign
        self.logger = logger
        self.transport = transport ?? Self.urlSessionTransport(timeout: target.timeout)
        let (stream, continuation) = AsyncStream.makeStream(of: SeamEvent.self)
        self.queue = continuation
        let task = Task { [weak self] in
            for await event in stream {
                guard let self else { return }
                await self.deliver(event)
            }
        }
        worker.withLock { $0 = task }
    }

    deinit {
        queue.finish()
    }

    /// Queues events for delivery, in order.
    package func enqueue(_ events: [SeamEvent]) {
        for event in events {
            records.withLock {
                $0.append(
                    Delivery(
                        eventID: event.id, eventType: event.type, attempts: 0, lastStatus: nil, delivered: false,
                        abandoned: false))
            }
            queue.yield(event)
        }
    }

    /// What has become of every event queued so far, in queue order.
    package var deliveries: [Delivery] { records.withLock { $0 } }

    /// Stops after the current delivery; queued events are dropped.
    package func stop() {
        queue.finish()
        worker.withLock { $0?.cancel() }
    }

    private func deliver(_ event: SeamEvent) async {
        let body = event.json.encoded
        let delays = [0] + target.retryDelays
        for (attempt, delay) in delays.enumerated() {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
            if Task.isCancelled { return }
            let status = await post(event: event, body: body)
            let delivered = status.map { (200..<300).contains($0) } ?? false
            update(event.id) {
                $0.attempts = attempt + 1
                $0.lastStatus = status
                $0.delivered = delivered
            }
            if delivered { return }
            logger.notice(
                "Webhook delivery failed; will retry",
                metadata: [
                    "fake_seam.event_id": "\(event.id)", "fake_seam.status": "\(status.map(String.init) ?? "none")",
                    "fake_seam.attempt": "\(attempt + 1)",
                ]
            )
        }
        update(event.id) { $0.abandoned = true }
    }

    private func post(event: SeamEvent, body: [UInt8]) async -> Int? {
        var request = URLRequest(url: target.url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        do {
            for header in try sign(event.id, Int(Date().timeIntervalSince1970), body) {
                request.setValue(header.value, forHTTPHeaderField: header.name)
            }
        } catch {
            logger.error(
                "Webhook signing failed; check the whsec_ secret", metadata: ["fake_seam.event_id": "\(event.id)"])
            return nil
        }
        return await transport(request)
    }

    private static func urlSessionTransport(timeout: TimeInterval) -> Transport {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: configuration)
        return { request in
            do {
                let (_, response) = try await session.data(for: request)
                return (response as? HTTPURLResponse)?.statusCode
            } catch {
                return nil
            }
        }
    }

    private func update(_ eventID: String, _ change: (inout Delivery) -> Void) {
        records.withLock { records in
            if let index = records.lastIndex(where: { $0.eventID == eventID }) { change(&records[index]) }
        }
    }
}
