import Configuration
import Foundation
import Gateway
import Testing
import WebhookAuth

@testable import Replay

@Suite("Signing as each PMS does")
struct DeliverySignerTests {
    static let body = DeliveryBody.json(.object([("event", .string("booking.created")), ("n", .number("1"))]))

    @Test(
        "a valid delivery of every configured source passes WebhookAuth's verifier",
        arguments: ["native", "native-url", "guesty", "hostaway", "hospitable", "lodgify"])
    func validSignatureVerifies(source: String) throws {
        let configuration = try ScenarioFiles.configuration()
        let signer = try DeliverySigner(configuration: configuration, environment: [:])
        let request = try signer.request(for: Delivery(body: Self.body), source: source, deliveryID: "msg_1")
        let verified = try authenticate(request, configuration: configuration)
        #expect(request.body == Self.body.bytes)
        #expect(request.header("Content-Type") == "application/json")
        if case .standardWebhooks = configuration.source(named: source)?.auth {
            #expect(verified.deliveryID == "msg_1")
        }
    }

    @Test("each scheme puts its proof where that PMS does")
    func headersPerScheme() throws {
        let configuration = try ScenarioFiles.configuration()
        let signer = try DeliverySigner(configuration: configuration, environment: [:])
        func request(_ source: String) throws -> OutgoingRequest {
            try signer.request(
                for: Delivery(body: Self.body), source: source, deliveryID: "msg_7",
                now: Date(timeIntervalSince1970: 1_900_000_000))
        }
        let native = try request("native")
        #expect(native.path == "/webhooks/native")
        #expect(native.header("webhook-id") == "msg_7")
        #expect(native.header("webhook-timestamp") == "1900000000")
        #expect(native.header("webhook-signature")?.hasPrefix("v1,") == true)
        let guesty = try request("guesty")
        #expect(guesty.header("svix-id") == "msg_7" && guesty.header("webhook-id") == nil)
        let hospitable = try request("hospitable")
        #expect(hospitable.header("Signature")?.count == 64)
        #expect(
            hospitable.header("Signature")
                == Hex.encode(Crypto.hmacSHA256(Self.body.bytes, key: Array("hospitable-sandbox-secret".utf8))))
        #expect(try request("lodgify").header("ms-signature")?.hasPrefix("sha256=") == true)
        #expect(
            try request("hostaway").header("Authorization")
                == HTTPBasic.authorization(user: "hostaway", password: "hostaway-sandbox-password"))
        #expect(try request("native-url").path == "/webhooks/native-url/sandbox-path-token-0001")
    }

    @Test(
        "negative sign modes are refused by the verifier",
        arguments: ["native", "native-url", "guesty", "hostaway", "hospitable", "lodgify"])
    func negativeModesFail(source: String) throws {
        let configuration = try ScenarioFiles.configuration()
        let signer = try DeliverySigner(configuration: configuration, environment: [:])
        for mode in [SignMode.unsigned, .wrongSecret, .otherSource] {
            let request = try signer.request(
                for: Delivery(body: Self.body, sign: mode), source: source, deliveryID: "msg_2")
            #expect(throws: (any Error).self, "\(mode) on \(source)") {
                try authenticate(request, configuration: configuration)
            }
        }
    }

    @Test("a stale Standard Webhooks delivery carries a valid signature over a timestamp past the tolerance")
    func staleTimestamp() throws {
        let configuration = try ScenarioFiles.configuration()
        let signer = try DeliverySigner(configuration: configuration, environment: [:])
        let now = Date()
        let request = try signer.request(
            for: Delivery(body: Self.body, sign: .stale), source: "native", deliveryID: "msg_3", now: now)
        let timestamp = try #require(Int(request.header("webhook-timestamp") ?? ""))
        #expect(Int(now.timeIntervalSince1970) - timestamp == 300 + 120)
        do {
            _ = try authenticate(request, configuration: configuration, now: now)
            Issue.record("a stale delivery was accepted")
        } catch let failure as AuthFailure {
            #expect(failure.reason == .staleTimestamp)
        }
        // The same signature is valid at the time it claims: only the age is wrong.
        #expect(throws: Never.self) {
            try authenticate(
                request, configuration: configuration, now: Date(timeIntervalSince1970: TimeInterval(timestamp)))
        }
    }

    @Test("stale on a scheme without a signed timestamp is a scenario error, not a silent valid delivery")
    func staleNeedsTimestamp() throws {
        let signer = try DeliverySigner(configuration: try ScenarioFiles.configuration(), environment: [:])
        #expect(throws: ReplayError.self) {
            try signer.request(for: Delivery(body: Self.body, sign: .stale), source: "hospitable", deliveryID: "msg_4")
        }
    }

    @Test("recorded headers are sent unchanged and nothing is signed again")
    func recordedHeaders() throws {
        let signer = try DeliverySigner(configuration: try ScenarioFiles.configuration(), environment: [:])
        let delivery = Delivery(
            body: .raw(Array("{}".utf8)),
            headers: [("Signature", "abc"), ("Content-Type", "application/json; charset=utf-8")])
        let request = try signer.request(for: delivery, source: "hospitable", deliveryID: "msg_5")
        #expect(request.header("Signature") == "abc")
        #expect(
            request.headers.filter { $0.name.lowercased() == "content-type" }.map(\.value) == [
                "application/json; charset=utf-8"
            ])
    }

    @Test("an env secret that is not set stops the signer with the source's name")
    func unresolvedSecret() throws {
        var configuration = try ScenarioFiles.configuration()
        configuration.sources[0].auth = .standardWebhooks(
            secrets: [.environment("REPLAY_TEST_UNSET_SECRET")], toleranceSeconds: 300)
        do {
            _ = try DeliverySigner(configuration: configuration, environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("source native") && error.message.contains("REPLAY_TEST_UNSET_SECRET"))
        }
    }
}
