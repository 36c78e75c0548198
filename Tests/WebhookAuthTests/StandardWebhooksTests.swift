import Foundation
import LatchkeyTestSupport
import Testing

@testable import WebhookAuth

/// Official vectors and negative cases from standard-webhooks (pms-webhooks.md §2.3).
@Suite("Standard Webhooks and Svix")
struct StandardWebhooksTests {
    static let secretA = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    static let idA = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestampA = 1_614_265_330
    static let bodyA = bytes(#"{"test": 2432232314}"#)
    static let signatureA = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    func verifier(_ secrets: [Secret] = [secretA]) throws -> WebhookVerifier {
        try WebhookVerifier(scheme: .standardWebhooks(), secrets: secrets)
    }

    func headersA(signature: String = signatureA, prefix: String = "webhook") -> [String: String] {
        ["\(prefix)-id": Self.idA, "\(prefix)-timestamp": String(Self.timestampA), "\(prefix)-signature": signature]
    }

    func failure(
        _ headers: [String: String], body: [UInt8] = bodyA, now: Date = unix(timestampA),
        secrets: [Secret] = [secretA]
    ) throws -> AuthFailure? {
        let verifier = try verifier(secrets)
        do {
            _ = try verifier.verify(header: lookup(headers), body: body, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test func signProducesOfficialVectorA() throws {
        #expect(
            try StandardWebhooks.sign(id: Self.idA, timestamp: Self.timestampA, body: Self.bodyA, secret: Self.secretA)
                == Self.signatureA)
    }

    @Test func signProducesRustVectorB() throws {
        let signature = try StandardWebhooks.sign(
            id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", timestamp: 1_649_367_553,
            body: bytes(#"{"email":"test@example.com","username":"test_user"}"#),
            secret: Secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"))
        #expect(signature == "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")
    }

    @Test func compactPayloadGivesADifferentSignature() throws {
        let signature = try StandardWebhooks.sign(
            id: Self.idA, timestamp: Self.timestampA,
            body: bytes(#"{"test":2432232314}"#), secret: Self.secretA)
        #expect(signature == "v1,Vif40peJBP7Iyl0XGmu61n4MwdrcHov5CFREBpE0svs=")
    }

    @Test func verifiesVectorAAndReturnsIdAndTimestamp() throws {
        let delivery = try verifier().verify(header: lookup(headersA()), body: Self.bodyA, now: unix(Self.timestampA))
        #expect(delivery == VerifiedDelivery(deliveryID: Self.idA, timestamp: unix(Self.timestampA), secretIndex: 0))
    }

    @Test func verifiesSvixHeadersAndMixedCaseNames() throws {
        let svix = ["Svix-Id": Self.idA, "SVIX-TIMESTAMP": String(Self.timestampA), "svix-signature": Self.signatureA]
        let delivery = try verifier().verify(header: lookup(svix), body: Self.bodyA, now: unix(Self.timestampA))
        #expect(delivery.deliveryID == Self.idA)
    }

    @Test func rejectsTamperedSignature() throws {
        let failure = try failure(headersA(signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="))
        #expect(failure?.reason == .noSignatureMatched)
        #expect(failure?.header == "webhook-signature")
    }

    @Test func rejectsTamperedBody() throws {
        #expect(try failure(headersA(), body: bytes(#"{"test": 2432232315}"#))?.reason == .noSignatureMatched)
    }

    @Test func rejectsRustTamperedVectorB() throws {
        let headers = [
            "webhook-id": "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "webhook-timestamp": "1649367553",
            "webhook-signature": "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=",
        ]
        let failure = try failure(
            headers, body: bytes(#"{"email":"test@example.com","username":"test_user"}"#),
            now: unix(1_649_367_553), secrets: [Secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")])
        #expect(failure?.reason == .noSignatureMatched)
    }

    @Test func acceptsAValidSignatureAmongUnknownVersionsAndWrongOnes() throws {
        let other = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        let header = "v1,\(other) v2,\(other) \(Self.signatureA) v1,\(other)"
        #expect(try failure(headersA(signature: header)) == nil)
    }

    @Test func skipsUnknownVersionsEvenWithTheRightBytes() throws {
        let failure = try failure(headersA(signature: "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="))
        #expect(failure?.reason == .noSignatureMatched)
    }

    @Test(arguments: [
        "v1,", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O", "v1,dawfeoifkpqwoekfpqoekf", "garbage", "", "   ",
    ])
    func rejectsMalformedSignatureHeaders(_ signature: String) throws {
        #expect(try failure(headersA(signature: signature))?.reason == .malformedHeader)
    }

    @Test(arguments: ["webhook-id", "webhook-timestamp", "webhook-signature"])
    func rejectsAMissingHeaderNamingIt(_ missing: String) throws {
        var headers = headersA()
        headers[missing] = nil
        let failure = try failure(headers)
        #expect(failure?.reason == .missingHeader)
        #expect(failure?.header == missing)
        #expect(failure?.message.contains(missing) == true)
    }

    @Test(arguments: ["hello", "161426533.0", "-161426533", "1614265330 1", ""])
    func rejectsNonIntegerTimestamps(_ timestamp: String) throws {
        var headers = headersA()
        headers["webhook-timestamp"] = timestamp
        let failure = try failure(headers)
        #expect(failure?.reason == .malformedHeader)
        #expect(failure?.header == "webhook-timestamp")
    }

    @Test func rejectsTimestampsMoreThanFiveMinutesOldOrAhead() throws {
        #expect(try failure(headersA(), now: unix(Self.timestampA + 301))?.reason == .staleTimestamp)
        #expect(try failure(headersA(), now: unix(Self.timestampA - 301))?.reason == .futureTimestamp)
        #expect(try failure(headersA(), now: unix(Self.timestampA + 300)) == nil)
        #expect(try failure(headersA(), now: unix(Self.timestampA - 300)) == nil)
    }

    @Test func toleranceIsConfigurable() throws {
        let strict = try WebhookVerifier(scheme: .standardWebhooks(tolerance: 10), secrets: [Self.secretA])
        #expect(throws: AuthFailure.self) {
            try strict.verify(header: lookup(headersA()), body: Self.bodyA, now: unix(Self.timestampA + 11))
        }
    }

    @Test(arguments: [-1.0, .infinity, .nan])
    func unusableTolerancesAreRejectedAtConfiguration(_ tolerance: Double) {
        #expect(throws: WebhookVerifier.ConfigurationError.self) {
            _ = try WebhookVerifier(scheme: .standardWebhooks(tolerance: tolerance), secrets: [Self.secretA])
        }
    }

    @Test func rotationAcceptsEitherSecretAndReportsWhichMatched() throws {
        let newSecret = try StandardWebhooks.generateSecret()
        let both = try verifier([newSecret, Self.secretA])
        let oldSigned = try both.verify(header: lookup(headersA()), body: Self.bodyA, now: unix(Self.timestampA))
        #expect(oldSigned.secretIndex == 1)

        let fresh = try StandardWebhooks.headers(
            id: "msg_new", timestamp: Self.timestampA, body: Self.bodyA, secrets: [newSecret])
        let freshHeaders = Dictionary(uniqueKeysWithValues: fresh.map { ($0.name, $0.value) })
        #expect(
            try both.verify(header: lookup(freshHeaders), body: Self.bodyA, now: unix(Self.timestampA)).secretIndex == 0
        )
        #expect(try failure(freshHeaders)?.reason == .noSignatureMatched)
    }

    @Test func senderSigningWithTwoSecretsPassesAReceiverKnowingOnlyOne() throws {
        let newSecret = try StandardWebhooks.generateSecret(byteCount: 24)
        let pairs = try StandardWebhooks.headers(
            id: Self.idA, timestamp: Self.timestampA, body: Self.bodyA,
            secrets: [Self.secretA, newSecret], names: .svix)
        #expect(pairs.map(\.name) == ["svix-id", "svix-timestamp", "svix-signature"])
        #expect(pairs[2].value.split(separator: " ").count == 2)
        let headers = Dictionary(uniqueKeysWithValues: pairs.map { ($0.name, $0.value) })
        #expect(
            try verifier([newSecret]).verify(header: lookup(headers), body: Self.bodyA, now: unix(Self.timestampA))
                .secretIndex == 0)
    }

    @Test(arguments: ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
    func acceptsSecretsWithOrWithoutPrefix(_ text: String) throws {
        #expect(
            try StandardWebhooks.sign(id: Self.idA, timestamp: Self.timestampA, body: Self.bodyA, secret: Secret(text))
                == Self.signatureA)
    }

    @Test func acceptsUnpaddedSecrets() throws {
        #expect(try StandardWebhooks.key(from: Secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS")).count == 23)
        #expect(try StandardWebhooks.key(from: Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr")).count == 25)
    }

    @Test(arguments: ["", "whsec_", "whsec_not base64!"])
    func rejectsUnusableSecretsAtConfiguration(_ text: String) {
        #expect(throws: WebhookVerifier.ConfigurationError.self) {
            _ = try WebhookVerifier(scheme: .standardWebhooks(), secrets: [Secret(text)])
        }
    }

    @Test func generatedSecretsAreWhsecBase64OfTheRequestedLength() throws {
        let secret = try StandardWebhooks.generateSecret(byteCount: 48)
        #expect(secret.revealedString.hasPrefix("whsec_"))
        #expect(try StandardWebhooks.key(from: secret).count == 48)
    }

    @Test func failureMessagesNeverContainSecretsOrSignatures() throws {
        let tampered = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
        let failure = try #require(try failure(headersA(signature: tampered)))
        for forbidden in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "g0hM9SsE", Self.signatureA] {
            #expect(!failure.message.contains(forbidden))
            #expect(!failure.description.contains(forbidden))
        }
    }

    @Test("timestamps are 1 to 12 ASCII digits, spaces and tabs around them ignored, nothing else")
    func timestampParsing() {
        #expect(StandardWebhooks.parseTimestamp("1700000000") == 1_700_000_000)
        #expect(StandardWebhooks.parseTimestamp(" \t1700000000 ") == 1_700_000_000)
        #expect(StandardWebhooks.parseTimestamp("0") == 0)
        #expect(StandardWebhooks.parseTimestamp("999999999999") == 999_999_999_999)
        for bad in [
            "", " ", "1234567890123", "+1700000000", "-1", "17000000.5", "1e9", "17 00", "\n1700000000", "١٧٠٠",
        ] {
            #expect(StandardWebhooks.parseTimestamp(bad) == nil, "\(bad.debugDescription)")
        }
    }
}
