import Foundation
import Logging

/// A swift-log handler that writes each event as one line, JSON or human, to a ``LogSink``.
///
/// The line is built completely before the sink is called, so concurrent loggers never interleave
/// within a line. Metadata is merged (the handler's, then the metadata provider's, then the call's own,
/// later winning), flattened to dotted keys and passed through ``LogRedaction``.
package struct LineLogHandler: LogHandler {
    /// The logger's label.
    package let label: String
    /// The line format actually used (``LogFormat/auto`` is resolved when the handler is made).
    package let format: LogFormat
    private let sink: any LogSink
    private let clock: @Sendable () -> Date

    /// The least severe level written; default ``Logger/Level/info``.
    package var logLevel: Logger.Level
    /// Metadata attached to every event of this handler.
    package var metadata: Logger.Metadata = [:]
    /// Supplies contextual metadata (task-locals, say) at each event; default none.
    package var metadataProvider: Logger.MetadataProvider?

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - format: JSON, human, or ``LogFormat/auto``: human when `sink` is a terminal, JSON otherwise.
    ///   - sink: Where lines go.
    ///   - logLevel: The least severe level written; default info.
    ///   - metadataProvider: Contextual metadata; default none.
    ///   - clock: The time source for `time`; default the system clock.
    package init(
        label: String, format: LogFormat, sink: any LogSink, logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.label = label
        self.format = format.resolved(isTerminal: (sink as? FileDescriptorLogSink)?.isTerminal ?? false)
        self.sink = sink
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.clock = clock
    }

    /// Gets or sets one metadata value of this handler.
    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Formats `event` and writes it as one line.
    package func log(event: LogEvent) {
        var merged: Logger.Metadata
        if metadata.isEmpty && metadataProvider == nil {
            merged = event.metadata ?? [:]  // the common case: nothing to merge, no copy
        } else {
            merged = metadata
            if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
            if let own = event.metadata { merged.merge(own) { _, new in new } }
        }
        let record = LogRecord(
            time: clock(), level: event.level, message: event.message.description, label: label,
            module: event.source, error: event.error.map { String(describing: $0) }, metadata: merged
        )
        sink.write(line: format == .human ? HumanLineFormatter.line(for: record) : JSONLineFormatter.line(for: record))
    }
}

/// How log lines look.
package enum LogFormat: String, Sendable, CaseIterable, Codable {
    /// Human lines when standard error is a terminal, JSON lines otherwise (the default).
    case auto
    /// One JSON object a line, for journald, files and log shippers.
    case json
    /// `2026-11-29T10:00:00.123Z info  message key=value`, for people.
    case human

    /// This format with ``auto`` replaced by what it means for the output.
    /// - Parameter isTerminal: Whether the output is a terminal.
    /// - Returns: ``json`` or ``human``.
    package func resolved(isTerminal: Bool) -> LogFormat {
        switch self {
        case .auto: isTerminal ? .human : .json
        case .json, .human: self
        }
    }
}

