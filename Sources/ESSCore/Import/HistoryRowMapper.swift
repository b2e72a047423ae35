/// One accepted row of an import: its UTC time and one sample per fed group (schema order;
/// signals the file does not give, or leaves empty in this row, are `.stale`: not sampled).
public struct HistoryRow: Sendable, Hashable {
    public var line: Int
    /// The time the row's sample is taken at: its stamp, less the row interval when the map
    /// says rows are stamped at the end of their interval.
    public var timestampMS: Int64
    /// Parallel to the mapper's `groups`.
    public var values: [[Double]]
    public var qualities: [[PointQuality]]
}

/// Why a row was not imported.
public struct HistoryRowRejection: Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, CaseIterable, Comparable {
        case malformedRecord = "malformed_record"
        case fieldCount = "field_count"
        case timeInvalid = "time_invalid"
        case timeDuplicate = "time_duplicate"
        /// The same time as the previous row with other values: the first row is kept.
        case timeDuplicateConflict = "time_duplicate_conflicting"
        case timeOutOfOrder = "time_out_of_order"
        /// One row stamped after the rows on both sides of it (a wrong date): it alone is left
        /// out, instead of every row after it being out of order.
        case timeOutOfSequence = "time_out_of_sequence"
        case timeInFuture = "time_in_future"
        case numberInvalid = "number_invalid"

        public static func < (a: Reason, b: Reason) -> Bool { a.rawValue < b.rawValue }
    }

    public var line: Int
    /// The column the problem is in (its header text or "column N"), when it is one column's.
    public var column: String?
    public var reason: Reason
    public var message: String

    /// "LINE: column: why" (the caller puts the file name in front).
    public var description: String { "\(line): \(column.map { "\($0): " } ?? "")\(message)" }
}

/// The header does not fit the map: nothing can be imported.
public struct HistoryHeaderError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "\(line): \(message)" }
}

/// Counts of a pass over the file.
public struct HistoryImportTally: Sendable, Hashable {
    public var rowsRead = 0
    public var rowsAccepted = 0
    public var rejected: [HistoryRowRejection.Reason: Int] = [:]
    /// The first few rejections of each reason, in file order.
    public var examples: [HistoryRowRejection] = []
    public var firstMS: Int64?
    public var lastMS: Int64?
    /// Header columns neither mapped nor listed in `ignore` (not imported).
    public var unknownColumns: [String] = []
    /// How often each spacing between consecutive accepted rows occurred (at most 64 kept).
    public var spacings: [Int64: Int] = [:]

    public var rowsRejected: Int { rejected.values.reduce(0, +) }

    /// The first and last row's times moved by `deltaMS` (a pass run before the row interval,
    /// and so the shift of end-stamped rows, was known); spacings do not change.
    public mutating func moveTimes(byMS deltaMS: Int64) {
        firstMS = firstMS.map { $0 + deltaMS }
        lastMS = lastMS.map { $0 + deltaMS }
    }

    /// The most common spacing between rows (the shorter one on a tie), nil with < 2 rows.
    public var typicalSpacingMS: Int64? {
        spacings.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
    }

    public static let examplesPerReason = 3
}

/// Turns CSV records into samples of the groups an import map feeds: resolves the header,
/// parses the time (strictly increasing, never in the future) and every mapped field (scaled),
/// and rejects what does not parse, with the line, the column and why.
///
/// Pure: records in, rows or rejections out; the caller reads the file and stores the rows.
public struct HistoryRowMapper: Sendable {
    public let map: HistoryImportMap
    /// The fed groups' schemas, in the order of `HistoryRow.values`.
    public let groups: [SeriesSchema]
    public private(set) var tally = HistoryImportTally()

    private let resolver: LocalTimeResolver?
    private let missingIncludesEmpty: Bool
    private let hasOtherMissingValues: Bool
    private let notAfterMS: Int64?
    /// Subtracted from each row's stamp to give its sample time (`HistoryImportMap.stampShiftMS`).
    private let stampShiftMS: Int64
    /// Resolved on the header (or at once without one): field index of the time and of each column.
    private var timeField: Int?
    private var targets: [Target] = []
    private var headerCount: Int?
    private var columnNames: [String] = []
    private var previous: (ms: Int64, line: Int)?
    /// The accepted row before `previous` (to tell a single row that jumps ahead of both sides).
    private var beforePrevious: (ms: Int64, line: Int)?
    /// The last accepted row, held back until the next row's time shows whether it jumped
    /// ahead of both neighbours (`timeOutOfSequence`); handed out by the next `map` or `finish`.
    private var held: HistoryRow?
    /// Outcomes of the records after `held`, handed out after it so outcomes stay in line order.
    /// At most `queueLimit`: beyond it the held row is taken as in sequence and handed out.
    private var queued: [Outcome] = []
    static let queueLimit = 1024
    /// The mapped fields' texts of the previous accepted row (to tell a conflicting duplicate).
    private var previousFields: [String] = []
    /// Fields a row needs without a header (the highest column the map reads).
    private var neededFields = 0
    private let blankValues: [[Double]]
    private let blankQualities: [[PointQuality]]

