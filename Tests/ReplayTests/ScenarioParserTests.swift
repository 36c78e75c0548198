import Foundation
import LatchkeyTestSupport
import Testing

@testable import Replay

@Suite("Scenario files")
struct ScenarioParserTests {
    static let full = """
        name: guesty early check-in
        source: guesty
        description: moves the window
        order: strict
        deliveries:
          - label: created
            body:
              event: reservation.new
              reservation: {_id: "abc", listingId: "64f0", nights: 3, price: 1.50, paid: true, note: null, code: "0042", hour: 15:00}
            delay_ms: 250
          - body_raw: '{"a": 1}'
            headers: {webhook-id: msg_1, webhook-timestamp: "1700000000", webhook-signature: "v1,AAAA"}
          - body: {event: x}
            sign: false
            expect_status: [401, 403]
          - body: {event: y}
            sign: stale
          - duplicate_of: 0
            expect_status: 200
        expect:
          abc:
            group: present
            devices: [d1, d2]
            starts_at: 2030-07-14T15:00:00+02:00
            ends_at: "2030-07-17T09:00:00Z"
            same_pin_on_all_locks: true
          gone:
            group: absent
        """

    @Test("a scenario with every feature parses into its parts")
    func parsesEveryFeature() throws {
        let scenario = try ScenarioParser.parse(yaml: Self.full, file: "x.yaml")
        #expect(scenario.name == "guesty early check-in")
        #expect(scenario.source == "guesty")
        #expect(scenario.keepsOrderWhenShuffled)
        #expect(scenario.deliveries.count == 5)

        let first = scenario.deliveries[0]
        #expect(first.label == "created")
        #expect(first.delayMilliseconds == 250)
        #expect(first.sign == .valid)
        #expect(
            String(decoding: first.body.bytes, as: UTF8.self)
                == #"{"event":"reservation.new","reservation":{"_id":"abc","listingId":"64f0","nights":3,"price":1.50,"paid":true,"note":null,"code":"0042","hour":"15:00"}}"#
        )

        let recorded = scenario.deliveries[1]
        #expect(recorded.body == .raw(Array(#"{"a": 1}"#.utf8)))
        #expect(recorded.headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])

        #expect(scenario.deliveries[2].sign == .unsigned)
        #expect(scenario.deliveries[2].expectedStatuses == [401, 403])
        #expect(scenario.deliveries[2].accepts(status: 403))
        #expect(!scenario.deliveries[2].accepts(status: 202))
        #expect(scenario.deliveries[3].sign == .stale)
        #expect(scenario.deliveries[3].accepts(status: 401))

        let again = scenario.deliveries[4]
        #expect(again.duplicateOf == 0)
        #expect(again.body == first.body)
        #expect(again.expectedStatuses == [200])
        #expect(again.label == "created again")

        #expect(scenario.expectations.count == 2)
        let present = try #require(scenario.expectations.first { $0.reservationID == "abc" })
        #expect(present.group == .present)
        #expect(present.source == "guesty")
        #expect(present.deviceIDs == ["d1", "d2"])
        #expect(present.startsAt == Date(timeIntervalSince1970: 1_910_264_400))  // 2030-07-14T13:00:00Z
        #expect(present.endsAt == RFC3339.parse("2030-07-17T09:00:00Z"))
        #expect(present.samePinOnAllLocks)
        #expect(scenario.expectations.first { $0.reservationID == "gone" }?.group == .absent)
    }

    @Test("a valid delivery expects 2xx by default and a negative sign mode expects 401")
    func defaultExpectations() {
        let valid = Delivery(body: .json(.object([])))
        #expect(valid.accepts(status: 202) && valid.accepts(status: 200) && !valid.accepts(status: 401))
        #expect(valid.expectedStatusText == "2xx")
        let wrong = Delivery(body: .json(.object([])), sign: .wrongSecret)
        #expect(wrong.accepts(status: 401) && !wrong.accepts(status: 202))
    }

    @Test("an unknown key is reported with its path and line")
    func unknownKey() {
        let yaml = """
            name: x
            source: native
            deliveries:
              - body: {a: 1}
                sign_mode: stale
            """
        #expect(
            throws: ScenarioError(
                file: "f.yaml", key: "deliveries[0].sign_mode", line: 5,
                message:
                    "unknown key; known keys here are: body, body_file, body_raw, delay_ms, expect_status, headers, label, sign"
            )
        ) {
            try ScenarioParser.parse(yaml: yaml, file: "f.yaml")
        }
    }

    @Test(
        "bad values are refused with a message saying what to write",
        arguments: [
            ("deliveries:\n  - body: {a: 1}\n    sign: maybe", "deliveries[0].sign"),
            ("deliveries:\n  - body: {a: 1}\n    body_raw: x", "deliveries[0]"),
            ("deliveries:\n  - duplicate_of: 3", "deliveries[0].duplicate_of"),
            ("deliveries:\n  - body: {a: 1}\nexpect:\n  r1: {group: absent, devices: [a]}", "expect.r1.devices"),
            (
                "deliveries:\n  - body: {a: 1}\nexpect:\n  r1: {group: present, starts_at: tomorrow}",
                "expect.r1.starts_at"
            ),
            ("deliveries:\n  - body: {a: 1}\n    sign: stale\n    headers: {a: b}", "deliveries[0]"),
        ])
    func refusesBadValues(tail: String, key: String) {
        do {
            _ = try ScenarioParser.parse(yaml: "name: x\nsource: native\n" + tail)
            Issue.record("expected an error at \(key)")
        } catch {
            #expect(error.key == key)
            #expect(!error.message.isEmpty)
        }
    }

    @Test("a body_file is read as exact bytes relative to the scenario file")
    func bodyFile() throws {
        let temporary = TemporaryDirectory(prefix: "replay")
        defer { temporary.remove() }
        let directory = temporary.url
        let bytes = Array("{ \"spaced\" : true }\n".utf8)
        try Data(bytes).write(to: directory.appendingPathComponent("body.json"))
        let path = directory.appendingPathComponent("s.yaml").path
        try Data("name: x\nsource: native\ndeliveries:\n  - body_file: body.json\n".utf8).write(
            to: URL(fileURLWithPath: path))
        let scenario = try ScenarioParser.load(path: path)
        #expect(scenario.deliveries[0].body == .raw(bytes))
    }
}