/// Logging settings: from the configuration file, then overridden by `LOG_LEVEL` and `LOG_FORMAT`.
package struct LogConfiguration: Sendable, Equatable {
    /// The least severe level written; default `info`.
    package var level: Logger.Level
    /// The line format; default ``LogFormat/auto``.
    package var format: LogFormat

    /// Creates settings.
    /// - Parameters:
    ///   - level: The least severe level written; default `info`.
    ///   - format: The line format; default ``LogFormat/auto``.
    package init(level: Logger.Level = .info, format: LogFormat = .auto) {
        self.level = level
        self.format = format
    }

    /// Settings from the configuration file's text values (`log_level:` and `log_format:`).
    /// - Parameters:
    ///   - levelText: A level name (`info`, `warn`, …), case-insensitive.
    ///   - formatText: `auto`, `json` or `human`, case-insensitive.
    /// - Throws: ``LogConfigurationError`` naming `log_level` or `log_format` when a value is not understood.
    package init(levelText: String, formatText: String) throws(LogConfigurationError) {
        level = try Self.parseLevel(levelText, origin: "log_level")
        format = try Self.parseFormat(formatText, origin: "log_format")
    }

    /// These settings with `LOG_LEVEL` and `LOG_FORMAT` from `environment` applied where set and not empty.
    /// - Parameter environment: The process environment (`ProcessInfo.processInfo.environment`).
    /// - Returns: The overridden settings.
    /// - Throws: ``LogConfigurationError`` naming the variable when a value is not understood.
    package func overridden(by environment: [String: String]) throws(LogConfigurationError) -> LogConfiguration {
        var copy = self
        if let text = environment["LOG_LEVEL"], !text.isEmpty {
            copy.level = try Self.parseLevel(text, origin: "LOG_LEVEL")
        }
        if let text = environment["LOG_FORMAT"], !text.isEmpty {
            copy.format = try Self.parseFormat(text, origin: "LOG_FORMAT")
        }
        return copy
    }

    /// Parses a format name, case-insensitively.
    /// - Parameters:
    ///   - text: `auto`, `json` or `human`.
    ///   - origin: Where the text came from, for the error message.
    /// - Returns: The format.
    /// - Throws: ``LogConfigurationError`` when `text` names no format.
    package static func parseFormat(_ text: String, origin: String) throws(LogConfigurationError) -> LogFormat {
        guard let format = LogFormat(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw LogConfigurationError(origin: origin, value: text, expected: LogFormat.allCases.map(\.rawValue))
        }
        return format
    }

    /// Parses a level name, case-insensitively; `warn` is accepted for `warning`.
    /// - Parameters:
    ///   - text: The level name.
    ///   - origin: Where the text came from, for the error message (`LOG_LEVEL`, `logging.level`).
    /// - Returns: The level.
    /// - Throws: ``LogConfigurationError`` when `text` names no level.
    package static func parseLevel(_ text: String, origin: String) throws(LogConfigurationError) -> Logger.Level {
        let name = text.trimmingCharacters(in: .whitespaces).lowercased()
        if name == "warn" { return .warning }
        guard let level = Logger.Level(rawValue: name) else {
            throw LogConfigurationError(origin: origin, value: text, expected: Logger.Level.allCases.map(\.rawValue))
        }
        return level
    }
}

/// A logging setting that could not be understood.
package struct LogConfigurationError: Error, Equatable, CustomStringConvertible {
    /// Where the value came from: an environment variable or a configuration key.
    package var origin: String
    /// The value as given.
    package var value: String
    /// The values that would have been accepted.
    package var expected: [String]

    /// Creates an error.
    /// - Parameters:
    ///   - origin: Where the value came from (`LOG_LEVEL`, `log_level`).
    ///   - value: The value as given.
    ///   - expected: The values that would have been accepted.
    package init(origin: String, value: String, expected: [String]) {
        self.origin = origin
        self.value = value
        self.expected = expected
    }

    /// What was wrong and what to do.
    package var description: String {
        "\(origin) is \"\(value)\", which is not understood; use one of: \(expected.joined(separator: ", "))."
    }
}

/// Installs Latchkey's log handler for the whole process. Call once, from `main`; never from tests.
package enum LoggingBootstrap {
    /// A handler factory for `LoggingSystem.bootstrap` writing to `sink` with `configuration`.
    /// - Parameters:
    ///   - configuration: Level and format.
    ///   - sink: Where lines go; default standard error.
    /// - Returns: The factory.
    package static func makeFactory(
        configuration: LogConfiguration, sink: any LogSink = FileDescriptorLogSink()
    ) -> @Sendable (String) -> any LogHandler {
        { label in LineLogHandler(label: label, format: configuration.format, sink: sink, logLevel: configuration.level)
        }
    }

    /// Bootstraps swift-log with ``makeFactory(configuration:sink:)``. swift-log traps if this runs twice.
    /// - Parameters:
    ///   - configuration: Level and format (apply ``LogConfiguration/overridden(by:)`` first for the environment).
    ///   - sink: Where lines go; default standard error.
    package static func bootstrap(_ configuration: LogConfiguration, sink: any LogSink = FileDescriptorLogSink()) {
        LoggingSystem.bootstrap(makeFactory(configuration: configuration, sink: sink))
    }
}
