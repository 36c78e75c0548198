import Bookings
import Testing

@testable import Reconciler

/// The placeholders the configuration accepts in `code_name` are the ones code naming fills in, and the markers are
/// what docs/configuration.md says they are.
@Suite struct CodeNamePlaceholderTests {
    @Test("every placeholder check-config accepts is filled in, none is left in a code's name as written")
    func everyAcceptedPlaceholderIsFilled() {
        let key = ReservationKey(source: "guesty", reservationID: "HM1")
        for placeholder in Property.codeNamePlaceholders {
            var property = Fixture.loft
            property.codeNameTemplate = "x{\(placeholder)}x"
            let name = CodeNaming().name(for: key, at: property, guestName: "Ada Lovelace")
            #expect(!name.contains("{\(placeholder)}"), "{\(placeholder)} is accepted but not filled in")
        }
        #expect(Property.unknownPlaceholders(in: "{guest_frist} {guest} {x") == ["guest_frist"])
    }

    @Test("the markers documented in docs/configuration.md: readable when short and plain, else the FNV-1a hash")
    func documentedMarkers() {
        #expect(
            CodeNaming.marker(for: ReservationKey(source: "native", reservationID: "HM12345")) == "[lk:native:HM12345]")
        #expect(
            CodeNaming.marker(for: ReservationKey(source: "lodgify", reservationID: "LDG-2030-07-14-000000012345678"))
                == "[lk:#46fa4913e497f663]")
        #expect(
            CodeNaming.marker(for: ReservationKey(source: "hostaway", reservationID: "res 42/b"))
                == "[lk:#46eb6c4b8c165d66]")
    }
}
