import Foundation
import LatchkeyTestSupport
import Testing

@testable import WebhookAuth

/// Vectors signed by the PyPI `standardwebhooks` and `svix` libraries (scripts/gen-signature-vectors.py).
@Suite("Signatures made by the standardwebhooks and svix Python libraries")
struct LibraryVectorTests {
    struct Fixture: Decodable {
        let vectors: [Vector]
    }

    struct Vector: Decodable, CustomTestStringConvertible {
        let library: String
        let headers: String
        let secrets: [String]
        let id: String
        let timestamp: Int
        let body: String
        let signature: String
        var testDescription: String { "\(library) \(id)" }

        /// The headers the library sent: `<headers>-id`, `-timestamp` and `-signature`.
        var headerFields: [String: String] {
            ["\(headers)-id": id, "\(headers)-timestamp": String(timestamp), "\(headers)-signature": signature]
        }

        /// A Standard Webhooks verifier holding the vector's secrets.
        func verifier() throws -> WebhookVerifier {
            try WebhookVerifier(scheme: .standardWebhooks(), secrets: secrets.map { Secret($0) })
        }
    }

    static let vectors: [Vector] = {
        guard
            let url = Bundle.module.url(
                forResource: "library-vectors", withExtension: "json", subdirectory: "Fixtures"),
            let data = try? Data(contentsOf: url),
            let fixture = try? JSONDecoder().decode(Fixture.self, from: data)
        else { return [] }
        return fixture.vectors
    }()

    @Test func fixtureHoldsVectorsFromBothLibraries() {
        #expect(Set(Self.vectors.map(\.library)) == ["standardwebhooks", "svix"])
        #expect(Self.vectors.count >= 8)
    }

    @Test(arguments: vectors)
    func verifierAcceptsLibrarySignedVector(_ vector: Vector) throws {
        let verifier = try vector.verifier()
        let headers = vector.headerFields
        let delivery = try verifier.verify(
            header: lookup(headers), body: bytes(vector.body), now: unix(vector.timestamp))
        #expect(delivery.deliveryID == vector.id)
    }

    @Test(arguments: vectors)
    func ourSignerReproducesLibrarySignature(_ vector: Vector) throws {
        let ours = try StandardWebhooks.sign(
            id: vector.id, timestamp: vector.timestamp, body: bytes(vector.body), secret: Secret(vector.secrets[0]))
        #expect(vector.signature.split(separator: " ").contains(Substring(ours)))
    }

    @Test(arguments: vectors)
    func verifierRejectsLibraryVectorWithAlteredBody(_ vector: Vector) throws {
        let verifier = try vector.verifier()
        let headers = vector.headerFields
        #expect(throws: AuthFailure.self) {
            try verifier.verify(header: lookup(headers), body: bytes(vector.body + " "), now: unix(vector.timestamp))
        }
    }
}
