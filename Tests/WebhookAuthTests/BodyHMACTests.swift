import Foundation
import LatchkeyTestSupport
import Testing

@testable import WebhookAuth

@Suite("Body HMAC schemes: Hospitable, Lodgify, GitHub, Shopify")
struct BodyHMACTests {
    func verify(_ config: BodyHMAC, secrets: [String], headers: [String: String], body: String) throws
        -> VerifiedDelivery
    {
        try WebhookVerifier(scheme: .bodyHMAC(config), secrets: secrets.map { Secret($0) })
            .verify(header: lookup(headers), body: bytes(body))
    }

    func failure(_ config: BodyHMAC, secrets: [String], headers: [String: String], body: String) throws -> AuthFailure?
    {
        let verifier = try WebhookVerifier(scheme: .bodyHMAC(config), secrets: secrets.map { Secret($0) })
        do {
            _ = try verifier.verify(header: lookup(headers), body: bytes(body))
            return nil
        } catch {
            return error
        }
    }

    @Test func hospitableDocumentedVectorVerifiesOnTheCompactBody() throws {
        let signature = "cc99bf5947391ddb0d0d9866f5b9d3a68e8b273c5ac8f699b4ae2399a7433118"
        #expect(BodyHMAC.hospitable.sign(body: bytes(#"{"foo":"bar"}"#), secret: Secret("123456")) == signature)
        _ = try verify(.hospitable, secrets: ["123456"], headers: ["Signature": signature], body: #"{"foo":"bar"}"#)
        // Upper-case hex is the same tag.
        _ = try verify(
            .hospitable, secrets: ["123456"], headers: ["Signature": signature.uppercased()], body: #"{"foo":"bar"}"#)
    }

    @Test func hospitableVectorFailsOnTheBodyAsPrintedWithASpace() throws {
        let failure = try failure(
            .hospitable, secrets: ["123456"],
            headers: ["Signature": "cc99bf5947391ddb0d0d9866f5b9d3a68e8b273c5ac8f699b4ae2399a7433118"],
            body: #"{"foo": "bar"}"#)
        #expect(failure?.reason == .noSignatureMatched)
        #expect(failure?.header == "signature")
    }

    @Test func githubDocumentedVectorVerifiesAndCarriesTheDeliveryId() throws {
        let headers = [
            "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        ]
        let delivery = try verify(
            .github, secrets: ["It's a Secret to Everybody"], headers: headers, body: "Hello, World!")
        #expect(delivery.deliveryID == "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        #expect(delivery.timestamp == nil)
    }

    @Test func lodgifyAndShopifyFormsMatchTheDerivedValues() throws {
        let body = #"{"test": 2432232314}"#
        _ = try verify(
            .lodgify, secrets: ["hush"],
            headers: ["ms-signature": "sha256=192324a2e62af75d17096ef005e8976075b52a199873f2f7c63e61e6bdbacf0e"],
            body: body)
        _ = try verify(
            .shopify, secrets: ["hush"],
            headers: ["X-Shopify-Hmac-SHA256": "GSMkouYq910XCW7wBeiXYHW1KhmYc/L3xj5h5r26zw4="], body: body)
    }

    @Test func lodgifyWithoutItsPrefixIsMalformed() throws {
        let failure = try failure(
            .lodgify, secrets: ["hush"],
            headers: ["ms-signature": "192324a2e62af75d17096ef005e8976075b52a199873f2f7c63e61e6bdbacf0e"],
            body: "{}")
        #expect(failure?.reason == .malformedHeader)
        #expect(failure?.message.contains("sha256=") == true)
    }

    @Test(arguments: ["", "abc", "zz" + String(repeating: "0", count: 62), String(repeating: "0", count: 62)])
    func badHexIsMalformed(_ value: String) throws {
        #expect(
            try failure(.hospitable, secrets: ["s"], headers: ["Signature": value], body: "{}")?.reason
                == .malformedHeader)
    }

    @Test func missingSignatureHeaderIsNamed() throws {
        let failure = try failure(.lodgify, secrets: ["s"], headers: [:], body: "{}")
        #expect(failure?.reason == .missingHeader)
        #expect(failure?.message.contains("ms-signature") == true)
    }

    @Test func rotationAcceptsOldAndNewSecretsAndNothingElse() throws {
        let body = #"{"id":"01GTKD6ZYFVQMR0RWP4HBBHNZC"}"#
        let secrets = ["new-secret", "old-secret"]
        for (index, secret) in secrets.enumerated() {
            let signature = BodyHMAC.hospitable.sign(body: bytes(body), secret: Secret(secret))
            #expect(
                try verify(.hospitable, secrets: secrets, headers: ["Signature": signature], body: body).secretIndex
                    == index)
        }
        let stranger = BodyHMAC.hospitable.sign(body: bytes(body), secret: Secret("someone-else"))
        #expect(
            try failure(.hospitable, secrets: secrets, headers: ["Signature": stranger], body: body)?.reason
                == .noSignatureMatched)
    }

    @Test func customHeaderPrefixAndBase64AreConfigurable() throws {
        let config = BodyHMAC(header: "X-Custom-Sig", prefix: "hmac:", encoding: .base64)
        let signature = config.sign(body: bytes("payload"), secret: Secret("k"))
        #expect(signature.hasPrefix("hmac:"))
        _ = try verify(config, secrets: ["k"], headers: ["x-custom-sig": signature], body: "payload")
    }
}

@Suite("HTTP Basic and path token schemes")
struct CredentialSchemeTests {
    func failure(_ verifier: WebhookVerifier, headers: [String: String] = [:], pathToken: String? = nil) -> AuthFailure?
    {
        do {
            _ = try verifier.verify(header: lookup(headers), body: [], pathToken: pathToken)
            return nil
        } catch {
            return error
        }
    }

