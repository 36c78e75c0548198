import Bookings
import Reconciler
import Testing

@testable import Replay

@Suite("Finding the reconciler's codes")
struct MarkerInteropTests {
    @Test(
        "a code named by the reconciler is found for its reservation and for no other",
        arguments: [
            "HM12345", "6f58fd0a-a9cb-3746-9219-384a156ff7bb", "id with spaces", "910001",
        ])
    func reconcilerNamesAreFound(reservationID: String) {
        let property = Property(
            id: "p", name: "Seaside Loft", listings: ["guesty": ["l"]], deviceIDs: ["front"], timeZone: "Europe/Berlin")
        let name = CodeNaming().name(
            for: .init(source: "guesty", reservationID: reservationID), at: property, guestName: "Ada Lovelace")
        let code = ObservedAccessCode(id: "1", deviceID: "front", name: name, code: "4821", commonCodeKey: "k")
        let mine = Replay.ReservationExpectation(
            source: "guesty", reservationID: reservationID, group: .present, deviceIDs: ["front"])
        let other = Replay.ReservationExpectation(source: "guesty", reservationID: reservationID + "0", group: .absent)
        let verdicts = StateComparison.compare([mine, other], with: [code])
        let differences = verdicts.flatMap(\.differences)
        #expect(differences.isEmpty, "\(name)")
    }
}
