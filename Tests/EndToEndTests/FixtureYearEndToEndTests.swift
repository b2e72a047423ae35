import ESSConfig
import ESSCore
import ESSSimulator
import ESSTestSupport
import Foundation
import Testing

/// Issue 5, "How we will know", end-to-end: import a fixture year → `check` → `export` →
/// `verify` passes → change one byte → `verify` fails naming the file.
///
/// The import is the real one: the test writes the year as another system's CSV export
/// (local time, PCS power in W, one rejected row) and its map file into a temp directory, and
/// `essctl import csv` loads it through the path essd's store thread takes (`SiteAggregator`
/// for the site group, one `SeriesConsolidator` per group, `StoreWriter` for the slots, raw
/// rows for the last day, a checkpoint at the end). Then the real `essctl` reads the files.
///
/// The fixture (site time Asia/Shanghai, year 2025, 365 days; every day the same except one):
/// - PCS, 100 kW / battery 200 kWh: charges at −50 kW from 02:00 to 06:00 (Guangdong valley
///   00:00–08:00) and discharges at +45.125 kW from 14:00 to 18:00 (peak 14:00–19:00). With
///   samples a minute apart the trapezoid ramps (half a minute each side) add up to exactly
///   4 h × 50 kW = 200 kWh charged and 4 h × 45.125 kW = 180.5 kWh discharged per day.
/// - Battery: one-way efficiency 0.95, so 190 kWh stored, 190 kWh taken back: SoC runs from
///   2.5 % to 97.5 % and back (depth of discharge 95 % per event), derived from the same
///   running energies so SoC, power and counters agree.
/// - Counters (PCS lifetime charge/discharge kWh) advance by the trapezoid energy, so counter
///   and integrated energy agree exactly.
/// - Day 100 (2025-04-11 local) has no samples at all (a communication outage): 364 cycles.
///   Charge 364 × 200 = 72,800 kWh, discharge 364 × 180.5 = 65,702 kWh,
///   AC round-trip efficiency 65,702 / 72,800 = 90.25 %; coverage 364/365 ≈ 99.7 %.
@Suite(.serialized) struct FixtureYearEndToEndTests {
    static let dayMS: Int64 = 86_400_000
    static let minuteMS: Int64 = 60_000
    /// 2025-01-01T00:00:00+08:00.
    static let yearStartMS: Int64 = 1_735_660_800_000
    static let yearEndMS: Int64 = yearStartMS + 365 * dayMS
    static let outageDay: Int64 = 100

