import ESSDaemon
import Foundation
import Logging
import Synchronization
import Testing

/// The two line formats of `JournalLogHandler` (pure), format detection, and the handler's
/// metadata merging through an injected output.
@Suite struct JournalLogHandlerTests {
    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func journalPriorities(level: Logger.Level, priority: Int) {
        #expect(LogLineFormat.journalPriority(level) == priority)
    }

    @Test func journalLines() {
        #expect(
            LogLineFormat.journalLine(
                level: .info, label: "essd", message: "polling started", metadata: ["devices": "9", "connections": "3"])
                == "<6>essd: polling started connections=3 devices=9\n")
        #expect(
            LogLineFormat.journalLine(level: .error, label: "essd", message: "device down", metadata: [:])
                == "<3>essd: device down\n")
        #expect(
            LogLineFormat.journalLine(
                level: .debug, label: "essd.store", message: "slot written", metadata: ["tier": "raw"])
                == "<7>essd.store: slot written tier=raw\n")
    }

    @Test func journalLinesOfAMultiLineMessageEachCarryThePriority() {
        #expect(
            LogLineFormat.journalLine(
                level: .warning, label: "essd", message: "configuration rejected:\na.toml:3: x\na.toml:9: y\n",
                metadata: ["errors": "2"])
                == "<4>essd: configuration rejected:\n<4>  a.toml:3: x\n<4>  a.toml:9: y errors=2\n")
    }

    @Test func terminalLines() {
        #expect(
            LogLineFormat.terminalLine(
                epochMS: 1_751_256_000_123, level: .info, label: "essd", message: "polling started",
                metadata: ["devices": "9"])
                == "2025-06-30T04:00:00.123Z info     essd: polling started devices=9\n")
        #expect(
            LogLineFormat.terminalLine(
                epochMS: 0, level: .critical, label: "essd", message: "two\nlines", metadata: [:])
                == "1970-01-01T00:00:00.000Z critical essd: two\n    lines\n")
    }

    @Test func metadataIsSortedAndQuotedWhenNeeded() {
        let metadata: Logger.Metadata = [
            "z": "plain", "a": "two words", "q": "say \"hi\"", "e": "", "eq": "k=v", "nl": "a\nb",
            "path": "/var/lib/essd",
            "list": .array(["1", "2"]), "map": .dictionary(["b": "2", "a": .array(["x"])]), "n": .stringConvertible(42),
        ]
        #expect(
            LogLineFormat.metadataText(metadata)
                == #"a="two words" e="" eq="k=v" list="[1, 2]" map="[a: [x], b: 2]" n=42 nl="a\nb" path=/var/lib/essd q="say \"hi\"" z=plain"#
        )
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (951_827_696_007, "2000-02-29T12:34:56.007Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
        (-2_208_988_800_000, "1900-01-01T00:00:00.000Z"),
        (1_751_256_000_999, "2025-06-30T04:00:00.999Z"),
    ])
    func iso8601UTC(epochMS: Int64, text: String) {
        #expect(LogLineFormat.iso8601UTC(epochMS: epochMS) == text)
    }

    @Test func formatDetection() {
        let stderr: (device: UInt64, inode: UInt64) = (64769, 123_456)
        #expect(JournalLogHandler.Format.detect(journalStream: "64769:123456", standardError: stderr) == .journal)
        #expect(JournalLogHandler.Format.detect(journalStream: "64769:999", standardError: stderr) == .terminal)
        #expect(JournalLogHandler.Format.detect(journalStream: "garbage", standardError: stderr) == .terminal)
        #expect(JournalLogHandler.Format.detect(journalStream: nil, standardError: stderr) == .terminal)
        #expect(JournalLogHandler.Format.detect(journalStream: "64769:123456", standardError: nil) == .terminal)
        // This test process' stderr is not the journal.
        #expect(JournalLogHandler.Format.detect(environment: ["JOURNAL_STREAM": "1:1"]) == .terminal)
    }

    @Test func handlerMergesMetadataAndWritesWholeLines() {
        let written = Mutex<[String]>([])
        let output = JournalLogHandler.Output { line in written.withLock { $0.append(line) } }
        var logger = Logger(label: "essd") { label in
            JournalLogHandler(
                label: label, format: .journal, logLevel: .notice,
                metadataProvider: .init { ["site": "demo-site"] }, output: output)
        }
        logger[metadataKey: "pid"] = "42"
        logger.info("not written: below notice")
        logger.notice("device up", metadata: ["device": "pcs1", "site": "override"])
        logger.critical("store lost")
        #expect(
            written.withLock { $0 } == [
                "<5>essd: device up device=pcs1 pid=42 site=override\n",
                "<2>essd: store lost pid=42 site=demo-site\n",
            ])
    }

    @Test func terminalHandlerStampsTheTime() {
        let handler = JournalLogHandler(label: "essd", format: .terminal, output: .init { _ in })
        let event = LogEvent(
            level: .warning, message: "slow cycle", metadata: ["ms": "812"], source: "essd", file: #fileID,
            function: #function, line: #line)
        #expect(
            handler.line(for: event, epochMS: 1_751_256_000_123)
                == "2025-06-30T04:00:00.123Z warning  essd: slow cycle ms=812\n")
    }
}
