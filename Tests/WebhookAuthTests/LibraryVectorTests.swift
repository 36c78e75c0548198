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
        let verifier = try WebhookVerifier(scheme: .standardWebhooks(), secrets: vector.secrets.map { Secret($0) })
        let headers = [
            "\(vector.headers)-id": vector.id, "\(vector.headers)-timestamp": String(vector.timestamp),
            "\(vector.headers)-signature": vector.signature,
        ]
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
        let verifier = try WebhookVerifier(scheme: .standardWebhooks(), secrets: vector.secrets.map { Secret($0) })
        let headers = [
            "\(vector.headers)-id": vector.id, "\(vector.headers)-timestamp": String(vector.timestamp),
            "\(vector.headers)-signature": vector.signature,
        ]
        #expect(throws: AuthFailure.self) {
            try verifier.verify(header: lookup(headers), body: bytes(vector.body + " "), now: unix(vector.timestamp))
        }
    }
}
