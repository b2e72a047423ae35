import ESSCore
import Testing

/// The pure side of `essctl import csv`: CSV records, time fields, and rows mapped to samples
/// or rejected with their line, column and reason. Tables of good and bad inputs.
@Suite struct HistoryImportParsingTests {
    // MARK: CSV records

    static func records(_ text: String, delimiter: Character = ",", chunk: Int = 1_000_000) -> [CSVRecord] {
        var reader = CSVRecordReader(delimiter: delimiter.asciiValue!)
        var out: [CSVRecord] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            reader.feed(Array(bytes[i..<min(bytes.count, i + chunk)])) { out.append($0) }
            i += chunk
        }
        reader.finish { out.append($0) }
        return out
    }

    struct CSVCase: Sendable, CustomTestStringConvertible {
        var text: String
        var fields: [[String]]
        var lines: [Int]
        var testDescription: String { text.debugDescription }
    }

    static let csvCases: [CSVCase] = [
        CSVCase(text: "a,b\n1,2\n", fields: [["a", "b"], ["1", "2"]], lines: [1, 2]),
        CSVCase(text: "a,b\r\n1,2\r\n", fields: [["a", "b"], ["1", "2"]], lines: [1, 2]),
        CSVCase(text: "a,b\n1,2", fields: [["a", "b"], ["1", "2"]], lines: [1, 2]),
        CSVCase(text: "\u{FEFF}a,b\n1,", fields: [["a", "b"], ["1", ""]], lines: [1, 2]),
        CSVCase(text: "\"x,y\",\"he said \"\"hi\"\"\"\n", fields: [["x,y", "he said \"hi\""]], lines: [1]),
        CSVCase(text: "\"two\nlines\",z\nnext,1\n", fields: [["two\nlines", "z"], ["next", "1"]], lines: [1, 3]),
        CSVCase(text: "a\n\n\nb\n", fields: [["a"], ["b"]], lines: [1, 4]),
        CSVCase(text: ",,\n", fields: [["", "", ""]], lines: [1]),
        CSVCase(text: "5\"x,1\n", fields: [["5\"x", "1"]], lines: [1]),
    ]

    @Test(arguments: csvCases)
    func csvRecords(_ c: CSVCase) {
        for chunk in [1, 2, 3, 1_000_000] {
            let got = Self.records(c.text, chunk: chunk)
            #expect(got.map(\.fields) == c.fields, "chunk \(chunk)")
            #expect(got.map(\.line) == c.lines, "chunk \(chunk)")
            #expect(got.allSatisfy { $0.problem == nil })
        }
    }

    @Test func semicolonsAndAnUnclosedQuote() {
        #expect(Self.records("a;b\n1,5;2\n", delimiter: ";").map(\.fields) == [["a", "b"], ["1,5", "2"]])
        let bad = Self.records("a,b\n\"open,1\n")
        #expect(bad.count == 2)
        #expect(bad[1].line == 2 && bad[1].problem?.contains("not closed") == true)
    }

    // MARK: Time fields

    /// Asia/Shanghai: always +08:00.
    static let shanghai: LocalTimeResolver = { [$0 - 8 * 3_600_000] }
    /// A zone that skips 02:00–03:00 local on 1970-01-02 (spring forward).
    static let dstGap: LocalTimeResolver = { local in
        let day: Int64 = 86_400_000
        let h: Int64 = 3_600_000
        return local >= day + 2 * h && local < day + 3 * h ? [] : [local]
    }
    /// A zone that falls back from +02:00 to +01:00 at 1970-01-02T00:00Z: 01:00–02:00 local twice.
    static let dstFall: LocalTimeResolver = { local in
        let day: Int64 = 86_400_000
        let h: Int64 = 3_600_000
        if local < day + h { return [local - 2 * h] }
        if local < day + 2 * h { return [local - 2 * h, local - h] }
        return [local - h]
    }

    struct TimeCase: Sendable, CustomTestStringConvertible {
        var text: String
        var format: HistoryImportMap.TimeFormat
        var utc: [Int64]?
        var error: String?
        var testDescription: String { "\(format.rawValue) \(text)" }
    }

    static let t0: Int64 = 1_735_660_800_000  // 2025-01-01T00:00:00+08:00

    static let timeCases: [TimeCase] = [
        TimeCase(text: "2025-01-01T00:00:00+08:00", format: .rfc3339, utc: [t0]),
        TimeCase(text: "2024-12-31T16:00:00Z", format: .rfc3339, utc: [t0]),
        TimeCase(text: "2024-12-31 16:00:00.250Z", format: .rfc3339, utc: [t0 + 250]),
        TimeCase(text: "2025-01-01T00:00+0800", format: .rfc3339, utc: [t0]),
        TimeCase(text: "2025-01-01T00:00:00", format: .rfc3339, error: "has no UTC offset"),
        TimeCase(text: "2025-02-29T00:00:00Z", format: .rfc3339, error: "not an existing date"),
        TimeCase(text: "2025-01-01T24:00:00Z", format: .rfc3339, error: "not an existing date"),
        TimeCase(text: "01/01/2025 00:00", format: .rfc3339, error: "is not a date and time"),
        TimeCase(text: "2025-01-01 00:00:00", format: .local, utc: [t0]),
        TimeCase(text: " 2025/01/01 00:00 ", format: .local, utc: [t0]),
        TimeCase(text: "2025-01-01T00:00:00Z", format: .local, utc: [t0 + 8 * 3_600_000]),
        TimeCase(text: "1735660800", format: .epochSeconds, utc: [t0]),
        TimeCase(text: "1735660800.5", format: .epochSeconds, utc: [t0 + 500]),
        TimeCase(text: "1735660800000", format: .epochMilliseconds, utc: [t0]),
        TimeCase(text: "17356608e5", format: .epochMilliseconds, error: "is not a number"),
        TimeCase(text: "", format: .epochSeconds, error: "is not a number"),
    ]

    @Test(arguments: timeCases)
    func timeFields(_ c: TimeCase) {
        let result = HistoryTimeParser.parse(c.text, format: c.format, resolver: Self.shanghai)
        switch result {
        case .utc(let got):
            #expect(got == c.utc, "unexpected instants")
            #expect(c.error == nil, "expected an error containing \(c.error ?? "")")
        case .invalid(let message):
            #expect(c.utc == nil, "unexpected error \(message)")
            if let expected = c.error { #expect(message.contains(expected), "\(message)") }
        }
    }

    @Test func daylightSavingGapAndRepeat() {
        #expect(
            HistoryTimeParser.parse("1970-01-02 02:30", format: .local, resolver: Self.dstGap)
                == .invalid(
                    "\"1970-01-02 02:30\" does not exist in the site's time zone (skipped by a daylight-saving change)")
        )
        #expect(
            HistoryTimeParser.parse("1970-01-02 01:30", format: .local, resolver: Self.dstFall)
                == .utc([84_600_000, 88_200_000]))
    }

    @Test func utcText() {
        #expect(HistoryRowMapper.utcText(Self.t0) == "2024-12-31T16:00:00Z")
        #expect(HistoryRowMapper.utcText(0) == "1970-01-01T00:00:00Z")
        #expect(HistoryRowMapper.utcText(951_782_400_123) == "2000-02-29T00:00:00.123Z")
        #expect(HistoryRowMapper.utcText(-1000) == "1969-12-31T23:59:59Z")
    }

    // MARK: Rows

    static let schemas: [SeriesSchema] = [
        SeriesSchema(
            groupID: "pcs1",
            signals: [
                SignalDefinition(name: "active_power", role: .activePowerKW, heartbeatMS: 180_000, tiers: ["15m"]),
                SignalDefinition(name: "available", role: .available, heartbeatMS: 180_000, tiers: ["15m"]),
                SignalDefinition(name: "dc_voltage", role: .other, heartbeatMS: 180_000, tiers: ["15m"]),
            ], energy: EnergySources(activePower: 0)),
        SeriesSchema(
            groupID: "bms1",
            signals: [SignalDefinition(name: "soc", role: .socPercent, heartbeatMS: 180_000, tiers: ["15m"])],
            energy: EnergySources()),
    ]

    static let map = HistoryImportMap(
        delimiter: UInt8(ascii: ","), headerLine: 2, timeColumn: .name("time"), timeFormat: .local,
        columns: [
            .init(column: .name("P_W"), group: "pcs1", signal: "active_power", scale: 0.001),
            .init(column: .name("run"), group: "pcs1", signal: "available"),
            .init(column: .number(4), group: "bms1", signal: "soc"),
        ],
        ignoredColumns: ["note"], missingValues: ["", "NULL"])

    static func mapped(_ text: String, map: HistoryImportMap = map, notAfterMS: Int64? = nil) throws -> (
        HistoryImportTally, [HistoryRowMapper.Outcome]
    ) {
        var mapper = HistoryRowMapper(map: map, groups: schemas, resolver: shanghai, notAfterMS: notAfterMS)
        var outcomes: [HistoryRowMapper.Outcome] = []
        for record in records(text) { try mapper.map(record) { outcomes.append($0) } }
        try mapper.finish { outcomes.append($0) }
        return (mapper.tally, outcomes)
    }

    @Test func goodRowsBecomeSamplesOfTheirGroups() throws {
        let text = """
            exported by SCADA
            time,P_W,run,SOC %,note,extra
            2025-01-01 00:00:00,-50000,true,2.5,a,x
            2025-01-01 00:01:00,,1,NULL,,x
            2025-01-01 00:02:00,45125,false,3,,x
            """
        let (tally, outcomes) = try Self.mapped(text)
        let rows = outcomes.compactMap { if case .row(let r) = $0 { r } else { nil } }
        #expect(rows.count == 3 && tally.rowsRead == 3 && tally.rowsAccepted == 3 && tally.rowsRejected == 0)
        #expect(rows.map(\.timestampMS) == [Self.t0, Self.t0 + 60_000, Self.t0 + 120_000])
        #expect(rows.map(\.line) == [3, 4, 5])
        #expect(rows[0].values[0][0] == -50 && rows[0].values[0][1] == 1 && rows[0].values[1] == [2.5])
        #expect(rows[0].qualities[0] == [.ok, .ok, .stale], "an unmapped signal is not sampled")
        #expect(
            rows[1].qualities[0][0] == .stale && rows[1].qualities[1] == [.stale],
            "empty and NULL cells are not samples")
        #expect(rows[2].values[0][0] == 45.125 && rows[2].values[0][1] == 0)
        #expect(tally.unknownColumns == ["extra"], "note is ignored on purpose")
        #expect(tally.typicalSpacingMS == 60_000)
        #expect(tally.firstMS == Self.t0 && tally.lastMS == Self.t0 + 120_000)
    }

    struct BadRow: Sendable, CustomTestStringConvertible {
        var row: String
        var reason: HistoryRowRejection.Reason
        var column: String?
        var message: String
        var testDescription: String { row }
    }

    /// Each row follows a good row at 2025-01-01 00:10:00 (line 3); it is line 4.
    static let badRows: [BadRow] = [
        BadRow(
            row: "2025-01-01 00:11:00,abc,1,50,,", reason: .numberInvalid, column: "P_W",
            message: "\"abc\" is not a number"),
        BadRow(
            row: "2025-01-01 00:11:00,1,1,nan,,", reason: .numberInvalid, column: "SOC %",
            message: "\"nan\" is not a number"),
        BadRow(
            row: "2025-01-01 00:11:00,1e400,1,50,,", reason: .numberInvalid, column: "P_W", message: "is not a number"),
        BadRow(
            row: "2025-01-01 00:10:00,1,1,50,,", reason: .timeDuplicate, column: "time",
            message: "repeats the time of line 3 with the same values"),
        // "1.0" is the value of line 3's "1": the same row, not a conflict.
        BadRow(
            row: "2025-01-01 00:10:00,1.0,1,50,,", reason: .timeDuplicate, column: "time",
            message: "with the same values"),
        // A missing value (NULL, empty) is no value: it conflicts with nothing.
        BadRow(
            row: "2025-01-01 00:10:00,NULL,1,,,", reason: .timeDuplicate, column: "time", message: "with the same values"),
        // Issue 12, finding 11: a duplicate time with another value was dropped silently.
        BadRow(
            row: "2025-01-01 00:10:00,1,1,51,,", reason: .timeDuplicateConflict, column: "SOC %",
            message: "repeats the time of line 3 with another value (\"50\" then \"51\"); line 3's row is kept"),
        BadRow(
            row: "2025-01-01 00:09:00,1,1,50,,", reason: .timeOutOfOrder, column: "time", message: "is before line 3's"),
        BadRow(
            row: "2025-13-01 00:11:00,1,1,50,,", reason: .timeInvalid, column: "time", message: "not an existing date"),
        BadRow(row: "yesterday,1,1,50,,", reason: .timeInvalid, column: "time", message: "is not a date and time"),
        BadRow(
            row: "2025-01-01 00:11:00,1,1,50,", reason: .fieldCount, column: nil,
            message: "the row has 5 fields, the header has 6"),
        BadRow(
            row: "2025-01-01 00:11:00,1,1,50,,,", reason: .fieldCount, column: nil,
            message: "the row has 7 fields, the header has 6"),
        BadRow(row: "2030-01-01 00:00:00,1,1,50,,", reason: .timeInFuture, column: "time", message: "is in the future"),
    ]

    @Test(arguments: badRows)
    func badRowsAreRejectedWithLineColumnAndReason(_ c: BadRow) throws {
        let text =
            "x\ntime,P_W,run,SOC %,note,extra\n2025-01-01 00:10:00,1,1,50,,\n\(c.row)\n2025-01-01 00:12:00,1,1,50,,\n"
        let (tally, outcomes) = try Self.mapped(text, notAfterMS: Self.t0 + 86_400_000)
        #expect(tally.rowsRead == 3 && tally.rowsAccepted == 2 && tally.rowsRejected == 1)
        #expect(tally.rejected == [c.reason: 1])
        // outcomes: line 1 and the header skipped, line 3 a row, line 4 the bad row, line 5 a row.
        guard case .rejected(let rejection) = outcomes[3] else {
            Issue.record("not rejected: \(outcomes[3])")
            return
        }
        #expect(rejection.line == 4)
        #expect(rejection.column == c.column)
        #expect(rejection.message.contains(c.message), "\(rejection.message)")
        #expect(tally.examples == [rejection])
        // A rejected row does not move the time: the next row is judged against line 3.
        if case .row(let next) = outcomes[4] { #expect(next.line == 5) } else { Issue.record("line 5 not imported") }
    }

    @Test func examplesAreCappedPerReason() throws {
        var text = "x\ntime,P_W,run,SOC %,note,extra\n"
        for i in 0..<10 { text += "2025-01-01 00:\(10 + i):00,bad,1,50,,\n" }
        let (tally, _) = try Self.mapped(text)
        #expect(tally.rejected == [.numberInvalid: 10])
        #expect(tally.examples.map(\.line) == [3, 4, 5])
    }

    struct HeaderCase: Sendable, CustomTestStringConvertible {
        var header: String
        var message: String
        var testDescription: String { header }
    }

    static let headerCases: [HeaderCase] = [
        HeaderCase(header: "time,P,run,SOC", message: "the column for pcs1.active_power \"P_W\" is not in the header"),
        HeaderCase(header: "Time,P_W,run,SOC", message: "the time column \"time\" is not in the header"),
        HeaderCase(
            header: "time,P_W,run", message: "the column for bms1.soc is column 4, but the header has 3 columns"),
        HeaderCase(header: "time,P_W,run,P_W", message: "the header names column \"P_W\" twice"),
    ]

    @Test(arguments: headerCases)
    func headersThatDoNotFitTheMapStopEverything(_ c: HeaderCase) throws {
        var mapper = HistoryRowMapper(map: Self.map, groups: Self.schemas, resolver: Self.shanghai, notAfterMS: nil)
        let records = Self.records("x\n\(c.header)\n2025-01-01 00:00:00,1,1,1\n")
        try mapper.map(records[0]) { _ in }
        #expect(throws: HistoryHeaderError.self) { try mapper.map(records[1]) { _ in } }
        do { try mapper.map(records[1]) { _ in } } catch {
            #expect(error.line == 2 && error.message.contains(c.message), "\(error)")
        }
    }

    @Test func aFileEndingBeforeItsHeaderIsAnError() throws {
        #expect(throws: HistoryHeaderError.self) { _ = try Self.mapped("only one line\n") }
    }

    @Test func withoutAHeaderColumnsAreNumbers() throws {
        let map = HistoryImportMap(
            delimiter: UInt8(ascii: ";"), headerLine: 0, timeColumn: .number(1), timeFormat: .epochSeconds,
            columns: [.init(column: .number(3), group: "bms1", signal: "soc")])
        var mapper = HistoryRowMapper(map: map, groups: Self.schemas, resolver: nil, notAfterMS: nil)
        var rows: [HistoryRow] = []
        var rejected: [HistoryRowRejection] = []
        for outcome in try mapper.outcomes(Self.records("1735660800;x;10\n1735660860;y\n1735660920;z;12.5\n", delimiter: ";")) {
            switch outcome {
            case .row(let r): rows.append(r)
            case .rejected(let r): rejected.append(r)
            case .skipped: break
            }
        }
        #expect(rows.map(\.timestampMS) == [Self.t0, Self.t0 + 120_000])
        #expect(rows.map { $0.values[1][0] } == [10, 12.5])
        #expect(rejected.map(\.reason) == [.fieldCount] && rejected.first?.line == 2)
    }

    @Test func anAmbiguousLocalTimeIsTheFirstReadingAfterThePreviousRow() throws {
        let map = HistoryImportMap(
            headerLine: 0, timeColumn: .number(1), timeFormat: .local,
            columns: [.init(column: .number(2), group: "bms1", signal: "soc")])
        var mapper = HistoryRowMapper(map: map, groups: Self.schemas, resolver: Self.dstFall, notAfterMS: nil)
        var times: [Int64] = []
        for outcome in try mapper.outcomes(Self.records("1970-01-02 00:30,1\n1970-01-02 01:30,2\n1970-01-02 01:30,3\n1970-01-02 02:30,4\n")) {
            if case .row(let r) = outcome { times.append(r.timestampMS) }
        }
        let day: Int64 = 86_400_000
        #expect(times == [day - 5_400_000, day - 1_800_000, day + 1_800_000, day + 5_400_000])
    }

    /// Issue 12, finding 11: one out-of-order row dropped ten good rows (every row after a row
    /// with a wrong date was "before" it). A single row stamped after the rows on both sides of
    /// it is now the one left out; rows truly out of order are still refused. By hand: 12 rows a
    /// minute apart, line 4 stamped a day late; then a row before its predecessor (line 14).
    @Test func aSingleRowWithAWrongDateCostsOnlyItself() throws {
        let map = HistoryImportMap(
            headerLine: 0, timeColumn: .number(1), timeFormat: .epochSeconds,
            columns: [.init(column: .number(2), group: "bms1", signal: "soc")])
        var lines: [String] = []
        for m in 0..<12 { lines.append("\(1_735_660_800 + (m == 3 ? 86_400 : 0) + m * 60),\(50 + m)") }
        lines.append("\(1_735_660_800 + 12 * 60),62")
        lines.append("\(1_735_660_800 + 11 * 60 - 30),99")  // before line 13: out of order
        lines.append("\(1_735_660_800 + 13 * 60),63")
        var mapper = HistoryRowMapper(map: map, groups: Self.schemas, resolver: nil, notAfterMS: nil)
        var values: [Double] = []
        var rejected: [(Int, HistoryRowRejection.Reason)] = []
        for outcome in try mapper.outcomes(Self.records(lines.joined(separator: "\n") + "\n")) {
            switch outcome {
            case .row(let r): values.append(r.values[1][0])
            case .rejected(let r): rejected.append((r.line, r.reason))
            case .skipped: break
            }
        }
        #expect(values == [50, 51, 52, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63])
        #expect(rejected.map(\.0) == [4, 14])
        #expect(rejected.map(\.1) == [.timeOutOfSequence, .timeOutOfOrder])
        let tally = mapper.tally
        #expect(tally.rowsRead == 15 && tally.rowsAccepted == 13 && tally.rowsRejected == 2)
        // The first row cannot be judged against a row before it: a late second row is refused.
        var first = HistoryRowMapper(map: map, groups: Self.schemas, resolver: nil, notAfterMS: nil)
        let outcomes = try first.outcomes(Self.records("1735747200,1\n1735660860,2\n1735660920,3\n"))
        let reasons = outcomes.compactMap { if case .rejected(let r) = $0 { r.reason } else { nil } }
        #expect(reasons == [.timeOutOfOrder, .timeOutOfOrder])
    }

    /// Issue 12, finding 11: `decimal_separator = ","` reads "12,5" as 12.5 (with `;` between
    /// fields); a grouping mark is refused rather than guessed.
    @Test func aDecimalCommaIsRead() throws {
        let map = HistoryImportMap(
            delimiter: UInt8(ascii: ";"), headerLine: 0, timeColumn: .number(1), timeFormat: .epochSeconds,
            columns: [.init(column: .number(2), group: "bms1", signal: "soc")], decimalSeparator: UInt8(ascii: ","))
        var mapper = HistoryRowMapper(map: map, groups: Self.schemas, resolver: nil, notAfterMS: nil)
        var values: [Double] = []
        var rejected: [String] = []
        for outcome in try mapper.outcomes(Self.records("1735660800;12,5\n1735660860;13\n1735660920;1.234,5\n1735660980;-0,25\n", delimiter: ";")) {
            switch outcome {
            case .row(let r): values.append(r.values[1][0])
            case .rejected(let r): rejected.append(r.message)
            case .skipped: break
            }
        }
        #expect(values == [12.5, 13, -0.25])
        #expect(rejected == ["\"1.234,5\" is not a number (decimal comma)"])
    }
    /// Issue 12, finding 3: rows stamped at the end of their minute (stamped_at = "end"): the
    /// row stamped 00:01 describes 00:00–00:01, so its sample is taken at 00:00 (stamp − 60 s).
    /// Order, duplicates, "in the future" and the messages go by the stamps as written.
    @Test func endStampedRowsAreSamplesOfTheStartOfTheirInterval() throws {
        let map = HistoryImportMap(
            delimiter: UInt8(ascii: ","), headerLine: 1, timeColumn: .name("time"), timeFormat: .local,
            columns: [.init(column: .name("soc"), group: "bms1", signal: "soc")], stampedAt: .end)
        let shift = map.stampShiftMS(rowIntervalMS: 60_000)
        #expect(shift == 60_000)
        // Allowed up to 00:03 local, i.e. t0 + 180 s: the row stamped 00:04 is in the future
        // although its sample (00:03) would not be.
        var mapper = HistoryRowMapper(
            map: map, groups: Self.schemas, resolver: Self.shanghai, notAfterMS: Self.t0 + 180_000, stampShiftMS: shift)
        let text = """
            time,soc
            2025-01-01 00:01:00,50
            2025-01-01 00:02:00,51
            2025-01-01 00:02:00,51
            2025-01-01 00:03:00,52
            2025-01-01 00:04:00,53
            """
        var rows: [HistoryRow] = []
        var rejected: [HistoryRowRejection] = []
        for outcome in try mapper.outcomes(Self.records(text)) {
            switch outcome {
            case .row(let r): rows.append(r)
            case .rejected(let r): rejected.append(r)
            case .skipped: break
            }
        }
        // 2025-01-01 00:01 +08:00 = 1_735_660_860_000 ms; less 60 s = t0 = 1_735_660_800_000.
        #expect(rows.map(\.timestampMS) == [1_735_660_800_000, 1_735_660_860_000, 1_735_660_920_000])
        #expect(rows.map { $0.values[1][0] } == [50, 51, 52])
        #expect(mapper.tally.firstMS == 1_735_660_800_000 && mapper.tally.lastMS == 1_735_660_920_000)
        #expect(mapper.tally.typicalSpacingMS == 60_000, "spacing does not change with the shift")
        #expect(rejected.map(\.reason) == [.timeDuplicate, .timeInFuture])
        #expect(rejected[0].message.hasPrefix("2024-12-31T16:02:00Z repeats the time of line 3"), "\(rejected[0].message)")
        #expect(rejected[1].message.hasPrefix("2024-12-31T16:04:00Z is in the future"), "\(rejected[1].message)")

        // The same rows stamped at the start: samples at their stamps.
        var start = map
        start.stampedAt = .start
        #expect(start.stampShiftMS(rowIntervalMS: 60_000) == 0)
        var tally = mapper.tally
        tally.moveTimes(byMS: 60_000)
        #expect(tally.firstMS == 1_735_660_860_000 && tally.lastMS == 1_735_660_980_000)
    }
}

extension HistoryRowMapper {
    /// The outcomes of `records` in the order the mapper hands them out, `finish`'s included.
    mutating func outcomes(_ records: [CSVRecord]) throws(HistoryHeaderError) -> [Outcome] {
        var out: [Outcome] = []
        for record in records { try map(record) { out.append($0) } }
        try finish { out.append($0) }
        return out
    }
}
