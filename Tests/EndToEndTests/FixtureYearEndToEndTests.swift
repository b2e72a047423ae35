import ESSConfig
import ESSCore
import ESSStore
import ESSTestSupport
import Foundation
import Logging
import Testing

/// Issue 5, "How we will know", end-to-end: import a fixture year → `check` → `export` →
/// `verify` passes → change one byte → `verify` fails naming the file.
///
/// The "import" runs in this process, without essd: a deterministic synthetic year at 1-minute
/// spacing goes through the same path essd's store thread takes (`SiteAggregator` for the site
/// group, one `SeriesConsolidator` per group, `StoreWriter` for the slots, raw rows for the last
/// day only, a checkpoint at the end). Then the real `essctl` binary reads the files.
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

    /// The synthetic plant's state, advanced one sample at a time.
    struct Plant {
        var lastPowerKW = 0.0
        var lastMS: Int64?
        var chargeTotalKWh = 10_000.0
        var dischargeTotalKWh = 9_000.0
        /// AC energy today (trapezoid), for SoC.
        var chargedTodayKWh = 0.0
        var dischargedTodayKWh = 0.0
        var day: Int64 = -1
        var cycles = 100.0

        static func powerKW(minuteOfDay m: Int64) -> Double {
            if (120..<360).contains(m) { return -50 }
            if (840..<1080).contains(m) { return 45.125 }
            return 0
        }

        /// Advances to `t` (a sample at every minute, except across the outage).
        mutating func step(to t: Int64) -> (powerKW: Double, socPercent: Double) {
            let offset = t - FixtureYearEndToEndTests.yearStartMS
            let day = offset / FixtureYearEndToEndTests.dayMS
            let minute = (offset % FixtureYearEndToEndTests.dayMS) / FixtureYearEndToEndTests.minuteMS
            let p = Self.powerKW(minuteOfDay: minute)
            if let last = lastMS, t - last == FixtureYearEndToEndTests.minuteMS {
                let kwh = (lastPowerKW + p) / 2 / 60  // both ends have the same sign or one is zero
                if kwh < 0 {
                    chargeTotalKWh -= kwh
                    chargedTodayKWh -= kwh
                } else if kwh > 0 {
                    dischargeTotalKWh += kwh
                    dischargedTodayKWh += kwh
                }
            }
            if day != self.day {
                if dischargedTodayKWh > 0 { cycles += 1 }
                self.day = day
                chargedTodayKWh = 0
                dischargedTodayKWh = 0
            }
            lastMS = t
            lastPowerKW = p
            let storedKWh = chargedTodayKWh * 0.95 - dischargedTodayKWh / 0.95
            return (p, 2.5 + storedKWh / 200 * 100)
        }
    }

    /// Fills the store of `site` with the fixture year. Returns the number of minutes sampled.
    static func importYear(site: SiteConfiguration) throws -> Int {
        let schemas = site.seriesSchemas
        let writer = try StoreWriter(
            directory: site.stateDirectory, siteID: site.site.id, schemas: schemas, tiers: site.store.tiers,
            pollIntervalsMS: site.seriesPollIntervalsMS, rawBudgetBytes: site.store.rawBudgetBytes,
            nowMS: yearEndMS, logger: Logger(label: "fixture-year"))
        var consolidators = schemas.map { SeriesConsolidator(schema: $0, tiers: site.store.tiers) }
        var aggregator = SiteAggregator(devices: site.devices, meterDeviceID: site.store.meterDeviceID, tiers: site.store.tiers)
        #expect(aggregator.schema == schemas.last!, "the site group's schema is the configuration's")
        var writeError: StoreError?
        func write(_ slot: ConsolidatedSlot) {
            do { _ = try writer.write(slot) } catch { writeError = error }
        }
        let groups = Dictionary(uniqueKeysWithValues: schemas.enumerated().map { ($1.groupID, $0) })
        let pcs = try #require(site.devices.first { $0.id == "pcs1" })
        let bms = try #require(site.devices.first { $0.id == "bms1" })
        let ems = try #require(site.devices.first { $0.id == "ems1" })
        var indices: [String: Int] = [:]
        for device in [pcs, bms, ems] {
            for (i, point) in device.profile.points.enumerated() { indices[device.id + "." + point.name] = i }
        }
        func index(_ device: DeviceDefinition, _ name: String) -> Int { indices[device.id + "." + name]! }
        /// Every point stale (not read) unless set.
        func blank(_ device: DeviceDefinition) -> ([Double], [PointQuality]) {
            (Array(repeating: .nan, count: device.profile.points.count), Array(repeating: .stale, count: device.profile.points.count))
        }
        var plant = Plant()
        var minutes = 0
        var heldBack = 0
        var t = yearStartMS
        while t < yearEndMS {
            defer { t += minuteMS }
            if (t - yearStartMS) / dayMS == outageDay { continue }
            minutes += 1
            let (p, soc) = plant.step(to: t)
            let minute = (t - yearStartMS) % dayMS / minuteMS

            var (pv, pq) = blank(pcs)
            func set(_ values: inout [Double], _ qualities: inout [PointQuality], _ device: DeviceDefinition, _ name: String, _ v: Double) {
                let i = index(device, name)
                values[i] = v
                qualities[i] = .ok
            }
            let dcVoltage = 700 + soc
            set(&pv, &pq, pcs, "active_power", p)
            set(&pv, &pq, pcs, "reactive_power", 0)
            set(&pv, &pq, pcs, "charge_energy_total", plant.chargeTotalKWh)
            set(&pv, &pq, pcs, "discharge_energy_total", plant.dischargeTotalKWh)
            set(&pv, &pq, pcs, "dc_voltage", dcVoltage)
            set(&pv, &pq, pcs, "dc_current", p * 1000 / dcVoltage)
            set(&pv, &pq, pcs, "available", 1)
            set(&pv, &pq, pcs, "fault", 0)
            set(&pv, &pq, pcs, "alarm_word", 0)
            set(&pv, &pq, pcs, "running", p == 0 ? 0 : 1)
            if minute % 10 == 0 { set(&pv, &pq, pcs, "ambient_temperature", 22 + Double(minute) / 240) }

            var (bv, bq) = blank(bms)
            let warm = abs(p) / 10  // cells warm up a few degrees while working
            set(&bv, &bq, bms, "soc", soc)
            set(&bv, &bq, bms, "soh", 98)
            set(&bv, &bq, bms, "cell_temp_max", 27 + warm)
            set(&bv, &bq, bms, "cell_temp_min", 24 + warm / 2)
            set(&bv, &bq, bms, "cell_voltage_max", 3.2 + soc / 1000 + 0.01)
            set(&bv, &bq, bms, "cell_voltage_min", 3.2 + soc / 1000)
            set(&bv, &bq, bms, "cycle_count", plant.cycles)

            var (ev, eq) = blank(ems)
            set(&ev, &eq, ems, "meter_import_energy_total", plant.chargeTotalKWh + 500)
            set(&ev, &eq, ems, "meter_export_energy_total", plant.dischargeTotalKWh + 400)
            set(&ev, &eq, ems, "site_active_power", p)
            set(&ev, &eq, ems, "operating_mode", 1)
            set(&ev, &eq, ems, "grid_connected", 1)

            let rawToo = t >= yearEndMS - dayMS
            for scan in [
                Scan(deviceID: "pcs1", timestampMS: t, values: pv, qualities: pq),
                Scan(deviceID: "bms1", timestampMS: t, values: bv, qualities: bq),
                Scan(deviceID: "ems1", timestampMS: t, values: ev, qualities: eq),
            ] {
                let g = groups[scan.deviceID]!
                if rawToo { try writer.appendRaw(group: scan.deviceID, timestampMS: t, values: scan.values, qualities: scan.qualities) }
                if consolidators[g].ingest(scan, emit: write) != .accepted { heldBack += 1 }
                aggregator.accept(scan)
            }
            let sample = aggregator.sample(atMS: t)
            if rawToo { try writer.appendRaw(group: "site", timestampMS: t, values: sample.values, qualities: sample.qualities) }
            consolidators[groups["site"]!].ingest(timestampMS: t, values: sample.values, qualities: sample.qualities, emit: write)
            if let writeError { throw writeError }
        }
        // As essd does at shutdown: close what the year end closes, write what is still open.
        for g in consolidators.indices {
            consolidators[g].flush(untilMS: yearEndMS, emit: write)
            for slot in consolidators[g].openSlots(nowMS: yearEndMS) { write(slot) }
        }
        if let writeError { throw writeError }
        #expect(heldBack == 0, "every scan is consolidated")
        try writer.checkpoint(nowMS: yearEndMS)
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
        let essctl = TestEnvironment.product("essctl")

        let started = Date()
        let minutes = try Self.importYear(site: site)
        #expect(minutes == 364 * 1440)
        print("fixture year: \(minutes) minutes × 4 groups imported in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")

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
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: bundle.path)).subtracting(["manifest.json"])
        #expect(listed == present, "manifest lists \(listed.sorted()), the bundle holds \(present.sorted())")
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