    private struct Target: Sendable {
        var field: Int
        var group: Int
        var signal: Int
        var scale: Double
        var name: String
    }

    public enum Outcome: Sendable, Hashable {
        /// A line before the header, or the header itself.
        case skipped
        case row(HistoryRow)
        case rejected(HistoryRowRejection)
    }

    /// `groups` must hold a schema for every group the map names, and each mapped signal.
    /// Rows stamped later than `notAfterMS` are rejected (an export in the future is a time-zone
    /// mistake). Each row's sample is taken `stampShiftMS` before its stamp (end-stamped rows:
    /// `map.stampShiftMS(rowIntervalMS:)`); order, duplicates and messages go by the stamps.
    public init(
        map: HistoryImportMap, groups: [SeriesSchema], resolver: LocalTimeResolver?, notAfterMS: Int64?,
        stampShiftMS: Int64 = 0
    ) {
        self.map = map
        self.stampShiftMS = stampShiftMS
        self.groups = groups
        self.resolver = resolver
        self.notAfterMS = notAfterMS
        blankValues = groups.map { [Double](repeating: .nan, count: $0.signals.count) }
        blankQualities = groups.map { [PointQuality](repeating: .stale, count: $0.signals.count) }
        missingIncludesEmpty = map.missingValues.contains("")
        hasOtherMissingValues = map.missingValues.contains { !$0.isEmpty }
    }

    /// Maps one record and hands out, through `emit`, the outcomes it decides: its own, and the
    /// previous accepted row once this record's time shows it is in sequence (or that it alone
    /// jumped ahead: then that row is rejected and this one kept). An accepted row is therefore
    /// handed out one row late; `finish` hands out the last. Both passes of an import see the
    /// same outcomes. Throws when the header does not fit the map.
    public mutating func map(_ record: CSVRecord, emit: (Outcome) -> Void) throws(HistoryHeaderError) {
        if record.line < map.headerLine { return hand(.skipped, emit) }
        if timeField == nil {
            if map.headerLine > 0 {
                try resolve(header: record.fields, line: record.line)
                return hand(.skipped, emit)
            }
            try resolve(header: nil, line: record.line)
        }
        tally.rowsRead += 1
        let (outcome, heldJumpedAhead) = mapRow(record)
        if case .row(let row) = outcome {
            if let h = held {
                if heldJumpedAhead {
                    let rejection = HistoryRowRejection(
                        line: h.line, column: timeName(), reason: .timeOutOfSequence,
                        message:
                            "\(Self.utcText(h.timestampMS + stampShiftMS)) is after the rows on both sides of it (lines \(beforePrevious.map { "\($0.line)" } ?? "?") and \(row.line)); this row alone is not imported: check its date"
                    )
                    account(.rejected(rejection), emit)
                } else {
                    account(.row(h), emit)
                }
                flushQueue(emit)
            }
            held = row
        } else {
            hand(outcome, emit)
        }
    }

    /// An outcome that is not an accepted row: queued behind the held row, else handed out.
    private mutating func hand(_ outcome: Outcome, _ emit: (Outcome) -> Void) {
        guard let h = held else { return account(outcome, emit) }
        queued.append(outcome)
        if queued.count >= Self.queueLimit {
            held = nil
            account(.row(h), emit)
            flushQueue(emit)
        }
    }

    private mutating func flushQueue(_ emit: (Outcome) -> Void) {
        let pending = queued
        queued.removeAll(keepingCapacity: true)
        for outcome in pending { account(outcome, emit) }
    }

    /// Ends the pass: hands out the row still held back; a file with a header line but no
    /// header is an error.
    public mutating func finish(emit: (Outcome) -> Void) throws(HistoryHeaderError) {
        if let h = held {
            held = nil
            account(.row(h), emit)
            flushQueue(emit)
        }
        if timeField == nil, map.headerLine > 0 {
            throw HistoryHeaderError(
                line: map.headerLine, message: "the file has no header line \(map.headerLine) (it ends before)")
        }
    }

