import ArgumentParser
import Bookings
import Foundation
import Gateway
import Intake
import Logging
import PostgresStore
import Reconciler
import Store

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where an on-call command finds the instance: its admin API (`--url`, running) or its data directory.
struct InstanceLocation: ParsableArguments {
    @OptionGroup var store: StoreCommand.Location

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A running instance's base URL (e.g. http://127.0.0.1:8080); the admin token is read from LATCHKEY_ADMIN_TOKEN.",
            valueName: "url"))
    var url: String?

    /// The admin API client, when `--url` is given.
    func adminClient() throws -> AdminClient? {
        guard let url else { return nil }
        guard let base = URL(string: url), base.scheme != nil else {
            throw ValidationError("--url \(url): expected a URL such as http://127.0.0.1:8080")
        }
        guard let token = ProcessInfo.processInfo.environment["LATCHKEY_ADMIN_TOKEN"], !token.isEmpty else {
            throw ValidationError("--url needs the admin token in LATCHKEY_ADMIN_TOKEN (the instance's admin.token)")
        }
        return AdminClient(base: base, token: token)
    }

    /// The data directory's entries, read without its lock and without changing anything (or PostgreSQL's, when the
    /// configuration names it, read in one query without the work lease).
    func readEntries() throws -> [String: [UInt8]] {
        if let postgreSQL = try store.postgreSQL() {
            do {
                return try PostgresStore.readEntries(configuration: postgreSQL)
            } catch {
                throw OnCallError("cannot read PostgreSQL: \(error.description)")
            }
        }
        let directory = try store.directory()
        do {
            return try Store.readOnlySnapshot(at: directory)
        } catch {
            throw OnCallError("cannot read \(directory): \(error.description)")
        }
    }
}

/// A failure of an on-call command, printed as is; exit status 1.
struct OnCallError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A minimal client of the admin API.
struct AdminClient {
    let base: URL
    let token: String

    /// Sends a request and returns the status and the decoded JSON object.
    func call(_ method: String, _ path: String) async throws -> (status: Int, body: [String: Any]) {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw OnCallError(
                "cannot reach \(base.absoluteString): \(error.localizedDescription); is `latchkey serve` running there?"
            )
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let body = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, body)
    }

    /// The error body's message, or the status.
    static func problem(_ status: Int, _ body: [String: Any]) -> String {
        let error = body["error"] as? [String: Any]
        return "HTTP \(status)" + (error.map { ": \($0["type"] ?? "") — \($0["message"] ?? "")" } ?? "")
    }
}

