import Configuration
import FakeSeam
import Foundation
import Gateway
import Logging
import Reconciler
import Testing
import WebhookAuth

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The whole path in one process: HTTP in, journal, reconciler, the built-in fake Seam out.
@Suite(.serialized) struct GatewayEndToEndTests {
    /// A running sandbox gateway on port 0 with a fresh data directory.
    struct Harness {
        let gateway: LatchkeyGateway
        let directory: String

        static func start(directory: String? = nil, eventLoops: Int = 1) async throws -> Harness {
            let directory =
                directory
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("lk-e2e-\(UUID().uuidString)").path
            var configuration = SandboxConfiguration.make(dataDirectory: directory)
            configuration.server.port = 0
            configuration.server.eventLoops = eventLoops
            let gateway = try await LatchkeyGateway(
                configuration: configuration, environment: [:], logger: Logger(label: "e2e"))
            return Harness(gateway: gateway, directory: directory)
        }

        func post(
            _ body: String, id: String, secret: String = SandboxConfiguration.nativeSecret, source: String = "native",
            timestamp: Int = Int(Date().timeIntervalSince1970)
        ) async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(gateway.port)/webhooks/\(source)")!)
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            for header in try StandardWebhooks.headers(
                id: id, timestamp: timestamp, body: Array(body.utf8), secrets: [Secret(secret)])
            {
                request.setValue(header.value, forHTTPHeaderField: header.name)
            }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        func codes(marker reservation: String) -> [AccessCodeRecord] {
            (gateway.fakeSeam?.service.accessCodes ?? []).filter {
                ($0.name ?? "").contains("[lk:native:\(reservation)]")
            }
        }
    }

    static func booking(
        _ id: String, event: String = "booking.created", status: String = "confirmed",
        checkIn: String = "2030-07-14T15:00:00", checkOut: String = "2030-07-19T11:00:00",
        updatedAt: String = "2030-01-01T10:00:00Z", listing: String = SandboxConfiguration.sampleListing
    ) -> String {
        """
        {"event":"\(event)","booking":{"id":"\(id)","listing_id":"\(listing)","status":"\(status)","check_in":"\(checkIn)",\
        "check_out":"\(checkOut)","time_zone":"Europe/Berlin","guest":{"name":"Ada Lovelace"},"updated_at":"\(updatedAt)"}}
        """
    }

    @Test func severalListenerThreads_AcceptEveryDelivery_OneGroupEach_AndStop() async throws {
        // 8 bookings on the sandbox's 2 locks stay within Seam's 10 creates per lock per minute (no pacing wait).
        let harness = try await Harness.start(eventLoops: 3)
        defer { try? FileManager.default.removeItem(atPath: harness.directory) }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for number in 0..<8 {
                group.addTask { try await harness.post(Self.booking("loops-\(number)"), id: "msg_loops_\(number)").0 }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 202, count: 8))
        let (again, _) = try await harness.post(Self.booking("loops-0"), id: "msg_loops_0")
        #expect(again == 200)
        await harness.gateway.waitUntilIdle()
        for number in 0..<8 { #expect(harness.codes(marker: "loops-\(number)").count == 2) }
        await harness.gateway.stop()
    }

    @Test("a booking older than the one received is answered 200 ignored, recorded for its repeat, and changes nothing")
    func olderBooking_IsIgnored_AndItsRepeatToo() async throws {
        let harness = try await Harness.start()
        defer { try? FileManager.default.removeItem(atPath: harness.directory) }
        let (created, _) = try await harness.post(
            Self.booking("old-1", updatedAt: "2030-01-02T10:00:00Z"), id: "msg_new")
        #expect(created == 202)
        await harness.gateway.waitUntilIdle()
        let codes = harness.codes(marker: "old-1")
        #expect(codes.count == 2)

        let stale = Self.booking(
            "old-1", event: "booking.cancelled", status: "cancelled", updatedAt: "2030-01-01T10:00:00Z")
        let (status, body) = try await harness.post(stale, id: "msg_old")
        #expect(status == 200)
        #expect(body.contains(#""status":"ignored""#))
        #expect(body.contains(#""delivery_id":"msg_old""#))
        #expect(body.contains("older than the one already received"))
        let (repeatStatus, repeatBody) = try await harness.post(stale, id: "msg_old")
        #expect(repeatStatus == 200)
        #expect(repeatBody == body, "the repeat gets the first answer again")
        let (reused, _) = try await harness.post(
            Self.booking("old-1", updatedAt: "2029-01-01T10:00:00Z"), id: "msg_old")
        #expect(reused == 422, "the ignored delivery's id is claimed like any other")

        await harness.gateway.waitUntilIdle()
        let after = harness.codes(marker: "old-1")
        #expect(Set(after.map(\.id)) == Set(codes.map(\.id)))
        #expect(after.allSatisfy { $0.status != .removing }, "the older cancellation must not remove the group")
        await harness.gateway.stop()
    }