    /// Counts an outcome in the tally as it is handed out.
    private mutating func account(_ outcome: Outcome, _ emit: (Outcome) -> Void) {
        switch outcome {
        case .row(let row):
            tally.rowsAccepted += 1
            if let last = tally.lastMS, tally.spacings.count < 64 || tally.spacings[row.timestampMS - last] != nil {
                tally.spacings[row.timestampMS - last, default: 0] += 1
            }
            if tally.firstMS == nil { tally.firstMS = row.timestampMS }
            tally.lastMS = row.timestampMS
        case .rejected(let rejection):
            let count = tally.rejected[rejection.reason, default: 0]
            tally.rejected[rejection.reason] = count + 1
            if count < HistoryImportTally.examplesPerReason { tally.examples.append(rejection) }
        case .skipped: break
        }
        emit(outcome)
    }

    private mutating func resolve(header: [String]?, line: Int) throws(HistoryHeaderError) {
        var index: [String: Int] = [:]
        if let header {
            for (i, name) in header.enumerated() {
                let key = name.trimmingASCIISpaces
                if index[key] != nil {
                    throw HistoryHeaderError(
                        line: line, message: "the header names column \"\(key)\" twice; columns must be unique")
                }
                index[key] = i
            }
            headerCount = header.count
            columnNames = header.map(\.trimmingASCIISpaces)
        }
        func field(_ reference: HistoryImportMap.ColumnReference, what: String) throws(HistoryHeaderError) -> Int {
            switch reference {
            case .number(let n):
                if let count = headerCount, n > count {
                    throw HistoryHeaderError(
                        line: line, message: "\(what) is column \(n), but the header has \(count) columns")
                }
                return n - 1
            case .name(let name):
                guard let i = index[name] else {
                    let known = columnNames.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")
                    throw HistoryHeaderError(
                        line: line,
                        message:
                            "\(what) \"\(name)\" is not in the header (columns: \(known)\(columnNames.count > 20 ? ", ..." : "")); fix the map's column names"
                    )
                }
                return i
            }
        }
        let time = try field(map.timeColumn, what: "the time column")
        var targets: [Target] = []
        var used: Set<Int> = [time]
        for column in map.columns {
            let f = try field(column.column, what: "the column for \(column.group).\(column.signal)")
            guard let g = groups.firstIndex(where: { $0.groupID == column.group }),
                let s = groups[g].signals.firstIndex(where: { $0.name == column.signal })
            else {
                throw HistoryHeaderError(
                    line: line,
                    message: "no schema for \(column.group).\(column.signal) (a map not checked against the site)")
            }
            used.insert(f)
            let name: String =
                switch column.column {
                case .name(let n): n
                case .number(let n):
                    header.map { $0.indices.contains(n - 1) ? $0[n - 1].trimmingASCIISpaces : "column \(n)" }
                        ?? "column \(n)"
                }
            targets.append(Target(field: f, group: g, signal: s, scale: column.scale, name: name))
        }
        if let header {
            let ignored = Set(map.ignoredColumns)
            tally.unknownColumns = header.indices.filter { !used.contains($0) && !ignored.contains(columnNames[$0]) }
                .map {
                    columnNames[$0]
                }
        }
        self.targets = targets
        neededFields = max(time, targets.map(\.field).max() ?? 0) + 1
        timeField = time
    }

    private func timeName() -> String {
        switch map.timeColumn {
        case .name(let n): n
        case .number(let n): columnNames.indices.contains(n - 1) ? columnNames[n - 1] : "column \(n)"
        }
    }

