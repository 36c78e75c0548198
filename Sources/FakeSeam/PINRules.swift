/// PIN rules: the weak patterns never generated, and the `constraint_type`s a device can report
/// (seam-api.md §8) that the fake enforces on generated and custom PINs.
enum PINRules {
    /// Whether `pin` is all one digit or a straight run up or down (never generated).
    static func isWeak(_ pin: String) -> Bool {
        let steps = steps(of: pin)
        return !steps.isEmpty && (steps == [0] || steps == [1] || steps == [-1])
    }

    /// The constraints among `constraints` that `pin` breaks. Constraints the fake cannot judge alone
    /// (`unique_first_four_digits`, `pin_code_matches_existing_set`, `start_date_in_future`, name rules) pass;
    /// `cannot_specify_pin_code` is modelled by ``FakeDevice/canShareCode``.
    static func violations(of pin: String, constraints: [String]) -> [String] {
        let digits = pin.compactMap(\.wholeNumberValue)
        return constraints.filter { constraint in
            switch constraint {
            case "no_zeros": digits.contains(0)
            case "cannot_start_with_12": pin.hasPrefix("12")
            case "no_triple_consecutive_ints": hasRunOfThree(digits)
            case "no_ascending_or_descending_sequence": Set(steps(of: pin)) == [1] || Set(steps(of: pin)) == [-1]
            case "no_all_same_digits": Set(digits).count == 1
            case "at_least_three_unique_digits": Set(digits).count < 3
            case "cannot_contain_089": digits.contains { [0, 8, 9].contains($0) }
            case "cannot_contain_0789": digits.contains { [0, 7, 8, 9].contains($0) }
            default: false
            }
        }
    }

    /// Whether three digits in a row count up by one (e.g. `345`).
    private static func hasRunOfThree(_ digits: [Int]) -> Bool {
        guard digits.count >= 3 else { return false }
        for i in 2..<digits.count {
            let (a, b, c) = (digits[i - 2], digits[i - 1], digits[i])
            if b == a + 1 && c == b + 1 { return true }
        }
        return false
    }

    private static func steps(of pin: String) -> Set<Int> {
        let digits = pin.compactMap(\.wholeNumberValue)
        return Set(zip(digits, digits.dropFirst()).map { $1 - $0 })
    }
}