/// `latchkey outbox list|retry`.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "List the Seam calls waiting or given up on, and retry a dead letter.",
        discussion: """
            With --url the running instance's admin API is used (token in LATCHKEY_ADMIN_TOKEN). Without it \
            the data directory is read: `list` reads it without its lock (safe on a running instance); \
            `retry` takes the lock, so it only works while the instance is stopped.
            """,
        subcommands: [List.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the outbox intents and the dead letters.")
        @OptionGroup var location: InstanceLocation

        func run() async throws {
            do {
                if let client = try location.adminClient() {
                    let (status, outbox) = try await client.call("GET", "/v1/outbox?limit=1000")
                    guard status == 200 else { throw OnCallError(AdminClient.problem(status, outbox)) }
                    let (deadStatus, dead) = try await client.call("GET", "/v1/dead-letters?limit=1000")
                    guard deadStatus == 200 else { throw OnCallError(AdminClient.problem(deadStatus, dead)) }
                    printIntents(
                        (outbox["intents"] as? [[String: Any]] ?? []).map {
                            [$0["id"], $0["reservation"], $0["operation"], $0["failed_attempts"], $0["created_at"]].map
                            { "\($0 ?? "-")" }
                        })
                    printDeadLetters(
                        (dead["dead_letters"] as? [[String: Any]] ?? []).map {
                            [
                                $0["id"], $0["reservation"], $0["operation"], $0["attempts"], $0["failed_at"],
                                $0["message"],
                            ].map { "\($0 ?? "-")" }
                        })
                    return
                }
                let records = StoredRecords(entries: try location.readEntries())
                for problem in records.problems {
                    printError("warning: \(problem); it is left out. Is this binary older than the data?")
                }
                printIntents(
                    records.intents.map {
                        [
                            $0.id, $0.reservation.description, $0.operation.label, "\($0.failedAttempts)",
                            $0.createdAt.ISO8601Format(),
                        ]
                    })
                printDeadLetters(
                    records.deadLetters.map {
                        [
                            $0.id, $0.reservation.description, $0.operation, "\($0.attempts)",
                            $0.failedAt.ISO8601Format(), $0.message,
                        ]
                    })
            } catch let error as OnCallError {
                printError("latchkey outbox list: \(error)")
                throw ExitCode(1)
            }
        }

        private func printIntents(_ rows: [[String]]) {
            print("outbox: \(rows.count) intent(s)")
            if !rows.isEmpty { print(Table.render(["id", "reservation", "operation", "failed", "created_at"], rows)) }
        }

        private func printDeadLetters(_ rows: [[String]]) {
            print("dead letters: \(rows.count)")
            if !rows.isEmpty {
                print(Table.render(["id", "reservation", "operation", "attempts", "failed_at", "message"], rows))
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a dead letter back into the outbox (its reservation is planned again).")
        @Argument(help: "The dead letter's id, as `outbox list` prints it.") var id: String
        @OptionGroup var location: InstanceLocation

        func run() async throws {
            do {
                if let client = try location.adminClient() {
                    let (status, body) = try await client.call(
                        "POST",
                        "/v1/outbox/\(id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id)/retry")
                    guard status == 202 else { throw OnCallError(AdminClient.problem(status, body)) }
                    print("re-queued \(id)")
                    return
                }
                try await retryOffline()
            } catch let error as OnCallError {
                printError("latchkey outbox retry: \(error)")
                throw ExitCode(1)
            }
        }

        /// Removes the dead letter in one durable transaction; the next start unblocks its reservation and
        /// plans it again (the reconciler clears a block whose letter is gone).
        private func retryOffline() async throws {
            let logger = bootstrapLogging(level: "warning", format: "human")
            let store: any DurableStore
            let place: String
            if let postgreSQL = try location.store.postgreSQL() {
                place = "PostgreSQL"
                do {
                    // A running instance holds the work lease: its reconciler would not see the change.
                    try PostgresStore.refuseWhileAnInstanceRuns(configuration: postgreSQL)
                    store = try PostgresStore.open(configuration: postgreSQL, logger: logger)
                } catch {
                    throw Self.openError(error, place: "the database")
                }
            } else {
                place = try location.store.directory()
                do {
                    store = try Store.open(at: place, logger: logger)
                } catch {
                    throw Self.openError(error, place: place)
                }
            }
            defer { store.close() }
            do {
                try await Reconciler.requeueDeadLetter(id, in: StoreStateStore(store: store))
            } catch ReconcilerError.unknownDeadLetter {
                throw OnCallError("no dead letter \(id) in \(place); list them with `latchkey outbox list`")
            } catch {
                throw OnCallError("could not remove the dead letter: \(error)")
            }
            print("re-queued \(id): its reservation is planned again when `latchkey serve` starts")
        }

        /// Why the store could not be opened; a running instance holds it (the data directory's lock, or the
        /// database's work lease).
        private static func openError(_ error: StoreError, place: String) -> OnCallError {
            if error.code == .locked {
                return OnCallError(
                    "\(place) is in use by a running instance; retry through it with --url http://HOST:PORT")
            }
            return OnCallError("cannot open \(place): \(error.description)")
        }
    }
}

/// `latchkey reservations show SOURCE ID`.
struct ReservationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reservations",
        abstract: "Show what Latchkey holds for a reservation (read-only).",
        subcommands: [Show.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print a reservation's booking state and its group of access codes; the PIN is masked unless --show-pin.",
            discussion:
                "Reads the data directory without its lock (safe on a running instance), or the admin API with --url.")
        @Argument(help: "The source name, e.g. guesty.") var source: String
        @Argument(help: "The PMS's reservation id.") var id: String
        @Flag(name: .long, help: "Print the PIN instead of masking it.") var showPin = false
        @OptionGroup var location: InstanceLocation

        func run() async throws {
            do {
                if let client = try location.adminClient() {
                    let path = "/v1/reservations/\(escape(source))/\(escape(id))" + (showPin ? "?include_pin=true" : "")
                    let (status, body) = try await client.call("GET", path)
                    guard status == 200 else { throw OnCallError(AdminClient.problem(status, body)) }
                    var shown = body
                    if !showPin, shown["pin"] != nil { shown["pin"] = "••••" }
                    let data = try JSONSerialization.data(
                        withJSONObject: shown, options: [.prettyPrinted, .sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                    return
                }
                let entries = try location.readEntries()
                let records = StoredRecords(entries: entries)
                let key = ReservationKey(source: source, reservationID: id)
                let record: ReservationRecord
                let stored: ReservationRecord?
                do {
                    stored = try records.reservation(key)
                } catch {
                    throw OnCallError("the record of \(key) cannot be decoded; run `latchkey store verify`")
                }
                if let stored {
                    record = stored
                } else if let booking = StoredBookings.latest(source: source, reservationID: id, in: entries) {
                    // Nothing done in Seam yet: the gateway stores no reconciler record until then, only the booking.
                    record = ReservationRecord(
                        key: key,
                        desired: DesiredBooking(
                            booking.event,
                            version: BookingVersion(
                                updatedAt: booking.event.updatedAt, receivedSequence: booking.receivedSequence)))
                } else {
                    throw OnCallError(
                        "no reservation \(key) in the data directory; check the source name and the PMS's reservation id"
                    )
                }
                print(describe(record, intent: records.intent(for: key)))
            } catch let error as OnCallError {
                printError("latchkey reservations show: \(error)")
                throw ExitCode(1)
            }
        }

        private func escape(_ part: String) -> String {
            part.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? part
        }

        private func describe(_ record: ReservationRecord, intent: OutboxIntent?) -> String {
            var lines = ["reservation: \(record.key)"]
            if let desired = record.desired {
                lines.append("booking: \(desired.status.rawValue), listing \(desired.listingID)")
            } else {
                lines.append("booking: none received")
            }
            if let letter = record.blockedBy { lines.append("dead letter: \(letter)") }
            if let intent {
                lines.append(
                    "in the outbox: \(intent.id) \(intent.operation.label), \(intent.failedAttempts) failed attempt(s)")
            }
            guard let applied = record.applied else {
                lines.append("group: none in Seam")
                return lines.joined(separator: "\n")
            }
            let pin = applied.pin.map { showPin ? $0.digits : String(repeating: "•", count: $0.digits.count) } ?? "-"
            lines.append(
                "group: property \(applied.propertyID), common_code_key \(applied.commonCodeKey ?? "-"), PIN \(pin)")
            lines.append(
                Table.render(
                    ["device", "access_code_id", "status", "starts_at", "ends_at"],
                    applied.codes.map {
                        [
                            $0.deviceID, $0.accessCodeID ?? "-", $0.status.rawValue, $0.window.startsAt.ISO8601Format(),
                            $0.window.endsAt.ISO8601Format(),
                        ]
                    }))
            return lines.joined(separator: "\n")
        }
    }
}

/// Left-aligned columns separated by two spaces.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.count > column ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
