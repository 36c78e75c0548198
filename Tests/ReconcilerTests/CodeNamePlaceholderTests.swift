import Bookings
import Testing

@testable import Reconciler

/// The placeholders the configuration accepts in `code_name` are the ones code naming fills in.
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
}