    @Test func basicAuthAcceptsAnyConfiguredPairDuringRotation() throws {
        let verifier = try WebhookVerifier(
            scheme: .basicAuth, secrets: [Secret("hostaway:new-pw"), Secret("hostaway:old-pw")])
        let new = try verifier.verify(
            header: lookup(["Authorization": HTTPBasic.authorization(user: "hostaway", password: "new-pw")]), body: [])
        #expect(new.secretIndex == 0)
        let old = try verifier.verify(
            header: lookup(["authorization": "basic " + Base64.encode(bytes("hostaway:old-pw"))]), body: [])
        #expect(old.secretIndex == 1)
    }

    @Test func basicAuthRejectsWrongMissingAndMalformedCredentials() throws {
        let verifier = try WebhookVerifier(scheme: .basicAuth, secrets: [Secret("user:pw")])
        #expect(
            failure(verifier, headers: ["Authorization": HTTPBasic.authorization(user: "user", password: "pw2")])?
                .reason == .badCredentials)
        #expect(failure(verifier)?.reason == .missingHeader)
        #expect(failure(verifier, headers: ["Authorization": "Bearer abc"])?.reason == .malformedHeader)
        #expect(failure(verifier, headers: ["Authorization": "Basic !!!"])?.reason == .malformedHeader)
        #expect(
            failure(verifier, headers: ["Authorization": "Basic " + Base64.encode(bytes("nocolon"))])?.reason
                == .malformedHeader)
    }

    @Test func basicAuthSecretsMustBeUserColonPassword() {
        #expect(throws: WebhookVerifier.ConfigurationError.self) {
            _ = try WebhookVerifier(scheme: .basicAuth, secrets: [Secret("just-a-password")])
        }
    }

    @Test func pathTokenAcceptsConfiguredTokensOnly() throws {
        let verifier = try WebhookVerifier(scheme: .pathToken, secrets: [Secret("tok-new"), Secret("tok-old")])
        #expect(try verifier.verify(header: lookup([:]), body: [], pathToken: "tok-old").secretIndex == 1)
        #expect(failure(verifier, pathToken: "tok-other")?.reason == .badPathToken)
        #expect(failure(verifier, pathToken: nil)?.reason == .badPathToken)
        #expect(failure(verifier, pathToken: "")?.reason == .badPathToken)
    }

    @Test func aVerifierNeedsAtLeastOneNonEmptySecret() {
        #expect(throws: WebhookVerifier.ConfigurationError.self) {
            _ = try WebhookVerifier(scheme: .pathToken, secrets: [])
        }
        #expect(throws: WebhookVerifier.ConfigurationError.self) {
            _ = try WebhookVerifier(scheme: .bodyHMAC(.hospitable), secrets: [Secret("")])
        }
    }
}
