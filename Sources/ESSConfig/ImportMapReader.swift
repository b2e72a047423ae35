public import ESSCore
internal import Foundation

/// Turns an import map file (`essctl import csv FILE --map MAPFILE`; format in
/// docs/evidence.md, "Importing history") into a `HistoryImportMap`, checked against the site:
/// every group must be a device of the site or "site", every signal one of that group's stored
/// signals. Every problem is an issue FILE:LINE: KEY: MESSAGE, all found in one run.
///
/// Owns the map file only: reading the CSV is `HistoryRowMapper`'s job, storing it
/// `HistoryImporter`'s.
enum ImportMapReader {
    static let topKeys = [
        "delimiter", "decimal_separator", "header_line", "sample_interval_seconds", "missing_values", "ignore", "time",
        "column",
    ]
    static let timeKeys = ["column", "format", "stamped_at"]
    static let columnKeys = ["column", "group", "signal", "scale"]

    static func read(text: String, file: String, site: SiteConfiguration, log: IssueLog) -> HistoryImportMap? {
        guard let top = TableReader.parse(text: text, file: file, log: log) else { return nil }
        let before = log.count
        top.rejectUnknownKeys(
            allowed: topKeys,
            hints: [
                "name": "column names go in [[column]] tables", "format": "the time format goes in [time]",
                "stamped_at": "stamped_at goes in [time]",
            ])
        var delimiter = UInt8(ascii: ",")
        if let text = top.string("delimiter", nonEmpty: true) {
            let bytes = Array(text.utf8)
            if bytes.count == 1, bytes[0] < 0x80,
                ![UInt8(ascii: "\""), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[0])
            {
                delimiter = bytes[0]
            } else {
                top.issue(
                    "delimiter",
                    "\"\(text)\" is not one ASCII character other than a quote or line break; e.g. \",\", \";\" or \"\\t\""
                )
            }
        }
        var decimalSeparator = UInt8(ascii: ".")
        if let text = top.string("decimal_separator", nonEmpty: true) {
            switch text {
            case ".": break
            case ",":
                decimalSeparator = UInt8(ascii: ",")
                if delimiter == decimalSeparator {
                    top.issue(
                        "decimal_separator",
                        "\",\" is also the delimiter; set delimiter = \";\" (or another character) for a decimal comma")
                }
            default: top.issue("decimal_separator", "\"\(text)\" is not allowed; expected \".\" or \",\"")
            }
        }
        let headerLine = top.has("header_line") ? top.integer("header_line", in: 0...1000) : 1
        var sampleIntervalMS: Int64?
        if let seconds = top.double(
            "sample_interval_seconds", ruleText: "greater than 0 (seconds)", { $0 > 0 && $0 < 1e7 })
        {
            sampleIntervalMS = Int64((seconds * 1000).rounded())
        }
        let missing = top.has("missing_values") ? top.stringArray("missing_values") : [""]
        let ignored = top.stringArray("ignore") ?? []

        func reference(_ r: TableReader, _ key: String) -> HistoryImportMap.ColumnReference? {
            guard let entry = r.table[key] else {
                r.issue(
                    key, "missing required key; expected a header name (string) or a column number from 1 (integer)")
                return nil
            }
            if let name = entry.value.stringValue {
                guard !name.isEmpty else {
                    r.issue(key, "must not be empty")
                    return nil
                }
                if headerLine == 0 {
                    r.issue(
                        key,
                        "\"\(name)\" is a header name, but header_line = 0 (no header); use the column number (1 = first)"
                    )
                    return nil
                }
                return .name(name)
            }
            if let n = entry.value.integerValue {
                guard n >= 1, n <= 100_000 else {
                    r.issue(key, "column numbers start at 1, found \(n)")
                    return nil
                }
                return .number(Int(n))
            }
            r.issue(
                key, "expected a header name (string) or a column number from 1 (integer), found \(entry.value.summary)"
            )
            return nil
        }

        var timeColumn: HistoryImportMap.ColumnReference?
        var timeFormat: HistoryImportMap.TimeFormat?
        var stampedAt: HistoryImportMap.StampedAt? = .start
        if let time = top.table("time", required: true) {
            time.rejectUnknownKeys(allowed: timeKeys)
            timeColumn = reference(time, "column")
            timeFormat = time.choice(
                "format", required: true, HistoryImportMap.TimeFormat.allCases.map { ($0.rawValue, $0) })
            if time.has("stamped_at") {
                stampedAt = time.choice(
                    "stamped_at", HistoryImportMap.StampedAt.allCases.map { ($0.rawValue, $0) })
            }
        }

        let schemas = site.seriesSchemas
        let knownGroups = schemas.map(\.groupID)
        var columns: [HistoryImportMap.Column] = []
        var seen: [String: Int] = [:]
        let readers = top.tableArray("column")
        if readers.isEmpty, !top.has("column") {
            top.issue("column", "no [[column]] tables; add one per imported column with column, group and signal")
        }
        for r in readers {
            r.rejectUnknownKeys(
                allowed: columnKeys,
                hints: ["device": "write group = \"<device id>\" (or \"site\")", "name": "write column = \"<header>\""])
            let column = reference(r, "column")
            let scale = r.has("scale") ? r.double("scale", ruleText: "other than 0", { $0 != 0 }) : 1
            var group: String?
            if let g = r.string("group", required: true) {
                if knownGroups.contains(g) {
                    group = g
                } else {
                    r.issue(
                        "group",
                        "\"\(g)\" is not a device of the site (\(site.site.id)); known: \(knownGroups.joined(separator: ", "))"
                    )
                }
            }
            var signal: String?
            if let s = r.string("signal", required: true), let group,
                let schema = schemas.first(where: { $0.groupID == group })
            {
                if schema.signals.contains(where: { $0.name == s }) {
                    signal = s
                    let key = group + "." + s
                    if let first = seen[key] {
                        r.issue("signal", "\(key) is already fed by the column on line \(first); map each signal once")
                        signal = nil
                    } else {
                        seen[key] = r.table.position.line
                    }
                } else {
                    let names = schema.signals.map(\.name)
                    let list = names.prefix(40).joined(separator: ", ") + (names.count > 40 ? ", ..." : "")
                    r.issue(
                        "signal",
                        "\(TOMLValue.abbreviated(s)) is not a signal of \(group == "site" ? "the site group" : "device \(group)"); known: \(list)"
                    )
                }
            }
            if let column, column == timeColumn {
                r.issue("column", "\(column) is the time column; it cannot also be a data column")
                continue
            }
            if let column, let group, let signal, let scale {
                columns.append(
                    HistoryImportMap.Column(
                        column: column, group: group, signal: signal, scale: scale, line: r.table.position.line))
            }
        }
        if let firstSite = columns.first(where: { $0.group == "site" }),
            let firstDevice = columns.first(where: { $0.group != "site" })
        {
            log.add(
                file: file, line: firstSite.line, key: "column",
                "site columns and device columns (e.g. \(firstDevice.group) on line \(firstDevice.line)) are both mapped; the site group is derived from the devices when device columns are given. Map device columns only, or site columns only"
            )
        }
        guard log.count == before, let headerLine, let timeColumn, let timeFormat, let stampedAt, let missing else {
            return nil
        }
        return HistoryImportMap(
            delimiter: delimiter, headerLine: headerLine, timeColumn: timeColumn, timeFormat: timeFormat,
            columns: columns,
            ignoredColumns: ignored, missingValues: Set(missing), sampleIntervalMS: sampleIntervalMS,
            decimalSeparator: decimalSeparator, stampedAt: stampedAt)
    }
}

