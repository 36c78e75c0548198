import Bookings
import Foundation
import Testing

@testable import Reconciler

/// Reservation records are written by hand for speed; the bytes must stay what `JSONEncoder` (sorted keys) wrote,
/// so stores written before read back the same and tools that decode them keep working.
@Suite struct RecordJSONTests {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    static let window = CodeWindow(
        startsAt: Date(timeIntervalSince1970: 1_780_000_000.5), endsAt: Date(timeIntervalSince1970: 1_780_400_000))

    static let records: [ReservationRecord] = {
        let key = ReservationKey(source: "native", reservationID: "res/1 \"quoted\" ü")
        let local = StayTime.local(
            date: LocalDate(year: 2027, month: 7, day: 14), time: LocalTime(hour: 15, minute: 30),
            timeZone: "Europe/Berlin")
        let dateOnly = StayTime.local(date: LocalDate(year: 2027, month: 7, day: 19), time: nil, timeZone: nil)
        let full = BookingEvent(
            source: "native", reservationID: "res/1", listingID: "lst_1", status: .confirmed,
            checkIn: local, checkOut: .instant(Date(timeIntervalSince1970: 1_815_000_000.25)),
            guestName: "Ana \\ Müller", updatedAt: Date(timeIntervalSince1970: 1_790_000_000))
        let bare = BookingEvent(
            source: "native", reservationID: "r2", listingID: "l2", status: .cancelled,
            checkIn: dateOnly, checkOut: nil, guestName: nil, updatedAt: nil)
        let codes = [
            AppliedCode(
                deviceID: "front", accessCodeID: "ac_1", pin: AccessPIN("1234"), commonCodeKey: "ck_1", window: window,
                name: "Ana [lk:native:res/1]", status: .set),
            AppliedCode(
                deviceID: "back", accessCodeID: nil, pin: nil, commonCodeKey: nil, window: window, name: "Ana",
                status: .removedExternally),
        ]
        return [
            ReservationRecord(key: key),
            ReservationRecord(
                key: key,
                desired: DesiredBooking(
                    full, version: EventVersion(updatedAt: full.updatedAt, receivedSequence: 18_446_744_073_709_551_615)
                )),
            ReservationRecord(
                key: key, desired: DesiredBooking(bare, version: EventVersion(updatedAt: nil, receivedSequence: 7))),
            ReservationRecord(
                key: key, desired: DesiredBooking(full, version: EventVersion(updatedAt: nil, receivedSequence: 1)),
                applied: AppliedGroup(propertyID: "loft", commonCodeKey: "ck_1", codes: codes), blockedBy: "dl_9",
                pendingLookup: CodeLookup(
                    propertyID: "loft", deviceIDs: ["front", "back"], marker: "[lk:native:res/1]",
                    window: window, name: "Ana"),
                readBackReason: "restart with \"delete\" in flight"),
            ReservationRecord(key: key, applied: AppliedGroup(propertyID: "loft", commonCodeKey: nil, codes: [])),
            ReservationRecord(
                key: key, applied: AppliedGroup(propertyID: "loft", commonCodeKey: "ck_1", codes: codes),
                arrivalCheck: ArrivalCheck(
                    checkedAt: window.startsAt.addingTimeInterval(-3000.5), leadTime: 3600,
                    accessStartsAt: window.startsAt, outcome: .failed,
                    locks: [
                        LockFinding(deviceID: "front", accessCodeID: "ac_1", problems: [], action: .none),
                        LockFinding(
                            deviceID: "back", accessCodeID: "ac/2", problems: [.errors, .notOnDevice],
                            errorCodes: ["device_offline"], action: .backupCode,
                            backupCode: BackupAccessCode(
                                accessCodeID: "ac_3", deviceID: "back", code: AccessPIN("8642"),
                                startsAt: window.startsAt, endsAt: nil)),
                    ])),
        ]
    }()

    @Test(
        "every shape of record is written byte for byte as JSONEncoder writes it, and decodes back",
        arguments: records.indices)
    func recordsMatchJSONEncoder(_ index: Int) throws {
        let record = Self.records[index]
        let expected = String(decoding: try Self.encoder().encode(record), as: UTF8.self)
        #expect(String(decoding: record.encodedJSON(), as: UTF8.self) == expected)
        #expect(try JSONDecoder().decode(ReservationRecord.self, from: Data(record.encodedJSON())) == record)
    }

    @Test func everyLockCodeStatusIsWrittenAsJSONEncoderWritesIt() throws {
        for status in LockCodeStatus.allCases {
            let code = AppliedCode(
                deviceID: "d", accessCodeID: "a", pin: nil, commonCodeKey: nil, window: Self.window, name: "n",
                status: status)
            let record = ReservationRecord(
                key: ReservationKey(source: "s", reservationID: "r"),
                applied: AppliedGroup(propertyID: "p", commonCodeKey: nil, codes: [code]))
            #expect(record.encodedJSON() == Array(try Self.encoder().encode(record)), "\(status)")
        }
    }

    @Test func storeKeysLeavePlainIdsAsTheyAre_AndPercentEncodeTheRest() {
        #expect(
            StoreKeys.reservation(ReservationKey(source: "native", reservationID: "res_00-1.A"))
                == "reconciler/reservation/native/res_00-1.A")
        #expect(
            StoreKeys.reservation(ReservationKey(source: "native", reservationID: "res/1 ü%"))
                == "reconciler/reservation/native/res%2F1%20%C3%BC%25")
        #expect(StoreKeys.intent(ReservationKey(source: "a/b", reservationID: "")) == "reconciler/outbox/a%2Fb/")
    }
}
