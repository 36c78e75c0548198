import Foundation
import Glibc
import Logging
import Observability
import SystemCalls
import Testing

/// A fixed instant: 2026-11-29T10:00:00.123Z.
private let fixedTime = Date(timeIntervalSince1970: 1_795_946_400.123)

private func makeLogger(_ format: LogFormat, sink: MemoryLogSink, label: String = "latchkey.test") -> Logger {
    Logger(label: label) { label in
        LineLogHandler(label: label, format: format, sink: sink, logLevel: .debug, clock: { fixedTime })
    }
}

private func parseObject(_ line: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
    return try #require(object as? [String: Any])
}

@Suite struct JSONLogLineTests {
    @Test func jsonLine_ParsesAndHoldsFixedFieldsAndFlattenedMetadata() throws {
        let sink = MemoryLogSink()
        var logger = makeLogger(.json, sink: sink)
        logger[metadataKey: "request"] = ["id": "req-1"]
        logger.info(
            "delivery accepted",
            metadata: [
                "source": "guesty", "reservation": "R1", "seam": ["request_id": "sr-9"],
                "attempt": .stringConvertible(3),
            ]
        )
        #expect(sink.lines.count == 1)
        let object = try parseObject(try #require(sink.lines.first))
        #expect(object["time"] as? String == "2026-11-29T10:00:00.123Z")
        #expect(object["level"] as? String == "info")
        #expect(object["message"] as? String == "delivery accepted")
        #expect(object["label"] as? String == "latchkey.test")
        #expect(object["module"] as? String == "ObservabilityTests")
        #expect(object["request.id"] as? String == "req-1")
        #expect(object["source"] as? String == "guesty")
        #expect(object["reservation"] as? String == "R1")
        #expect(object["seam.request_id"] as? String == "sr-9")
        #expect(object["attempt"] as? String == "3")
    }

    @Test func jsonLine_EscapesQuotesNewlinesAndControlCharacters() throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(.json, sink: sink)
        let awkward = "line one\nline \"two\"\t\\ \u{01} é"
        logger.warning("\(awkward)", metadata: ["note": .string(awkward)])
        #expect(sink.lines.count == 1, "a newline in the message must not split the line")
        let object = try parseObject(sink.lines[0])
        #expect(object["message"] as? String == awkward)
        #expect(object["note"] as? String == awkward)
        #expect(object["level"] as? String == "warning")
    }

    @Test func jsonLine_KeepsListsAndRenamesMetadataThatCollidesWithFixedFields() throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(.json, sink: sink)
        logger.info(
            "x",
            metadata: ["message": "shadow", "locks": ["lock-a", "lock-b"], "devices": [["pin": "1234", "id": "d1"]]])
        let object = try parseObject(sink.lines[0])
        #expect(object["message"] as? String == "x")
        #expect(object["metadata.message"] as? String == "shadow")
        #expect(object["locks"] as? [String] == ["lock-a", "lock-b"])
        let devices = try #require(object["devices"] as? [[String: String]])
        #expect(devices == [["id": "d1", "pin": "[redacted]"]])
    }

    @Test func jsonLine_CallMetadataOverridesHandlerAndProviderMetadata() throws {
        let sink = MemoryLogSink()
        let provider = Logger.MetadataProvider { ["trace": "from-provider", "request.id": "from-provider"] }
        var logger = Logger(label: "p") { label in
            LineLogHandler(label: label, format: .json, sink: sink, metadataProvider: provider, clock: { fixedTime })
        }
        logger[metadataKey: "request.id"] = "from-handler"
        logger.info("merged", metadata: ["trace": "from-call"])
        let object = try parseObject(sink.lines[0])
        #expect(object["trace"] as? String == "from-call")
        #expect(object["request.id"] as? String == "from-provider")
    }

    @Test func logLevel_FiltersLessSevereEvents() {
        let sink = MemoryLogSink()
        var logger = makeLogger(.json, sink: sink)
        logger.logLevel = .notice
        logger.info("dropped")
        logger.notice("kept")
        #expect(sink.lines.count == 1)
        #expect(sink.lines.first?.contains("\"kept\"") == true)
    }

    @Test func rfc3339_TruncatesToMillisecondsInUTC() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_946_400.9999)) == "2026-11-29T10:00:00.999Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
    }
}

@Suite struct HumanLogLineTests {
    @Test func humanLine_HasTimeLevelMessageAndKeyValues() {
        let sink = MemoryLogSink()
        let logger = makeLogger(.human, sink: sink)
        logger.info("delivery accepted", metadata: ["source": "guesty", "request": ["id": "r1"], "note": "two words"])
        #expect(
            sink.lines == [
                #"2026-11-29T10:00:00.123Z info  delivery accepted note="two words" request.id=r1 source=guesty"#
            ])
    }

    @Test func humanLine_PadsShortLevelsAndRedactsSecrets() {
        let sink = MemoryLogSink()
        let logger = makeLogger(.human, sink: sink)
        logger.error(
            "seam refused", metadata: ["seam": ["api_key": "seam_live_abc"], "status_code": "401", "empty": ""])
        #expect(
            sink.lines == [
                #"2026-11-29T10:00:00.123Z error seam refused empty="" seam.api_key=[redacted] status_code=401"#
            ])
    }

    @Test func autoFormat_ChoosesHumanOnATerminalAndJSONOtherwise() {
        #expect(LogFormat.auto.resolved(isTerminal: true) == .human)
        #expect(LogFormat.auto.resolved(isTerminal: false) == .json)
        #expect(LogFormat.json.resolved(isTerminal: true) == .json)
        #expect(LogFormat.human.resolved(isTerminal: false) == .human)
        let memory = LineLogHandler(label: "m", format: .auto, sink: MemoryLogSink())
        #expect(memory.format == .json)
    }
}

