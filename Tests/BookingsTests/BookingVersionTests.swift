import Foundation
import Testing

@testable import Bookings

/// The one ordering rule of a reservation's events, and the one map of the journal's keys.
@Suite struct BookingVersionTests {
    static func version(_ updatedAt: TimeInterval?, _ sequence: UInt64) -> BookingVersion {
        BookingVersion(updatedAt: updatedAt.map { Date(timeIntervalSince1970: $0) }, receivedSequence: sequence)
    }

    @Test("a later updated_at wins over receipt order; equal or missing ones fall back to receipt order")
    func orderingRule() {
        #expect(Self.version(200, 1).supersedes(Self.version(100, 2)))
        #expect(!Self.version(100, 2).supersedes(Self.version(200, 1)))
        #expect(Self.version(100, 3).supersedes(Self.version(100, 2)))
        #expect(Self.version(nil, 3).supersedes(Self.version(100, 2)))
        #expect(!Self.version(nil, 1).supersedes(Self.version(nil, 2)))
        #expect(!Self.version(100, 2).supersedes(Self.version(100, 2)), "a duplicate changes nothing")
    }

    @Test("the journal's keys are spelled as existing data directories hold them")
    func keySpaces() {
        #expect(StoreKeys.delivery(source: "guesty", deliveryID: "msg_1") == "delivery/guesty/msg_1")
        #expect(
            StoreKeys.delivery(source: "native", reservationID: "B1", fingerprint: "ab12") == "delivery/native/B1/ab12")
        #expect(StoreKeys.booking(source: "guesty", reservationID: "res/1") == "booking/guesty/res/1")
        #expect(
            StoreKeys.reservation(source: "native", reservationID: "res/1 ü%")
                == "reconciler/reservation/native/res%2F1%20%C3%BC%25")
        #expect(StoreKeys.intent(source: "a/b", reservationID: "") == "reconciler/outbox/a%2Fb/")
        #expect(StoreKeys.deadLetter("dl_7") == "reconciler/dead/dl_7")
        for key in [
            StoreKeys.delivery(source: "s", deliveryID: "d"), StoreKeys.booking(source: "s", reservationID: "r"),
        ] {
            let spaces = [
                StoreKeys.deliveries, StoreKeys.bookings, StoreKeys.reservations, StoreKeys.outbox,
                StoreKeys.deadLetters,
            ]
            #expect(spaces.filter { key.hasPrefix($0) }.count == 1)
        }
    }
}