    @Test func confirmedBooking_GetsOneLinkedGroupOnEveryLock_AndCancelRemovesIt() async throws {
        let harness = try await Harness.start()
        defer { try? FileManager.default.removeItem(atPath: harness.directory) }

        let (status, body) = try await harness.post(Self.booking("r1"), id: "msg_1")
        #expect(status == 202)
        #expect(body.contains(#""status":"accepted""#))
        await harness.gateway.waitUntilIdle()
        let codes = harness.codes(marker: "r1")
        #expect(codes.count == 2)
        #expect(Set(codes.map(\.code)).count == 1, "the same PIN on every lock")
        #expect(codes.first?.commonCodeKey != nil)
        // Window: 15:00 Berlin summer time (UTC+2) minus the 30 min buffer.
        #expect(codes.first?.startsAt == ISO8601DateFormatter().date(from: "2030-07-14T12:30:00Z"))

        // Late checkout moves the same group.
        let (moved, _) = try await harness.post(
            Self.booking(
                "r1", event: "booking.updated", checkOut: "2030-07-19T14:00:00", updatedAt: "2030-01-02T10:00:00Z"),
            id: "msg_2")
        #expect(moved == 202)
        await harness.gateway.waitUntilIdle()
        let after = harness.codes(marker: "r1")
        #expect(Set(after.map(\.id)) == Set(codes.map(\.id)), "moved, not re-created")
        #expect(after.first?.endsAt == ISO8601DateFormatter().date(from: "2030-07-19T12:30:00Z"))

        let (cancelled, _) = try await harness.post(
            Self.booking("r1", event: "booking.cancelled", status: "cancelled", updatedAt: "2030-01-03T10:00:00Z"),
            id: "msg_3")
        #expect(cancelled == 202)
        await harness.gateway.waitUntilIdle()
        let remaining = harness.codes(marker: "r1")
        #expect(remaining.allSatisfy { $0.status == .removing }, "\(remaining.map { "\($0.status)" })")
        await harness.gateway.stop()
    }

    @Test func duplicateDelivery_Answers200WithTheFirstBody_AndActsOnce() async throws {
        let harness = try await Harness.start()
        defer { try? FileManager.default.removeItem(atPath: harness.directory) }
        let body = Self.booking("r2")
        let first = try await harness.post(body, id: "msg_dup")
        let second = try await harness.post(body, id: "msg_dup")
        #expect(first.0 == 202)
        #expect(second.0 == 200)
        #expect(second.1 == first.1)
        let reused = try await harness.post(Self.booking("r2", checkIn: "2030-07-15T15:00:00"), id: "msg_dup")
        #expect(reused.0 == 422)
        await harness.gateway.waitUntilIdle()
        #expect(harness.codes(marker: "r2").count == 2)
        // The fake counts calls per device: one create_multiple over the two locks counts once on each.
        #expect(harness.gateway.fakeSeam?.service.callCount(route: "/access_codes/create_multiple") == 2)
        await harness.gateway.stop()
    }