    static func writeSite(in work: URL, state: URL) throws -> URL {
        let config = TestEnvironment.repository.appendingPathComponent("Config")
        let text = """
            profile_directory = "\(config.path)/profiles"
            tariff_directory = "\(config.path)/tariffs"
            policy_directory = "\(config.path)/policies"

            [site]
            id = "fixture-year"
            name = "fixture year plant"
            province = "guangdong"
            rated_power_kw = 100.0
            rated_energy_kwh = 200.0
            technology_route = "lithium_iron_phosphate"
            location_category = "industrial_plant"
            total_investment_cny = 1000000.0
            commissioning_date = 2024-06-30
            time_zone = "Asia/Shanghai"
            tariff = "guangdong-2021"

            [daemon]
            status_socket = "\(work.appendingPathComponent("essd.sock").path)"

            [store]
            state_directory = "\(state.path)"

            [[store.tier]]
            name = "raw"
            slot_seconds = 0
            retention_days = 1

            [[store.tier]]
            name = "15m"
            slot_seconds = 900
            retention_days = 400

            [[store.tier]]
            name = "1d"
            slot_seconds = 86400
            retention_days = 1095

            [defaults]
            poll_interval_ms = 60000
            response_timeout_ms = 1000

            [[device]]
            id = "pcs1"
            profile = "ess-sim-pcs"
            transport = "tcp"
            host = "127.0.0.1"
            port = 1502
            unit_id = 1

            [[device]]
            id = "bms1"
            profile = "ess-sim-bms"
            transport = "tcp"
            host = "127.0.0.1"
            port = 1502
            unit_id = 2
            rated_energy_kwh = 200.0

            [[device]]
            id = "ems1"
            profile = "ess-sim-ems"
            transport = "tcp"
            host = "127.0.0.1"
            port = 1503
            unit_id = 1

            """
        let file = work.appendingPathComponent("site.toml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// The export's columns: header, group, signal, and the scale the map applies (the PCS
    /// power is written in W, as SCADA systems often do, and scaled to kW by the map).
    static let columns: [(header: String, group: String, signal: String, scale: Double)] = [
        ("PCS1 P (W)", "pcs1", "active_power", 0.001),
        ("PCS1 Q (kvar)", "pcs1", "reactive_power", 1),
        ("PCS1 E charge (kWh)", "pcs1", "charge_energy_total", 1),
        ("PCS1 E discharge (kWh)", "pcs1", "discharge_energy_total", 1),
        ("PCS1 Udc (V)", "pcs1", "dc_voltage", 1),
        ("PCS1 Idc (A)", "pcs1", "dc_current", 1),
        ("PCS1 available", "pcs1", "available", 1),
        ("PCS1 fault", "pcs1", "fault", 1),
        ("PCS1 alarm word", "pcs1", "alarm_word", 1),
        ("PCS1 running", "pcs1", "running", 1),
        ("PCS1 ambient (°C)", "pcs1", "ambient_temperature", 1),
        ("BMS1 SOC (%)", "bms1", "soc", 1),
        ("BMS1 SOH (%)", "bms1", "soh", 1),
        ("BMS1 Tcell max", "bms1", "cell_temp_max", 1),
        ("BMS1 Tcell min", "bms1", "cell_temp_min", 1),
        ("BMS1 Ucell max", "bms1", "cell_voltage_max", 1),
        ("BMS1 Ucell min", "bms1", "cell_voltage_min", 1),
        ("BMS1 cycles", "bms1", "cycle_count", 1),
        ("Meter import (kWh)", "ems1", "meter_import_energy_total", 1),
        ("Meter export (kWh)", "ems1", "meter_export_energy_total", 1),
        ("Site P (kW)", "ems1", "site_active_power", 1),
        ("EMS mode", "ems1", "operating_mode", 1),
        ("Grid connected", "ems1", "grid_connected", 1),
    ]

    /// The map file for `columns`: local time ("时间", site time zone), comma-separated.
    static func writeMap(to file: URL) throws {
        var text = """
            # essctl import csv map for the fixture year's SCADA export
            delimiter = ","
            header_line = 1
            sample_interval_seconds = 60
            ignore = ["备注"]

            [time]
            column = "时间"
            format = "local"

            """
        for column in columns {
            text += "\n[[column]]\ncolumn = \"\(column.header)\"\ngroup = \"\(column.group)\"\nsignal = \"\(column.signal)\"\n"
            if column.scale != 1 { text += "scale = \(column.scale)\n" }
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    /// Writes the fixture year as a SCADA-style CSV export (local time, one row per minute, no
    /// rows on the outage day, the ambient temperature every 10 minutes only) plus one bad row:
    /// a repeated time on line 3, which the import rejects. Returns the number of minutes sampled.
    static func writeYearCSV(to file: URL) throws -> Int {
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var out = "时间," + columns.map(\.header).joined(separator: ",") + ",备注\n"
        func flush(force: Bool = false) {
            if force || out.utf8.count > 1 << 20 {
                handle.write(Data(out.utf8))
                out = ""
            }
        }
        var plant = DailyCyclePlant(startMS: yearStartMS)
        var minutes = 0
        var t = yearStartMS
        while t < yearEndMS {
            defer { t += minuteMS }
            if (t - yearStartMS) / dayMS == outageDay { continue }
            minutes += 1
            let (p, soc) = plant.step(to: t)
            let minute = (t - yearStartMS) % dayMS / minuteMS
            let dcVoltage = 700 + soc
            let warm = abs(p) / 10  // cells warm up a few degrees while working
            let values: [String] = [
                "\(p * 1000)", "0", "\(plant.chargeTotalKWh)", "\(plant.dischargeTotalKWh)", "\(dcVoltage)",
                "\(p * 1000 / dcVoltage)", "1", "0", "0", p == 0 ? "0" : "1",
                minute % 10 == 0 ? "\(22 + Double(minute) / 240)" : "",
                "\(soc)", "98", "\(27 + warm)", "\(24 + warm / 2)", "\(3.2 + soc / 1000 + 0.01)", "\(3.2 + soc / 1000)",
                "\(plant.cycles)",
                "\(plant.chargeTotalKWh + 500)", "\(plant.dischargeTotalKWh + 400)", "\(p)", "1", "1",
            ]
            // Local wall time in Asia/Shanghai (+08:00), without an offset, as the SCADA wrote it.
            let local = HistoryRowMapper.utcText(t + 8 * 3_600_000).dropLast().replacingOccurrences(of: "T", with: " ")
            out += local + "," + values.joined(separator: ",") + ",\n"
            if t == yearStartMS { out += local + ",n/a" + String(repeating: ",", count: columns.count) + "repeated row\n" }
            flush()
        }
        flush(force: true)
        return minutes
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text.prefix(400))")
    }

    @Test func fixtureYearChecksExportsAndVerifies() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-fixture-year")
        defer { try? FileManager.default.removeItem(at: work) }
        let state = work.appendingPathComponent("state")
        let siteFile = try Self.writeSite(in: work, state: state)
        let site = try ConfigurationLoader.loadSite(path: siteFile.path)
        #expect(site.seriesSchemas.map(\.groupID) == ["pcs1", "bms1", "ems1", "site"])
        let essctl = TestEnvironment.product("essctl")

        // import: the year as another system's CSV export, loaded by the real essctl.
        let csv = work.appendingPathComponent("scada-2025.csv")
        let mapFile = work.appendingPathComponent("scada-map.toml")
        let minutes = try Self.writeYearCSV(to: csv)
        try Self.writeMap(to: mapFile)
        #expect(minutes == 364 * 1440)
        let started = Date()
        let (importStatus, importOut, importErr) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", mapFile.path, "--config", siteFile.path, "--json"])
        print("fixture year: \(minutes) rows × 3 devices imported by essctl in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        #expect(importStatus == 0, "\(importErr)")
        let imported = try Self.json(importOut)
        #expect((imported["rows_read"] as? NSNumber)?.intValue == minutes + 1, "\(importOut.prefix(1500))")
        #expect((imported["rows_imported"] as? NSNumber)?.intValue == minutes)
        #expect((imported["rows_rejected"] as? NSNumber)?.intValue == 1)
        #expect((imported["rejected"] as? [String: Any])?["time_duplicate"] as? NSNumber == 1)
        let example = try #require((imported["examples"] as? [[String: Any]])?.first, "\(importOut.prefix(1500))")
        #expect((example["line"] as? NSNumber)?.intValue == 3 && example["column"] as? String == "时间", "\(example)")
        #expect((imported["unknown_columns"] as? [String]) == [], "every column is mapped or ignored")
        #expect((imported["sample_interval_ms"] as? NSNumber)?.intValue == 60_000)
        #expect(imported["groups"] as? [String] == ["pcs1", "bms1", "ems1", "site"])
        let slots = try #require(imported["slots_written"] as? [String: Any])
        #expect((slots["15m"] as? NSNumber)?.intValue == 4 * 35_040, "every 15 min of 365 days for 4 groups: \(slots)")
        // 1-day slots are UTC days: the local year 2025 touches 366 of them (it starts at 16:00 UTC).
        #expect((slots["1d"] as? NSNumber)?.intValue == 4 * 366, "\(slots)")
        #expect((imported["raw_rows"] as? NSNumber)?.intValue == 4 * 1441, "the raw tier keeps the last day: \(importOut.prefix(600))")

        // Its first day again: refused, the store already has that day; nothing is written.
        let firstDay = work.appendingPathComponent("scada-2025-01-01.csv")
        let reader = try FileHandle(forReadingFrom: csv)
        let start = String(decoding: try reader.read(upToCount: 1 << 20) ?? Data(), as: UTF8.self)
        try reader.close()
        let head = start.split(separator: "\n").prefix(1 + 1 + 1440)  // header, the repeated row, one day
        try (head.joined(separator: "\n") + "\n").write(to: firstDay, atomically: true, encoding: .utf8)
        let (againStatus, _, againErr) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", firstDay.path, "--map", mapFile.path, "--config", siteFile.path])
        #expect(againStatus == 73, "\(againErr)")
        #expect(againErr.contains("already has data") && againErr.contains("--force"), "\(againErr)")

        let from = "2025-01-01T00:00:00+08:00"
        let to = "2026-01-01T00:00:00+08:00"

        // check: one row per criterion of the policy file; never a pass without enough coverage.
        let (checkStatus, checkOut, checkErr) = try EssdEndToEndTests.run(
            essctl, ["check", "--policy", "zhejiang-2021", "--from", from, "--to", to, "--config", siteFile.path, "--json"])
        #expect(checkStatus == 0, "\(checkErr)")
        let check = try Self.json(checkOut)
        let policyText = try String(
            contentsOf: TestEnvironment.repository.appendingPathComponent("Config/policies/zhejiang-2021.toml"), encoding: .utf8)
        let criterionCount = policyText.components(separatedBy: "\n").filter { $0 == "[[criterion]]" }.count
        let criteria = try #require(check["criteria"] as? [[String: Any]])
        #expect(criteria.count == criterionCount && criterionCount == 7, "\(checkOut.prefix(800))")
        #expect(Set(criteria.compactMap { $0["id"] as? String }).count == criteria.count, "one row per criterion")
        var verdicts: [String: String] = [:]
        for row in criteria {
            let id = try #require(row["id"] as? String)
            let verdict = try #require(row["verdict"] as? String)
            verdicts[id] = verdict
            #expect(["pass", "fail", "insufficient_data", "manual_review"].contains(verdict), "\(row)")
            let coverage = (row["coverage_percent"] as? NSNumber)?.doubleValue
            if row["subject"] as? String == "indicator", verdict == "pass" {
                #expect((coverage ?? 0) >= 90, "a pass needs coverage: \(row)")
            }
            if row["subject"] as? String == "site_fact" {
                #expect(verdict == "insufficient_data", "the fixture site states no design facts: \(row)")
            }
        }
        // Known answers (see the type's comment): 90.25 % round trip, 95 % depth, ~99.7 % coverage.
        let efficiency = try #require(criteria.first { $0["id"] as? String == "zj.ac_efficiency" })
        #expect(efficiency["verdict"] as? String == "pass", "\(efficiency)")
        let measured = try #require((efficiency["measured_value"] as? NSNumber)?.doubleValue, "\(efficiency)")
        #expect(abs(measured - 90.25) < 0.05, "AC round-trip efficiency \(measured) %")
        let coverage = try #require((efficiency["coverage_percent"] as? NSNumber)?.doubleValue)
        #expect(coverage > 99 && coverage < 100, "one day of 365 missing: coverage \(coverage) %")
        let dod = try #require(criteria.first { $0["id"] as? String == "zj.dod_measured" })
        #expect(dod["verdict"] as? String == "pass", "\(dod)")
        if let depth = (dod["measured_value"] as? NSNumber)?.doubleValue {
            #expect(abs(depth - 95) < 0.5, "largest depth of discharge \(depth) %")
        }
        #expect(verdicts["zj.availability"] == "pass", "\(checkOut.prefix(1500))")

        // export: a 365-day year at 15 min is 35,040 intervals.
        let bundle = work.appendingPathComponent("bundle")
        let (exportStatus, exportOut, exportErr) = try EssdEndToEndTests.run(
            essctl, ["export", "--policy", "gbt36549", "--from", from, "--to", to, "--interval", "15m", "--out", bundle.path, "--config", siteFile.path])
        #expect(exportStatus == 0, "\(exportErr)")
        #expect(exportOut.contains("35040 intervals"), "\(exportOut)")
        let intervalsFile = bundle.appendingPathComponent("intervals.csv")
        let intervals = try String(contentsOf: intervalsFile, encoding: .utf8)
        // RFC 4180 lines end in CRLF (one Character in Swift): count the line feeds as bytes.
        let lineCount = intervals.utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        #expect(lineCount == 35_040 + 1, "header + one row per 15 min of 365 days, got \(lineCount) lines")
        let manifest = try Self.json(try String(contentsOf: bundle.appendingPathComponent("manifest.json"), encoding: .utf8))
        let entries = try #require(manifest["files"] as? [[String: Any]])
        let listed = Set(entries.compactMap { $0["name"] as? String })
        // SHA256SUMS lists every file, manifest.json included; the manifest lists every other file.
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: bundle.path)).subtracting(["manifest.json", "SHA256SUMS"])
        #expect(listed == present, "manifest lists \(listed.sorted()), the bundle holds \(present.sorted())")
        let (sumStatus, sumOut, _) = try EssdEndToEndTests.run("/bin/sh", ["-c", "cd '\(bundle.path)' && sha256sum -c SHA256SUMS"])
        #expect(sumStatus == 0 && sumOut.components(separatedBy: ": OK").count - 1 == listed.count + 1, "sha256sum -c SHA256SUMS:\n\(sumOut)")
        for name in ["intervals.csv", "daily.csv", "indicators.csv", "criteria.csv", "devices.csv", "README.txt"] {
            #expect(listed.contains(name), "\(name) missing from the manifest")
        }
        #expect((entries.first { $0["name"] as? String == "intervals.csv" }?["rows"] as? NSNumber)?.intValue == 35_040)
        let daily = try String(contentsOf: bundle.appendingPathComponent("daily.csv"), encoding: .utf8)
        #expect(daily.utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } == 365 + 1, "one row per local day")

        // verify: intact bundle passes.
        let (okStatus, okOut, okErr) = try EssdEndToEndTests.run(essctl, ["verify", bundle.path])
        #expect(okStatus == 0, "\(okOut)\(okErr)")

        // One changed byte in intervals.csv: verify fails and names the file.
        var bytes = try Data(contentsOf: intervalsFile)
        let position = bytes.count / 2
        bytes[position] ^= 0x01
        try bytes.write(to: intervalsFile)
        let (badStatus, badOut, badErr) = try EssdEndToEndTests.run(essctl, ["verify", bundle.path])
        #expect(badStatus != 0)
        #expect((badOut + badErr).contains("intervals.csv"), "\(badOut)\(badErr)")
        #expect(!(badOut).contains("daily.csv"), "only the changed file is reported: \(badOut)")
    }
}