    /// The record's outcome, and whether it shows the held row jumped ahead of both sides (then
    /// the record is accepted after the row before the held one).
    private mutating func mapRow(_ record: CSVRecord) -> (Outcome, heldJumpedAhead: Bool) {
        func reject(_ reason: HistoryRowRejection.Reason, _ column: String?, _ message: String) -> (Outcome, Bool) {
            (.rejected(HistoryRowRejection(line: record.line, column: column, reason: reason, message: message)), false)
        }
        if let problem = record.problem { return reject(.malformedRecord, nil, problem) }
        let fields = record.fields
        if let count = headerCount, fields.count != count {
            return reject(.fieldCount, nil, "the row has \(fields.count) fields, the header has \(count)")
        }
        let needed = neededFields
        if fields.count < needed {
            return reject(.fieldCount, nil, "the row has \(fields.count) fields, the map reads column \(needed)")
        }
        let timeText = fields[timeField!]
        let instants: [Int64]
        switch HistoryTimeParser.parse(timeText, format: map.timeFormat, resolver: resolver) {
        case .invalid(let why): return reject(.timeInvalid, timeName(), why)
        case .utc(let list): instants = list
        }
        // An ambiguous local time (the repeated hour) is the first reading after the previous row.
        var t = instants.last!
        if let previous, let later = instants.first(where: { $0 > previous.ms }) {
            t = later
        } else if previous == nil {
            t = instants[0]
        }
        var heldJumpedAhead = false
        if let previous, t <= previous.ms {
            // The held row stamped after this one and after the one before it: it alone is wrong.
            if t < previous.ms, held != nil, let before = beforePrevious, t > before.ms {
                heldJumpedAhead = true
            } else if t == previous.ms {
                if let conflict = conflict(with: fields) {
                    return reject(
                        .timeDuplicateConflict, conflict.column,
                        "\(Self.utcText(t)) repeats the time of line \(previous.line) with another value (\(conflict.text)); line \(previous.line)'s row is kept, this one is not imported: check which is right"
                    )
                }
                return reject(
                    .timeDuplicate, timeName(),
                    "\(Self.utcText(t)) repeats the time of line \(previous.line) with the same values; the row is not imported")
            } else {
                return reject(
                    .timeOutOfOrder, timeName(),
                    "\(Self.utcText(t)) is before line \(previous.line)'s \(Self.utcText(previous.ms)); rows must be in time order (sort the file)"
                )
            }
        }
        if let limit = notAfterMS, t > limit {
            return reject(
                .timeInFuture, timeName(), "\(Self.utcText(t)) is in the future; check the time format and time zone")
        }
        var values = blankValues
        var qualities = blankQualities
        for target in targets {
            let text = fields[target.field].trimmingASCIISpaces
            if text.isEmpty ? missingIncludesEmpty : (hasOtherMissingValues && map.missingValues.contains(text)) {
                continue
            }
            guard let v = number(text) else {
                return reject(
                    .numberInvalid, target.name,
                    "\"\(text)\" is not a number" + (map.decimalSeparator == UInt8(ascii: ",") ? " (decimal comma)" : ""))
            }
            values[target.group][target.signal] = v * target.scale
            qualities[target.group][target.signal] = .ok
        }
        if !heldJumpedAhead { beforePrevious = previous }
        previous = (t, record.line)
        previousFields = targets.map { fields[$0.field].trimmingASCIISpaces }
        return (.row(HistoryRow(line: record.line, timestampMS: t - stampShiftMS, values: values, qualities: qualities)), heldJumpedAhead)
    }

    /// Whether a field's text means "no value in this row" (the map's missing values).
    private func isMissing(_ text: String) -> Bool {
        text.isEmpty ? missingIncludesEmpty : (hasOtherMissingValues && map.missingValues.contains(text))
    }

    /// The first mapped column whose value differs from the previous accepted row's (the two
    /// texts), or nil when every mapped value is the same; a missing value ("no value in this
    /// row") or a text that is not a number conflicts with nothing.
    private func conflict(with fields: [String]) -> (column: String, text: String)? {
        for (k, target) in targets.enumerated() where k < previousFields.count {
            let text = fields[target.field].trimmingASCIISpaces
            let before = previousFields[k]
            guard text != before, !isMissing(text), !isMissing(before) else { continue }
            // Two numbers that differ ("12.50" and "12.5" are the same); a text that is no
            // number is no value to conflict with (the row is a plain duplicate).
            guard let a = number(text), let b = number(before), a != b else { continue }
            return (target.name, "\"\(before)\" then \"\(text)\"")
        }
        return nil
    }

    /// A mapped field's number under the map's decimal mark.
    private func number(_ text: String) -> Double? {
        guard map.decimalSeparator == UInt8(ascii: ",") else { return Self.number(text) }
        // A decimal comma: "1.234,5" is not accepted (no grouping marks), "12,5" is 12.5.
        guard !text.utf8.contains(UInt8(ascii: ".")) else { return nil }
        return Self.number(String(decoding: text.utf8.map { $0 == UInt8(ascii: ",") ? UInt8(ascii: ".") : $0 }, as: UTF8.self))
    }

    /// A finite decimal number, or true/false (1/0) for state columns.
    static func number(_ text: String) -> Double? {
        if let v = Double(text), v.isFinite,
            text.utf8.first.map({ $0 != UInt8(ascii: "n") && $0 != UInt8(ascii: "N") }) ?? false
        {
            return v
        }
        switch text.lowercased() {
        case "true": return 1
        case "false": return 0
        default: return nil
        }
    }

    /// `2025-01-01T00:00:00Z` (with `.mmm` when not whole seconds).
    public static func utcText(_ ms: Int64) -> String {
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let rest = ms - days * 86_400_000
        let (y, m, d) = CivilCalendar.date(daysSinceEpoch: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let h = rest / 3_600_000
        let mi = rest / 60_000 % 60
        let s = rest / 1000 % 60
        let milli = rest % 1000
        let fraction = milli == 0 ? "" : "." + String(String(milli + 1000).dropFirst())
        return "\(y)-\(two(m))-\(two(d))T\(two(h)):\(two(mi)):\(two(s))\(fraction)Z"
    }
}