    @Test func theSameDeliveryArrivingManyTimesAtOnce_IsAcceptedOnce_AndEveryRepeatGetsTheFirstBody() async throws {
        // Repeats that overlap the first delivery's group commit are caught by the journal's writer (and undo their
        // ledger update); those after it are answered from the journal before the writer. Both must look the same.
        let harness = try await Harness.start(eventLoops: 2)
        defer { try? FileManager.default.removeItem(atPath: harness.directory) }
        let body = Self.booking("r-burst")
        let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for _ in 0..<12 { group.addTask { try await harness.post(body, id: "msg_burst") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let accepted = answers.filter { $0.0 == 202 }
        #expect(accepted.count == 1, "\(answers.map(\.0))")
        #expect(answers.filter { $0.0 == 200 }.count == 11, "\(answers.map(\.0))")
        #expect(answers.allSatisfy { $0.1 == accepted.first?.1 })
        let later = try await harness.post(body, id: "msg_burst")
        #expect(later.0 == 200 && later.1 == accepted.first?.1)
        // A later booking of the same reservation is still taken: the repeats left the ledger as it was.
        let moved = try await harness.post(Self.booking("r-burst", checkIn: "2030-07-15T15:00:00"), id: "msg_burst_2")
        #expect(moved.0 == 202)
        await harness.gateway.waitUntilIdle()
        #expect(harness.codes(marker: "r-burst").count == 2)
        #expect(harness.gateway.fakeSeam?.service.callCount(route: "/access_codes/create_multiple") == 2)
        await harness.gateway.stop()
    }

    @Test func badInput_GetsClearErrors_AndChangesNothing() async throws {
        let harness = try await Harness.start()
        defer { try? FileManager.default.removeItem(atPath: harness.directory) }
        let wrongSecret = try await harness.post(
            Self.booking("r3"), id: "m1",
            secret: "whsec_" + Data("another-secret-of-24-byte".utf8).base64EncodedString())
        #expect(wrongSecret.0 == 401)
        #expect(wrongSecret.1.contains("unauthorized"))
        let stale = try await harness.post(
            Self.booking("r3"), id: "m2", timestamp: Int(Date().timeIntervalSince1970) - 600)
        #expect(stale.0 == 401)
        let unknown = try await harness.post(Self.booking("r3"), id: "m3", source: "nosuch")
        #expect(unknown.0 == 404)
        #expect(unknown.1.contains("unknown_source"))
        let malformed = try await harness.post(#"{"event":"booking.created","booking":{"id":"r3"}}"#, id: "m4")
        #expect(malformed.0 == 400)
        #expect(malformed.1.contains("booking."))
        await harness.gateway.waitUntilIdle()
        #expect(harness.codes(marker: "r3").isEmpty)
        // A good delivery right behind the bad ones still goes through.
        let good = try await harness.post(Self.booking("r3"), id: "m5")
        #expect(good.0 == 202)
        await harness.gateway.stop()
    }

    @Test func restart_KeepsDeliveriesAndGroups() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lk-e2e-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await Harness.start(directory: directory)
        #expect(try await first.post(Self.booking("r4"), id: "msg_r4").0 == 202)
        await first.gateway.waitUntilIdle()
        await first.gateway.stop()

        let second = try await Harness.start(directory: directory)
        #expect(try await second.post(Self.booking("r4"), id: "msg_r4").0 == 200, "the journal remembers the delivery")
        let snapshot = await second.gateway.reconciler.reservation(
            ReservationKey(source: "native", reservationID: "r4"))
        #expect(snapshot?.applied?.codes.count == 2)
        await second.gateway.stop()
    }

    @Test func reservationsLongPast_AreForgotten_WithTheirStoredBookings_AndLiveOnesKept() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lk-e2e-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await Harness.start(directory: directory)
        let past = Self.booking(
            "old", checkIn: "2020-07-14T15:00:00", checkOut: "2020-07-19T11:00:00", updatedAt: "2020-01-01T10:00:00Z")
        #expect(try await first.post(past, id: "msg_old").0 == 202)
        #expect(try await first.post(Self.booking("live"), id: "msg_live").0 == 202)
        await first.gateway.waitUntilIdle()
        let old = ReservationKey(source: "native", reservationID: "old")
        let live = ReservationKey(source: "native", reservationID: "live")
        #expect(await first.gateway.reconciler.reservation(old)?.phase == .past)
        #expect(await first.gateway.forgetEndedReservations() == 1)
        #expect(await first.gateway.reconciler.reservation(old) == nil)
        #expect(await first.gateway.reconciler.reservation(live)?.applied?.codes.count == 2)
        #expect(await first.gateway.forgetEndedReservations() == 0, "nothing left to forget")
        await first.gateway.stop()

        // The stored booking went too: a restart, which re-reads every stored booking, does not bring it back.
        let second = try await Harness.start(directory: directory)
        await second.gateway.waitUntilIdle()
        #expect(await second.gateway.reconciler.reservation(old) == nil)
        #expect(await second.gateway.reconciler.reservation(live)?.applied?.codes.count == 2)
        #expect(try await second.post(past, id: "msg_old").0 == 200, "the delivery itself is still remembered")
        await second.gateway.stop()
    }
}
