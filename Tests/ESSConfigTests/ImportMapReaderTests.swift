import ESSConfig
import ESSCore
import Foundation
import Testing

/// Import map files (`essctl import csv --map`): good maps become `HistoryImportMap`s, and every
/// bad key is reported as FILE:LINE: KEY: MESSAGE before anything is imported.
@Suite struct ImportMapReaderTests {
    static let site: SiteConfiguration = {
        // The example site: pcs1 (ess-sim-pcs), bms1 (ess-sim-bms), ems1 (ess-sim-ems), Asia/Shanghai.
        try! ConfigurationLoader.loadSite(path: ExampleConfigTests.repoRoot + "/Config/essd.toml")
    }()

    @Test func aFullMap() throws {
        let text = """
            delimiter = ";"
            decimal_separator = ","
            header_line = 2
            sample_interval_seconds = 60
            missing_values = ["", "NULL"]
            ignore = ["remark"]

            [time]
            column = "Timestamp"
            format = "local"
            stamped_at = "end"

            [[column]]
            column = "PCS1 P (W)"
            group = "pcs1"
            signal = "active_power"
            scale = 0.001

            [[column]]
            column = 5
            group = "bms1"
            signal = "soc"
            """
        let map = try ConfigurationLoader.parseImportMap(text: text, file: "map.toml", site: Self.site)
        #expect(map.delimiter == UInt8(ascii: ";"))
        #expect(map.decimalSeparator == UInt8(ascii: ","))
        #expect(map.headerLine == 2)
        #expect(map.sampleIntervalMS == 60_000)
        #expect(map.missingValues == ["", "NULL"])
        #expect(map.ignoredColumns == ["remark"])
        #expect(map.timeColumn == .name("Timestamp") && map.timeFormat == .local && map.stampedAt == .end)
        #expect(
            map.columns == [
                .init(column: .name("PCS1 P (W)"), group: "pcs1", signal: "active_power", scale: 0.001, line: 13),
                .init(column: .number(5), group: "bms1", signal: "soc", scale: 1, line: 19),
            ])
        #expect(map.groups == ["pcs1", "bms1"] && !map.feedsSiteDirectly)
    }

    @Test func defaultsAndSiteColumns() throws {
        let text = """
            [time]
            column = 1
            format = "epoch_ms"
            [[column]]
            column = 2
            group = "site"
            signal = "active_power_kw"
            """
        let map = try ConfigurationLoader.parseImportMap(text: text, file: "m.toml", site: Self.site)
        #expect(map.delimiter == UInt8(ascii: ",") && map.headerLine == 1 && map.missingValues == [""])
        #expect(map.sampleIntervalMS == nil && map.feedsSiteDirectly)
        #expect(map.stampedAt == .start, "rows mark the start of their interval unless the map says otherwise")
    }

    /// Issue 12, finding 3: `stamped_at` in [time] is "start" or "end"; the shift it gives is the
    /// row interval for "end" and nothing for "start" (hand-computed: 60 s rows, 900 s rows).
    @Test(arguments: [
        ("start", HistoryImportMap.StampedAt.start, Int64(60_000), Int64(0)),
        ("start", .start, 900_000, 0),
        ("end", .end, 60_000, 60_000),
        ("end", .end, 900_000, 900_000),
    ])
    func stampedAtStartOrEnd(text: String, expected: HistoryImportMap.StampedAt, rowMS: Int64, shiftMS: Int64) throws {
        let map = try ConfigurationLoader.parseImportMap(
            text: "[time]\ncolumn = 1\nformat = \"epoch_s\"\nstamped_at = \"\(text)\"\n"
                + "[[column]]\ncolumn = 2\ngroup = \"bms1\"\nsignal = \"soc\"\n",
            file: "m.toml", site: Self.site)
        #expect(map.stampedAt == expected)
        #expect(map.stampShiftMS(rowIntervalMS: rowMS) == shiftMS)
    }

    struct BadMap: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        /// Expected issues as "LINE: KEY: start of message".
        var issues: [String]
        var testDescription: String { name }
    }

    static let time = "[time]\ncolumn = \"t\"\nformat = \"rfc3339\"\n"

    static let badMaps: [BadMap] = [
        BadMap(
            name: "unknown device and signal",
            text: time
                + "[[column]]\ncolumn = \"a\"\ngroup = \"pcs9\"\nsignal = \"active_power\"\n[[column]]\ncolumn = \"b\"\ngroup = \"bms1\"\nsignal = \"power\"\n",
            issues: [
                "6: column[0].group: \"pcs9\" is not a device of the site (demo-site); known: pcs1, bms1, ems1, site",
                "11: column[1].signal: \"power\" is not a signal of device bms1; known: soc, soh,",
            ]),
        BadMap(
            name: "bad delimiter, header line, format, scale",
            text:
                "delimiter = \"ab\"\nheader_line = -1\n[time]\ncolumn = \"t\"\nformat = \"excel\"\n[[column]]\ncolumn = \"a\"\ngroup = \"pcs1\"\nsignal = \"active_power\"\nscale = 0\n",
            issues: [
                "1: delimiter: \"ab\" is not one ASCII character",
                "2: header_line: must be in 0...1000, found -1",
                "5: time.format: \"excel\" is not allowed; expected one of: rfc3339, local, epoch_s, epoch_ms",
                "10: column[0].scale: must be a finite number other than 0, found 0",
            ]),
        BadMap(
            name: "a decimal comma with a comma delimiter, and an unknown decimal mark",
            text: "decimal_separator = \",\"\n" + time + "[[column]]\ncolumn = \"a\"\ngroup = \"pcs1\"\nsignal = \"active_power\"\n",
            issues: ["1: decimal_separator: \",\" is also the delimiter; set delimiter = \";\""]),
        BadMap(
            name: "a decimal mark that is neither point nor comma",
            text: "delimiter = \";\"\ndecimal_separator = \"'\"\n" + time
                + "[[column]]\ncolumn = \"a\"\ngroup = \"pcs1\"\nsignal = \"active_power\"\n",
            issues: ["2: decimal_separator: \"'\" is not allowed; expected \".\" or \",\""]),
        BadMap(
            name: "missing time and columns",
            text: "delimiter = \",\"\n",
            issues: ["1: time: missing required table [time]", "1: column: no [[column]] tables"]),
        BadMap(
            name: "a signal mapped twice, the time column as data, unknown keys",
            text: time
                + "[[column]]\ncolumn = \"a\"\ngroup = \"pcs1\"\nsignal = \"active_power\"\ndevice = \"pcs1\"\n[[column]]\ncolumn = \"b\"\ngroup = \"pcs1\"\nsignal = \"active_power\"\n[[column]]\ncolumn = \"t\"\ngroup = \"bms1\"\nsignal = \"soc\"\n",
            issues: [
                "8: column[0].device: unknown key (write group = \"<device id>\" (or \"site\"))",
                "12: column[1].signal: pcs1.active_power is already fed by the column on line 4",
                "14: column[2].column: \"t\" is the time column",
            ]),
        BadMap(
            name: "names without a header",
            text:
                "header_line = 0\n[time]\ncolumn = \"t\"\nformat = \"epoch_s\"\n[[column]]\ncolumn = 0\ngroup = \"bms1\"\nsignal = \"soc\"\n",
            issues: [
                "3: time.column: \"t\" is a header name, but header_line = 0",
                "6: column[0].column: column numbers start at 1, found 0",
            ]),
        BadMap(
            name: "site and device columns together",
            text: time
                + "[[column]]\ncolumn = \"a\"\ngroup = \"site\"\nsignal = \"soc_percent\"\n[[column]]\ncolumn = \"b\"\ngroup = \"bms1\"\nsignal = \"soc\"\n",
            issues: ["4: column: site columns and device columns (e.g. bms1 on line 8) are both mapped"]),
        BadMap(name: "a TOML syntax error", text: "[time\n", issues: ["1: syntax error at column"]),
        BadMap(
            name: "stamped_at neither start nor end",
            text: "[time]\ncolumn = \"t\"\nformat = \"rfc3339\"\nstamped_at = \"middle\"\n"
                + "[[column]]\ncolumn = \"a\"\ngroup = \"bms1\"\nsignal = \"soc\"\n",
            issues: ["4: time.stamped_at: \"middle\" is not allowed; expected one of: start, end"]),
        BadMap(
            name: "stamped_at not a string",
            text: "[time]\ncolumn = \"t\"\nformat = \"rfc3339\"\nstamped_at = 1\n"
                + "[[column]]\ncolumn = \"a\"\ngroup = \"bms1\"\nsignal = \"soc\"\n",
            issues: ["4: time.stamped_at: expected a string, one of: start, end"]),
        BadMap(
            name: "stamped_at outside [time]",
            text: "stamped_at = \"end\"\n" + time + "[[column]]\ncolumn = \"a\"\ngroup = \"bms1\"\nsignal = \"soc\"\n",
            issues: ["1: stamped_at: unknown key (stamped_at goes in [time])"]),
    ]

    @Test(arguments: badMaps)
    func badMapsAreRefusedWithFileLineKey(_ c: BadMap) {
        do {
            _ = try ConfigurationLoader.parseImportMap(text: c.text, file: "bad.toml", site: Self.site)
            Issue.record("accepted")
        } catch {
            let got = error.issues.map { "\($0.line): \($0.key): \($0.message)" }
            #expect(got.count == c.issues.count, "\(got)")
            for expected in c.issues {
                #expect(
                    got.contains { $0.hasPrefix(expected) }, "missing \(expected) in\n\(got.joined(separator: "\n"))")
            }
            #expect(error.issues.allSatisfy { $0.file == "bad.toml" })
        }
    }

    @Test func aMissingMapFileIsNamed() {
        #expect(throws: ConfigurationError.self) {
            _ = try ConfigurationLoader.loadImportMap(path: "/nonexistent/map.toml", site: Self.site)
        }
    }

    @Test func localTimeInTheSiteZone() throws {
        let shanghai = try #require(ConfigurationLoader.localTimeResolver(timeZone: "Asia/Shanghai"))
        #expect(shanghai(1_735_689_600_000) == [1_735_660_800_000])  // 2025-01-01 00:00 local = 2024-12-31T16:00Z
        let berlin = try #require(ConfigurationLoader.localTimeResolver(timeZone: "Europe/Berlin"))
        // 2025-03-30 02:30 does not exist; 2025-10-26 02:30 happens twice (+02:00, then +01:00).
        #expect(berlin(1_743_301_800_000) == [])
        #expect(berlin(1_761_445_800_000) == [1_761_438_600_000, 1_761_442_200_000])
        #expect(ConfigurationLoader.localTimeResolver(timeZone: "Mars/Olympus") == nil)
    }
}
