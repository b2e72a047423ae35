import ESSCore
public import Logging

/// How one log record becomes one line of text, in the two forms `JournalLogHandler` writes.
/// Pure functions: everything, the time included, is passed in; `JournalLogHandler` does the I/O.
///
/// - journal (under systemd, stderr connected to journald): `<6>essd: polling started devices=9`
///   — the `<N>` syslog priority prefix journald strips and stores as PRIORITY, no timestamp
///   (journald stamps each line itself).
/// - terminal: `2025-06-30T04:00:00.123Z info     essd: polling started devices=9`.
///
/// Metadata is `key=value`, sorted by key; a value with spaces, quotes, `=` or control characters
/// is quoted with `\"`, `\\`, `\n`, `\t` escapes. A message with several lines stays one record: every
/// further line is indented (and, in journal form, carries the prefix again, since journald treats
/// each line as a record).
public enum LogLineFormat {
    /// The syslog priority journald stores: trace and debug → 7, info → 6, notice → 5,
    /// warning → 4, error → 3, critical → 2.
    public static func journalPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// A journal line (ends with "\n").
    public static func journalLine(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata)
        -> String
    {
        let prefix = "<\(journalPriority(level))>"
        return assemble(head: prefix + label + ": ", continuation: prefix + "  ", message: message, metadata: metadata)
    }

    /// A terminal line (ends with "\n"); `epochMS` is the record's UTC time in milliseconds.
    public static func terminalLine(
        epochMS: Int64, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        let levelName = level.rawValue.padding(toLength: 8)
        return assemble(
            head: "\(iso8601UTC(epochMS: epochMS)) \(levelName) \(label): ", continuation: "    ",
            message: message, metadata: metadata)
    }

    /// `key=value key2="two words"`, sorted by key; empty for no metadata.
    public static func metadataText(_ metadata: Logger.Metadata) -> String {
        metadata.sorted { $0.key < $1.key }
            .map { "\($0.key)=\(quotedIfNeeded(render($0.value)))" }
            .joined(separator: " ")
    }

    /// `2025-06-30T04:00:00.123Z`: ISO 8601, UTC, milliseconds.
    public static func iso8601UTC(epochMS: Int64) -> String {
        let (seconds, millis) = floorDivide(epochMS, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = CivilCalendar.date(daysSinceEpoch: days)
        return "\(year.digits(4))-\(month.digits(2))-\(day.digits(2))T"
            + "\((secondOfDay / 3600).digits(2)):\((secondOfDay / 60 % 60).digits(2)):\((secondOfDay % 60).digits(2))"
            + ".\(millis.digits(3))Z"
    }

    // MARK: Helpers

    static func assemble(head: String, continuation: String, message: String, metadata: Logger.Metadata) -> String {
        var lines = message.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }
        var text = head
        for (index, line) in lines.enumerated() {
            if index > 0 { text += "\n" + continuation }
            text += line
        }
        let pairs = metadataText(metadata)
        if !pairs.isEmpty { text += (message.isEmpty ? "" : " ") + pairs }
        return text + "\n"
    }

    /// A value as text: arrays as `[a, b]`, dictionaries as `[k: v]` sorted by key.
    static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(render).joined(separator: ", ") + "]"
        case .dictionary(let pairs):
            "[" + pairs.sorted { $0.key < $1.key }.map { "\($0.key): \(render($0.value))" }.joined(separator: ", ")
                + "]"
        }
    }

    static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains {
                $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.properties.generalCategory == .control
            }
        guard needsQuotes else { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case "\r": quoted += "\\r"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value >= 0 ? value / divisor : -((-value - 1) / divisor) - 1
        return (quotient, value - quotient * divisor)
    }
}

extension BinaryInteger {
    /// Zero-padded decimal digits.
    fileprivate func digits(_ width: Int) -> String {
        let text = String(self)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