@Suite struct LogRedactionTests {
    @Test(arguments: [
        "secret", "webhook_secret", "signature", "svix-signature", "pin", "guest.pin", "code", "access_code",
        "password", "token", "bearerToken", "api_key", "apiKey", "seam.api_key", "authorization", "Authorization",
        "signature.value", "secrets.current", "privateKey",
    ])
    func sensitiveKeys_AreRedacted(key: String) {
        #expect(LogRedaction.isSensitive(key: key))
    }

    @Test(arguments: [
        "request.id", "source", "reservation", "seam.request_id", "status_code", "http.status_code",
        "access_code_ids", "common_code_key", "signature.scheme", "signature.key_id", "signature.verdict",
        "pinned", "spinner", "barcode_reader", "tokenizer", "key", "listing_id",
    ])
    func ordinaryKeys_AreKept(key: String) {
        #expect(!LogRedaction.isSensitive(key: key))
    }

    @Test func redactedValues_NeverReachTheLine() throws {
        let sink = MemoryLogSink()
        let logger = makeLogger(.json, sink: sink)
        logger.info(
            "verify",
            metadata: [
                "signature": "v1,K5oZfzN95Z9U", "secret": ["current": "whsec_1", "previous": "whsec_0"],
                "authorization": "Basic dXNlcjpwYXNz", "code": "4821", "signature.scheme": "standard",
            ]
        )
        let line = sink.lines[0]
        for secret in ["K5oZfzN95Z9U", "whsec_1", "whsec_0", "dXNlcjpwYXNz", "4821"] {
            #expect(!line.contains(secret), "\(secret) leaked")
        }
        let object = try parseObject(line)
        #expect(object["signature"] as? String == "[redacted]")
        #expect(object["secret"] as? String == "[redacted]")
        #expect(object["signature.scheme"] as? String == "standard")
    }
}

@Suite struct LogConfigurationTests {
    @Test func environment_OverridesLevelAndFormat() throws {
        let base = LogConfiguration(level: .info, format: .auto)
        let overridden = try base.overridden(by: ["LOG_LEVEL": "DEBUG", "LOG_FORMAT": "human"])
        #expect(overridden == LogConfiguration(level: .debug, format: .human))
        #expect(try base.overridden(by: ["LOG_LEVEL": "warn"]).level == .warning)
        #expect(try base.overridden(by: ["LOG_LEVEL": ""]) == base)
    }

    @Test func configurationText_IsParsedAndBadValuesNameTheKey() throws {
        #expect(
            try LogConfiguration(levelText: "Notice", formatText: "JSON")
                == LogConfiguration(level: .notice, format: .json))
        #expect(
            throws: LogConfigurationError(origin: "log_format", value: "pretty", expected: ["auto", "json", "human"])
        ) {
            try LogConfiguration(levelText: "info", formatText: "pretty")
        }
    }

    @Test func unknownLevel_IsAnErrorNamingTheVariableAndTheChoices() {
        #expect(throws: LogConfigurationError.self) { try LogConfiguration().overridden(by: ["LOG_LEVEL": "verbose"]) }
        do {
            _ = try LogConfiguration.parseLevel("verbose", origin: "LOG_LEVEL")
            Issue.record("verbose parsed")
        } catch {
            #expect(error.description.contains("LOG_LEVEL is \"verbose\""))
            #expect(error.description.contains("trace, debug, info, notice, warning, error, critical"))
        }
    }
}

@Suite struct FileDescriptorLogSinkTests {
    @Test func concurrentWriters_NeverInterleaveLines() throws {
        var template = Array("/tmp/latchkey-log-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer {
            close(fd)
            unlink(path)
        }

        let sink = FileDescriptorLogSink(fileDescriptor: FileDescriptor(rawValue: fd))
        #expect(!sink.isTerminal)
        let threads = 8
        let perThread = 150
        // Larger than PIPE_BUF, so one write() is not atomic by itself.
        let padding = String(repeating: "x", count: 3000)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let logger = Logger(label: "t\(thread)") { LineLogHandler(label: $0, format: .json, sink: sink) }
            for index in 0..<perThread {
                logger.info(
                    "line", metadata: ["thread": "\(thread)", "index": "\(index)", "padding": .string(padding)])
            }
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == threads * perThread)
        var seen = Set<String>()
        for line in lines {
            let object = try parseObject(String(line))
            seen.insert("\(object["thread"] ?? "")/\(object["index"] ?? "")")
        }
        #expect(seen.count == threads * perThread)
    }

    @Test func gatheredLines_LeaveTogetherWhenTheScopeEnds_AndOtherThreadsAreNotHeld() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        func readAvailable() -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(ends[0], &buffer, buffer.count)
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
        }
        let sink = FileDescriptorLogSink(fileDescriptor: FileDescriptor(rawValue: ends[1]))
        LogLines.gathered {
            sink.write(line: Array("one\n".utf8))
            LogLines.gathered { sink.write(line: Array("two\n".utf8)) }  // nested: joins the outer scope
            #expect(readAvailable() == "", "held while the scope runs")
            let done = DispatchSemaphore(value: 0)
            Thread {
                sink.write(line: Array("elsewhere\n".utf8))
                done.signal()
            }.start()
            done.wait()
            #expect(readAvailable() == "elsewhere\n", "another thread's line is not held")
            sink.write(line: Array("three\n".utf8))
        }
        #expect(readAvailable() == "one\ntwo\nthree\n", "written in order when the scope ends")
        sink.write(line: Array("after\n".utf8))
        #expect(readAvailable() == "after\n", "written at once outside a scope")
    }
}