extension ConfigurationLoader {
    /// Loads an import map file and checks it against `site` (groups, signals). Throws every
    /// problem as FILE:LINE: KEY: MESSAGE before anything is imported.
    public static func loadImportMap(path: String, site: SiteConfiguration) throws(ConfigurationError)
        -> HistoryImportMap
    {
        let text = try readFile(path, what: "map file")
        return try parseImportMap(text: text, file: path, site: site)
    }

    /// Validates import map text against `site`; `file` names it in issues.
    public static func parseImportMap(text: String, file: String, site: SiteConfiguration) throws(ConfigurationError)
        -> HistoryImportMap
    {
        let log = IssueLog()
        guard let map = ImportMapReader.read(text: text, file: file, site: site, log: log), log.isEmpty else {
            throw ConfigurationError(issues: log.ordered)
        }
        return map
    }

    /// Local wall time → UTC in the IANA zone `identifier` (the site's `time_zone`), for
    /// `HistoryTimeParser`; nil when the zone is unknown.
    public static func localTimeResolver(timeZone identifier: String) -> LocalTimeResolver? {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        return { localMS in
            // Every offset the zone uses around that time, kept when it maps back to the same wall time.
            var offsets = Set<Int64>()
            for probe in [localMS - 36 * 3_600_000, localMS, localMS + 36 * 3_600_000] {
                let date = Date(timeIntervalSince1970: Double(probe) / 1000)
                offsets.insert(Int64(zone.secondsFromGMT(for: date)) * 1000)
            }
            var result: [Int64] = []
            for offset in offsets {
                let utc = localMS - offset
                let back = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc) / 1000))) * 1000
                if back == offset { result.append(utc) }
            }
            return result.sorted()
        }
    }
}
