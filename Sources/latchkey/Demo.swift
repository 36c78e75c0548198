import ArgumentParser
import Bookings
import Configuration
import FakeSeam
import Foundation
import Gateway
import Logging
import Reconciler
import WebhookAuth

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `latchkey demo`: the whole path in one command, against the built-in fake Seam.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start Latchkey with the fake Seam, replay a short booking story, and print what the locks hold.",
        discussion: "Nothing outside this machine is touched; the data directory is a fresh temporary one."
    )

    @Flag(name: .long, help: "Show PINs instead of masking them.") var showPins = false

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "latchkey-demo-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = SandboxConfiguration.make(dataDirectory: directory)
        configuration.server.port = 0
        let logger = bootstrapLogging(
            level: ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "warning", format: "human")
        // A guest-messaging system of our own, on a loopback port: Latchkey posts it access.* events with the PIN.
        let receiver = try DemoReceiver(logger: logger)
        defer { receiver.stop() }
        var endpoint = NotificationSettings(url: receiver.url, secret: .inline(DemoReceiver.secret))
        endpoint.includePIN = true
        configuration.notifications = [endpoint]
        let gateway = try await LatchkeyGateway(configuration: configuration, environment: [:], logger: logger)
        print("Latchkey on 127.0.0.1:\(gateway.port), talking to \(gateway.seamTarget)")
        print("notifications go to \(receiver.url) (a receiver in this demo that checks every signature)\n")

        let story = DemoStory.make(listing: SandboxConfiguration.sampleListing) + [DemoStory.arrivingToday()]
        let url = URL(string: "http://127.0.0.1:\(gateway.port)/webhooks/native")!
        for step in story {
            let status = try await DemoStory.post(step.body, to: url)
            print("\(step.title.padding(toLength: 44, withPad: " ", startingAt: 0)) → \(status)")
        }
        await gateway.waitUntilIdle()
        await DemoStory.reportCodesSet(gateway: gateway)
        await gateway.waitUntilIdle()
        print("")
        print(
            DemoStory.table(
                reservations: await gateway.reconciler.reservations(), fake: gateway.fakeSeam?.service,
                showPins: showPins))
        print("\nnotifications received (the PIN masked unless --show-pins):")
        for _ in 0..<100 where !receiver.events.contains(where: { $0.type == "access.ready" }) {
            try await Task.sleep(for: .milliseconds(100))
        }
        let events = receiver.events
        for event in events {
            print(DemoReceiver.line(event, showPins: showPins))
        }
        if events.isEmpty { print("(none arrived within 10 s; run with LOG_LEVEL=debug to see why)") }
        await gateway.stop()
    }
}

/// The demo's bookings and its table.
enum DemoStory {
    struct Step {
        var title: String
        var body: String
    }

    static func make(listing: String) -> [Step] {
        func body(
            _ event: String, _ id: String, _ status: String, _ checkIn: String, _ checkOut: String, _ guest: String,
            _ updated: String
        ) -> String {
            """
            {"event":"\(event)","booking":{"id":"\(id)","listing_id":"\(listing)","status":"\(status)",\
            "check_in":"\(checkIn)","check_out":"\(checkOut)","guest":{"name":"\(guest)"},"updated_at":"\(updated)"}}
            """
        }
        return [
            Step(
                title: "res_1001 confirmed (Ada, 14–19 Jul 2030)",
                body: body(
                    "booking.created", "res_1001", "confirmed", "2030-07-14T15:00:00", "2030-07-19T11:00:00",
                    "Ada Lovelace", "2030-01-01T10:00:00Z")),
            Step(
                title: "res_1002 confirmed (Grace, 20–22 Jul 2030)",
                body: body(
                    "booking.created", "res_1002", "confirmed", "2030-07-20T15:00:00", "2030-07-22T11:00:00",
                    "Grace Hopper", "2030-01-01T10:01:00Z")),
            Step(
                title: "res_1001 early check-in 12:00",
                body: body(
                    "booking.updated", "res_1001", "confirmed", "2030-07-14T12:00:00", "2030-07-19T11:00:00",
                    "Ada Lovelace", "2030-01-02T10:00:00Z")),
            Step(
                title: "res_1003 pending (no code yet)",
                body: body(
                    "booking.created", "res_1003", "pending", "2030-08-01T15:00:00", "2030-08-03T11:00:00",
                    "Alan Turing", "2030-01-01T10:02:00Z")),
            Step(
                title: "res_1002 cancelled",
                body: body(
                    "booking.cancelled", "res_1002", "cancelled", "2030-07-20T15:00:00", "2030-07-22T11:00:00",
                    "Grace Hopper", "2030-01-03T10:00:00Z")),
            Step(
                title: "res_1001 delivered again (duplicate)",
                body: body(
                    "booking.updated", "res_1001", "confirmed", "2030-07-14T12:00:00", "2030-07-19T11:00:00",
                    "Ada Lovelace", "2030-01-02T10:00:00Z")),
        ]
    }

