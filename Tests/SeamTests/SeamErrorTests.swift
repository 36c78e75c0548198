import Foundation
import Seam
import Testing

@Suite("Seam error envelope and classification")
struct SeamErrorTests {
    private func error(status: Int, json: String = "", headers: [String: String] = [:]) -> SeamError {
        SeamError(
            response: SeamHTTPResponse(status: status, headers: headers, body: Data(json.utf8)),
            route: "/access_codes/create_multiple", now: Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test func envelope_DecodesTypeMessageAndValidationErrors() {
        let failure = error(status: 400, json: SeamFixtures.invalidInput, headers: ["Seam-Request-Id": "req_1"])
        #expect(failure.httpStatus == 400)
        #expect(failure.seamType == "invalid_input")
        #expect(failure.message == "ends_at must be after starts_at")
        #expect(failure.requestID == "req_1")
        #expect(failure.route == "/access_codes/create_multiple")
        #expect(failure.validationErrors == ["device_ids.0: Invalid uuid", "ends_at: must be after starts_at"])
        #expect(failure.failureClass == .permanent)
        #expect(failure.description.contains("invalid_input"))
        #expect(failure.description.contains("seam-request-id req_1"))
    }

    @Test func requestID_ComesFromTheBodyWhenTheHeaderIsMissing() {
        let failure = error(status: 404, json: SeamFixtures.deviceNotFound)
        #expect(failure.requestID == "bf6643a3-a102-4f3b-b4c3-bd8cd1119ba2")
        #expect(failure.isNotFound)
    }

    @Test func requestID_PrefersTheHeaderOverTheBody() {
        let failure = error(status: 404, json: SeamFixtures.deviceNotFound, headers: ["seam-request-id": "hdr"])
        #expect(failure.requestID == "hdr")
    }

    @Test(arguments: [
        (400, SeamFailureClass.permanent), (404, .permanent), (409, .permanent), (422, .permanent),
        (401, .unauthorized), (403, .unauthorized),
        (408, .retryable), (429, .retryable), (500, .retryable), (502, .retryable), (503, .retryable),
        (504, .retryable),
    ])
    func status_IsClassified(status: Int, expected: SeamFailureClass) {
        #expect(error(status: status, json: #"{"error":{"type":"x","message":"y"}}"#).failureClass == expected)
    }

    @Test func unauthorizedWithoutABody_SaysWhatToFix() {
        let failure = error(status: 401)
        #expect(failure.seamType == "unauthorized")
        #expect(failure.failureClass == .unauthorized)
        #expect(failure.message.contains("SEAM_API_KEY"))
    }

    @Test func gatewayErrorWithAnHTMLBody_IsRetryableWithAStatusMessage() {
        let failure = error(status: 502, json: "<html>Bad Gateway</html>")
        #expect(failure.seamType == nil)
        #expect(failure.message == "HTTP 502 without a Seam error body")
        #expect(failure.failureClass == .retryable)
        #expect(failure.outcomeIsUnknown)
    }

    @Test func tooManyRequests_CarriesRetryAfter() {
        let failure = error(status: 429, json: "", headers: ["Retry-After": "17"])
        #expect(failure.retryAfter == .seconds(17))
        #expect(failure.failureClass == .retryable)
        #expect(!failure.outcomeIsUnknown)
    }

    @Test func transportFailures_AreRetryableWithUnknownOutcome() {
        for transport in [SeamTransportError.timedOut, .connectionFailed(reason: "refused")] {
            let failure = SeamError(kind: .transport(transport), route: "/r", message: "m")
            #expect(failure.failureClass == .retryable)
            #expect(failure.outcomeIsUnknown)
        }
    }

    @Test func clientSideRefusals_ArePermanentAndKnown() {
        let failure = SeamError(kind: .invalidRequest(detail: "d"), route: "/r", message: "d")
        #expect(failure.failureClass == .permanent)
        #expect(!failure.outcomeIsUnknown)
    }
}
