/// The Prometheus text exposition format 0.0.4: names, label escaping, number formatting, sample lines.
enum PrometheusText {
    /// Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static func isValidMetricName(_ name: String) -> Bool {
        isValidName(name, extra: UInt8(ascii: ":"))
    }

    /// Whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
    static func isValidLabelName(_ name: String) -> Bool {
        isValidName(name, extra: nil) && !name.hasPrefix("__")
    }

    private static func isValidName(_ name: String, extra: UInt8?) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                true
            default: byte == extra
            }
        }
    }

    /// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN`, else Swift's shortest round-trip form.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A label value escaped for the text format: `\` → `\\`, `"` → `\"`, newline → `\n`.
    static func escapeLabelValue(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0.isNewline }) else { return value }
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Help text escaped for `# HELP`: `\` → `\\`, newline → `\n`.
    static func escapeHelp(_ help: String) -> String {
        var out = ""
        for scalar in help.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Orders series by their label values, so output is stable from one scrape to the next.
    static func labelOrder(_ lhs: [String], _ rhs: [String]) -> Bool {
        lhs.lexicographicallyPrecedes(rhs)
    }

    /// Appends `# HELP` and `# TYPE` for `descriptor`.
    static func appendHeader(_ descriptor: MetricDescriptor, to text: inout String) {
        text += "# HELP \(descriptor.name) \(escapeHelp(descriptor.help))\n"
        text += "# TYPE \(descriptor.name) \(descriptor.type.rawValue)\n"
    }

    /// Appends one sample line: `name{a="x",b="y"} value`.
    static func appendSample(
        _ name: String, _ labelNames: [String], _ labelValues: [String], _ value: Double, to text: inout String
    ) {
        text += name
        if !labelNames.isEmpty {
            text += "{"
            for (index, (label, value)) in zip(labelNames, labelValues).enumerated() {
                if index > 0 { text += "," }
                text += label + "=\"" + escapeLabelValue(value) + "\""
            }
            text += "}"
        }
        text += " " + format(value) + "\n"
    }

    /// Appends one line per series of a counter or gauge, ordered by label values.
    static func appendScalarSeries(_ descriptor: MetricDescriptor, _ series: [[String]: Double], to text: inout String)
    {
        for labels in series.keys.sorted(by: labelOrder) {
            appendSample(descriptor.name, descriptor.labelNames, labels, series[labels] ?? 0, to: &text)
        }
    }
}