    /// A stay that began an hour ago (in the property's zone), so its codes go onto the locks at once and Latchkey
    /// sends `access.ready`; the 2030 stays are only scheduled, so they wait for their window.
    static func arrivingToday(listing: String = SandboxConfiguration.sampleListing) -> Step {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Berlin")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let now = Date()
        let checkIn = formatter.string(from: now.addingTimeInterval(-3_600))
        let checkOut = formatter.string(from: now.addingTimeInterval(2 * 86_400))
        let updated = now.formatted(Date.ISO8601FormatStyle())
        return Step(
            title: "res_1004 confirmed (Linus, arriving now)",
            body: """
                {"event":"booking.created","booking":{"id":"res_1004","listing_id":"\(listing)",\
                "status":"confirmed","check_in":"\(checkIn)","check_out":"\(checkOut)",\
                "guest":{"name":"Linus Torvalds"},"updated_at":"\(updated)"}}
                """)
    }

    /// Lets the fake Seam finish programming (5 s on its clock) and hands Latchkey its `access_code.set_on_device`
    /// events, as Seam's webhooks would (the demo's built-in fake sends none).
    static func reportCodesSet(gateway: LatchkeyGateway) async {
        guard let fake = gateway.fakeSeam?.service else { return }
        fake.advanceClock(by: 6)
        for code in fake.accessCodes where code.status == .set {
            _ = try? await gateway.reconciler.recordLockEvent(accessCodeID: code.id, kind: .set)
        }
    }

    /// Signs `body` like a native-format sender and posts it; returns the status.
    static func post(_ body: String, to url: URL) async throws -> Int {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let stableID = "msg_" + Hex.encode(Array(Crypto.sha256(Array(body.utf8)).prefix(8)))
        let headers = try StandardWebhooks.headers(
            id: stableID, timestamp: Int(Date().timeIntervalSince1970), body: Array(body.utf8),
            secrets: [Secret(SandboxConfiguration.nativeSecret)])
        for header in headers { request.setValue(header.value, forHTTPHeaderField: header.name) }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    static func table(reservations: [Reconciler.ReservationSnapshot], fake: FakeSeamService?, showPins: Bool) -> String
    {
        let codes = fake?.accessCodes ?? []
        var lines = [
            "reservation  phase       booking    PIN       locks (state in Seam)", String(repeating: "-", count: 78),
        ]
        for reservation in reservations.sorted(by: { $0.key < $1.key }) {
            let pin =
                reservation.applied?.pin.map { showPins ? $0.digits : String(repeating: "•", count: $0.digits.count) }
                ?? "-"
            let locks =
                reservation.applied?.codes.map { code -> String in
                    let seam = codes.first { $0.id == code.accessCodeID }
                    return "\(code.deviceID.suffix(4)):\(seam.map { "\($0.status)" } ?? "gone")"
                }.joined(separator: " ") ?? "-"
            lines.append(
                reservation.key.reservationID.padding(toLength: 13, withPad: " ", startingAt: 0)
                    + reservation.phase.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + (reservation.desired?.status.rawValue ?? "-").padding(toLength: 11, withPad: " ", startingAt: 0)
                    + pin.padding(toLength: 10, withPad: " ", startingAt: 0) + locks)
        }
        return lines.joined(separator: "\n")
    }
}
