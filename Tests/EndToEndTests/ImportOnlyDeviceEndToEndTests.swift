import ESSCore
import ESSStore
import ESSTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12, finding 11: an import-only device (`transport = "none"`, a profile of signals
/// without registers). essd and ess-sim run with it in the site: essd polls only the simulated
/// devices (no connection, no statistics, no "down" for it; `import_only` in `essctl devices`
/// and the status socket; no `essd_device_*` metric), the store keeps its series, and
/// `essctl import csv` fills them.
@Suite(.serialized) struct ImportOnlyDeviceEndToEndTests {
    static let scadaProfile = """
        [profile]
        name = "scada-pcs"
        description = "the old PCS, known only from the SCADA export"
        import_only = true

        [[point]]
        name = "active_power"
        role = "active_power_kw"
        unit = "kW"

        [[point]]
        name = "discharge_energy_total"
        role = "discharge_energy_total_kwh"
        """

    /// The site: pcs1 and bms1 simulated (or, with `everyDeviceImportOnly`, import-only too) and
    /// old-pcs import-only.
    static func writeSite(in work: URL, port: Int, metricsPort: Int, everyDeviceImportOnly: Bool = false) throws -> URL {
        let profiles = work.appendingPathComponent("profiles")
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        let repository = TestEnvironment.repository.appendingPathComponent("Config/profiles")
        for name in ["ess-sim-pcs.toml", "ess-sim-bms.toml"] {
            try FileManager.default.copyItem(
                at: repository.appendingPathComponent(name), to: profiles.appendingPathComponent(name))
        }
        try scadaProfile.write(to: profiles.appendingPathComponent("scada-pcs.toml"), atomically: true, encoding: .utf8)
        let text = """
            profile_directory = "\(profiles.path)"

            [site]
            id = "e2e-import-only"
            name = "import-only plant"
            province = "guangdong"
            rated_power_kw = 100.0
            rated_energy_kwh = 5.0
            technology_route = "lithium_iron_phosphate"
            location_category = "industrial_plant"
            total_investment_cny = 1000000.0
            commissioning_date = 2025-06-30
            time_zone = "Asia/Shanghai"

            [daemon]
            status_socket = "\(work.appendingPathComponent("essd.sock").path)"

            [metrics]
            port = \(metricsPort)

            [store]
            state_directory = "\(work.appendingPathComponent("state").path)"
            checkpoint_interval_ms = 1000

            [[store.tier]]
            name = "raw"
            slot_seconds = 0
            retention_days = 0.5

            [[store.tier]]
            name = "15m"
            slot_seconds = 900
            retention_days = 30

            [defaults]
            poll_interval_ms = 500
            response_timeout_ms = 300

            [[device]]
            id = "pcs1"
            profile = "ess-sim-pcs"
            \(everyDeviceImportOnly ? "transport = \"none\"" : "transport = \"tcp\"\nhost = \"127.0.0.1\"\nport = \(port)\nunit_id = 1")

            [[device]]
            id = "bms1"
            profile = "ess-sim-bms"
            \(everyDeviceImportOnly ? "transport = \"none\"" : "transport = \"tcp\"\nhost = \"127.0.0.1\"\nport = \(port)\nunit_id = 2")

            [[device]]
            id = "old-pcs"
            profile = "scada-pcs"
            transport = "none"
            poll_interval_ms = 60000

            """
        let file = work.appendingPathComponent("site.toml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func essdPollsOnlyTheRealDevicesAndTheImportFillsTheImportOnlyOne() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-import-only")
        defer { try? FileManager.default.removeItem(at: work) }
        let metricsPort = TestEnvironment.freePort()
        let site = try Self.writeSite(in: work, port: TestEnvironment.freePort(), metricsPort: metricsPort)
        let state = work.appendingPathComponent("state")
        let essctl = TestEnvironment.product("essctl")

        let (checkStatus, checkOut, checkErr) = try EssdEndToEndTests.run(
            TestEnvironment.product("essd"), ["--check-config", site.path])
        #expect(checkStatus == 0, "\(checkErr)")
        #expect(checkOut.contains("3 devices"), "\(checkOut)")

        let sim = try ChildProcess(TestEnvironment.product("ess-sim"), ["--config", site.path], name: "ess-sim")
        defer { sim.terminate() }
        try sim.waitForLine(containing: "ess-sim ready")
        let essd = try ChildProcess(TestEnvironment.product("essd"), ["--config", site.path], name: "essd")
        defer { essd.terminate() }
        Thread.sleep(forTimeInterval: 2.5)

        // The status socket: two polled devices up, the import-only one shown as such.
        let (devicesStatus, devicesJSON, devicesErr) = try EssdEndToEndTests.run(
            essctl, ["devices", "--config", site.path, "--json"])
        #expect(devicesStatus == 0, "\(devicesErr)")
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(devicesJSON.utf8)) as? [[String: Any]], "\(devicesJSON)")
        let states = Dictionary(uniqueKeysWithValues: listed.map { ($0["device_id"] as! String, $0["state"] as! String) })
        #expect(states == ["pcs1": "up", "bms1": "up", "old-pcs": "import_only"], "\(devicesJSON)")
        let old = try #require(listed.first { $0["device_id"] as? String == "old-pcs" })
        #expect(old["endpoint"] as? String == "none" && old["requests"] as? Int == 0 && old["errors"] as? Int == 0)
        let (_, table, _) = try EssdEndToEndTests.run(essctl, ["devices", "--config", site.path])
        #expect(table.contains("old-pcs") && table.contains("import_only"), "\(table)")

        let (statusStatus, statusJSON, _) = try EssdEndToEndTests.run(essctl, ["status", "--config", site.path, "--json"])
        #expect(statusStatus == 0)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(statusJSON.utf8)) as? [String: Any])
        #expect(summary["devices_up"] as? Int == 2, "\(statusJSON)")
        #expect(summary["devices_down"] as? Int == 0, "an import-only device is never down: \(statusJSON)")
        #expect(summary["devices_import_only"] as? Int == 1, "\(statusJSON)")
        let (_, statusText, _) = try EssdEndToEndTests.run(essctl, ["status", "--config", site.path])
        #expect(statusText.contains("2 up, 0 down, 1 import-only (not polled)"), "\(statusText)")

        // Metrics: polling health only for the polled devices.
        let metrics = try EssdEndToEndTests.httpGet(port: metricsPort, path: "/metrics")
        #expect(metrics.contains("essd_device_up{device=\"pcs1\"} 1"), "\(metrics.prefix(800))")
        for line in metrics.split(separator: "\n") where line.hasPrefix("essd_device_") {
            #expect(!line.contains("old-pcs"), "\(line)")
        }

        // The simulator serves only the two; essd never tried to reach the third.
        kill(essd.process.processIdentifier, SIGTERM)
        essd.process.waitUntilExit()
        #expect(essd.process.terminationStatus == 0, "\(essd.standardError.suffix(1000))")
        #expect(essd.standardError.contains("import_only=old-pcs"), "\(essd.standardError.prefix(1500))")
        for line in essd.standardError.split(separator: "\n") where line.contains("old-pcs") {
            #expect(line.contains("essd starting"), "the import-only device appears only in the start line: \(line)")
        }
        let reader = try StoreReader(directory: state.path)
        #expect(reader.schemas.contains { $0.groupID == "old-pcs" }, "the store keeps the import-only device's series")
        #expect(try reader.latest(group: "pcs1") != nil)
        #expect(try reader.latest(group: "old-pcs") == nil, "nothing polled for it")

        // An import into the import-only device: 2 h of 1-min rows a day ago, 30 kW for the first hour.
        let nowMS = Int64(Date().timeIntervalSince1970 * 1000)
        let startMS = (nowMS - 86_400_000) / 3_600_000 * 3_600_000
        var lines = ["time,P_kW,E_kWh"]
        for m in Int64(0)..<120 {
            let discharging = m < 60
            let energy = 2000 + Double(min(m, 60)) * 0.5  // 30 kW: 0.5 kWh a minute
            lines.append("\(HistoryRowMapper.utcText(startMS + m * 60_000)),\(discharging ? 30 : 0),\(energy)")
        }
        let csv = work.appendingPathComponent("old-pcs.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let map = work.appendingPathComponent("map.toml")
        try """
            [time]
            column = "time"
            format = "rfc3339"

            [[column]]
            column = "P_kW"
            group = "old-pcs"
            signal = "active_power"

            [[column]]
            column = "E_kWh"
            group = "old-pcs"
            signal = "discharge_energy_total"
            """.write(to: map, atomically: true, encoding: .utf8)
        let (importStatus, importOut, importErr) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", map.path, "--config", site.path])
        #expect(importStatus == 0, "\(importErr)")
        #expect(importOut.contains("120 rows read, 120 imported, 0 rejected"), "\(importOut)")
        #expect(importOut.contains("written: groups old-pcs, site"), "\(importOut)")
        let slots = try StoreReader(directory: state.path).slots(
            tier: "15m", group: "old-pcs", fromMS: startMS, toMS: startMS + 7_200_000
        ).compactMap(\.slot)
        #expect(slots.count == 8)
        // Hand-computed, integrated power (trapezoid): 30 kW × 15 min = 7.5 kWh in each of the first
        // three slots; the fourth ends with the ramp from 30 to 0 kW over minute 59–60: 14 min ×
        // 0.5 + 0.25 = 7.25 kWh; then nothing. Counter deltas (0.5 kWh a minute, in the slot of
        // the later row): the first slot has 14 of them (its first row has no previous one), 7
        // kWh; then 7.5, 7.5, 7.5, and the last rise (minute 59 → 60) in the fifth slot, 0.5.
        let integrated = slots.map(\.energy!.integratedDischargeKWh)
        let counted = slots.map(\.energy!.counterDischargeKWh)
        for (got, expected) in zip(integrated, [7.5, 7.5, 7.5, 7.25, 0, 0, 0, 0]) {
            #expect(abs(got - expected) < 1e-3, "integrated \(integrated)")
        }
        for (got, expected) in zip(counted, [7, 7.5, 7.5, 7.5, 0.5, 0, 0, 0]) {
            #expect(abs(got - expected) < 1e-3, "counter \(counted)")
        }
    }

    /// essd refuses a site whose every device is import-only: there is nothing to poll.
    @Test func essdRefusesASiteWithNothingToPoll() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-import-only-all")
        defer { try? FileManager.default.removeItem(at: work) }
        let site = try Self.writeSite(
            in: work, port: TestEnvironment.freePort(), metricsPort: TestEnvironment.freePort(),
            everyDeviceImportOnly: true)
        #expect(!(try String(contentsOf: site, encoding: .utf8)).contains("transport = \"tcp\""))
        let (status, _, err) = try EssdEndToEndTests.run(TestEnvironment.product("essd"), ["--config", site.path])
        #expect(status == 78, "\(err)")
        #expect(err.contains("every device (pcs1, bms1, old-pcs) is import-only"), "\(err)")
    }
}
