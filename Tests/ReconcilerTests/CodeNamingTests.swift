import Foundation
import Testing

@testable import Reconciler

/// Code names are built for every plan; their ASCII fast paths must give exactly what the Unicode rules give.
@Suite struct CodeNamingTests {
    static let samples: [String] = [
        "", " ", "  ", "\t", "Ada", "Ada Lovelace", " Ada", "Ada ", "Ada  Lovelace", "Ada\tLovelace", "Ada\nLovelace",
        "\u{00A0}Ada\u{00A0}", "Ada\u{2003}Lovelace", "Zoë Müller", "李 小龙", "👩‍🚀 Ada", "Ada 👩‍🚀", "a\u{0301} b",
        "\r\nx\r\n",
        "Kreuzberg Loft 2BR — Ada (res_000000123456)", String(repeating: "x", count: 80),
        String(repeating: "ab ", count: 30),
    ]

    @Test(arguments: samples)
    func fastPathsGiveWhatTheUnicodeRulesGive(_ text: String) {
        #expect(CodeNaming.trimmed(text) == text.trimmingCharacters(in: .whitespacesAndNewlines))
        let collapsed = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(CodeNaming.collapsingWhitespace(text) == collapsed)
        for count in [0, 1, 3, 4, 10, 59] {
            #expect(
                CodeNaming.cut(collapsed, to: count)
                    == String(collapsed.prefix(count)).trimmingCharacters(in: .whitespaces),
                "cut to \(count)")
        }
    }
}
