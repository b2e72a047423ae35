import ESSCore
import ESSStore
import ESSTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `essctl import csv` as a real process: a bad map or header writes nothing, rejected rows are
/// reported as FILE:LINE: column: why, and a running essd holds the store until it stops.
@Suite(.serialized) struct ImportEndToEndTests {
    static let map = """
        [time]
        column = "time"
        format = "rfc3339"

        [[column]]
        column = "PCS1 P (W)"
        group = "pcs1"
        signal = "active_power"
        scale = 0.001

        [[column]]
        column = "SOC"
        group = "bms1"
        signal = "soc"
        """

    /// Two hours of 1-minute rows starting a day ago, with one unreadable power cell on line 4.
    static func csv(startMS: Int64) -> String {
        var lines = ["time,PCS1 P (W),SOC"]
        for m in 0..<120 {
            let power = m == 2 ? "abc" : "\(m < 60 ? -20_000 : 18_000)"
            lines.append("\(HistoryRowMapper.utcText(startMS + Int64(m) * 60_000)),\(power),\(50 + Double(m) / 10)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func badInputWritesNothingAndRunningEssdHoldsTheStore() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-import")
        defer { try? FileManager.default.removeItem(at: work) }
        let state = work.appendingPathComponent("state")
        let site = try EssdEndToEndTests.writeSite(
            in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()], stateDirectory: state)
        let essctl = TestEnvironment.product("essctl")
        let nowMS = Int64(Date().timeIntervalSince1970 * 1000)
        let startMS = (nowMS - 86_400_000) / 3_600_000 * 3_600_000
        let csv = work.appendingPathComponent("history.csv")
        try Self.csv(startMS: startMS).write(to: csv, atomically: true, encoding: .utf8)
        let mapFile = work.appendingPathComponent("map.toml")

        // A map naming a device the site does not have: FILE:LINE: KEY: MESSAGE, exit 78, no store.
        try Self.map.replacingOccurrences(of: "\"bms1\"", with: "\"bms9\"").write(
            to: mapFile, atomically: true, encoding: .utf8)
        let (badMapStatus, _, badMapErr) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", mapFile.path, "--config", site.path])
        #expect(badMapStatus == 78)
        #expect(
            badMapErr.contains("\(mapFile.path):13: column[1].group: \"bms9\" is not a device of the site"),
            "\(badMapErr)")
        #expect(badMapErr.contains("nothing was imported"))
        #expect(!FileManager.default.fileExists(atPath: state.path), "nothing written")

        // A header that lacks a mapped column: exit 65, the line and the column named, no store.
        try Self.map.replacingOccurrences(of: "\"SOC\"", with: "\"SoC %\"").write(
            to: mapFile, atomically: true, encoding: .utf8)
        let (badHeaderStatus, _, badHeaderErr) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", mapFile.path, "--config", site.path])
        #expect(badHeaderStatus == 65)
        #expect(
            badHeaderErr.contains("\(csv.path):1: the column for bms1.soc \"SoC %\" is not in the header"),
            "\(badHeaderErr)")
        #expect(!FileManager.default.fileExists(atPath: state.path), "nothing written")

        // essd running: the import is refused, naming essd's pid; --dry-run says so too.
        try Self.map.write(to: mapFile, atomically: true, encoding: .utf8)
        let essd = try ChildProcess(TestEnvironment.product("essd"), ["--config", site.path], name: "essd")
        defer { essd.terminate() }
        let deadline = Date().addingTimeInterval(20)
        while HistoryImporter.writerPID(directory: state.path) == nil, Date() < deadline { usleep(50_000) }
        let pid = essd.process.processIdentifier
        #expect(HistoryImporter.writerPID(directory: state.path) == pid)
        let (busyStatus, _, busyErr) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", mapFile.path, "--config", site.path])
        #expect(busyStatus == 75, "\(busyErr)")
        #expect(
            busyErr.contains("open for writing by process \(pid) (essd)") && busyErr.contains("Stop essd first"),
            "\(busyErr)")
        let (dryStatus, dryOut, dryErr) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", mapFile.path, "--config", site.path, "--dry-run"])
        #expect(dryStatus == 75, "a dry run exits as the real run would: \(dryErr)")
        #expect(dryOut.contains("120 rows read, 119 importable, 1 rejected"), "\(dryOut)")
        #expect(dryOut.contains("\(csv.path):4: PCS1 P (W): \"abc\" is not a number"), "\(dryOut)")
        #expect(dryOut.contains("in use by process \(pid): stop essd before importing"), "\(dryOut)")

        // essd stopped: the import runs; the rejected row is reported, the rest is in the store.
        kill(pid, SIGTERM)
        essd.process.waitUntilExit()
        let (status, out, err) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", mapFile.path, "--config", site.path])
        #expect(status == 0, "\(err)")
        #expect(out.contains("120 rows read, 119 imported, 1 rejected"), "\(out)")
        #expect(out.contains("rejected: 1 number_invalid"), "\(out)")
        let reader = try StoreReader(directory: state.path)
        let slots = try reader.slots(tier: "15m", group: "pcs1", fromMS: startMS, toMS: startMS + 7_200_000).compactMap(
            \.slot)
        #expect(slots.count == 8)
        let charged = slots.prefix(4).reduce(0.0) { $0 + $1.energy!.integratedChargeKWh }
        #expect(abs(charged - 20) < 0.5, "about an hour at 20 kW: \(charged) kWh")
    }
    /// Issue 12, finding 3: 1-min rows stamped at the end of their minute. A PCS discharges at
    /// 60 kW (1 kWh a minute) from 14:00 to 19:00 local; the row stamped 14:01 is the first of
    /// the band (it describes 14:00–14:01) and the one stamped 19:00 the last (18:59–19:00).
    /// With `stamped_at = "end"` every 15-min slot of the band holds 15 kWh (hand-computed:
    /// 15 min × 1 kWh), the 14:00 slot included, and the 19:00 slot none. Read as start-stamped
    /// (today's default, the wrong reading of this file) the band's first slot has 14 kWh and
    /// its last minute lands in the 19:00 slot: 1 kWh in the next tariff band.
    @Test func endStampedRowsPutABandsLastMinuteInTheBand() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-import-end")
        defer { try? FileManager.default.removeItem(at: work) }
        let state = work.appendingPathComponent("state")
        let site = try EssdEndToEndTests.writeSite(
            in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()], stateDirectory: state)
        let essctl = TestEnvironment.product("essctl")
        let hourMS: Int64 = 3_600_000
        let minuteMS: Int64 = 60_000
        // Local (UTC+8) midnight two days ago, in UTC ms.
        let nowMS = Int64(Date().timeIntervalSince1970 * 1000)
        let dayMS: Int64 = 86_400_000
        let midnight = (nowMS + 8 * hourMS) / dayMS * dayMS - 8 * hourMS - 2 * dayMS
        let bandStart = midnight + 14 * hourMS
        let bandEnd = midnight + 19 * hourMS
        // Rows stamped 13:01 ... 20:00: each describes the minute before its stamp.
        var lines = ["time,P_kW,E_dis,E_ch"]
        for k in Int64(1)...420 {
            let stamp = midnight + 13 * hourMS + k * minuteMS
            let discharging = stamp - minuteMS >= bandStart && stamp <= bandEnd
            let discharged = max(0, min(stamp, bandEnd) - bandStart) / minuteMS  // kWh so far, 1 kWh a minute
            lines.append("\(HistoryRowMapper.utcText(stamp)),\(discharging ? 60 : 0),\(1000 + discharged),500")
        }
        let csv = work.appendingPathComponent("end-stamped.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        func map(_ stampedAt: String) -> String {
            """
            [time]
            column = "time"
            format = "rfc3339"
            stamped_at = "\(stampedAt)"

            [[column]]
            column = "P_kW"
            group = "pcs1"
            signal = "active_power"

            [[column]]
            column = "E_dis"
            group = "pcs1"
            signal = "discharge_energy_total"

            [[column]]
            column = "E_ch"
            group = "pcs1"
            signal = "charge_energy_total"
            """
        }
        let mapFile = work.appendingPathComponent("map.toml")
        /// The pcs1 15-min slots' counter discharge from 13:00 to 20:00 local, by slot start.
        func discharge() throws -> [Int64: Double] {
            let reader = try StoreReader(directory: state.path)
            let slots = try reader.slots(
                tier: "15m", group: "pcs1", fromMS: midnight + 13 * hourMS, toMS: midnight + 20 * hourMS
            ).compactMap(\.slot)
            return Dictionary(uniqueKeysWithValues: slots.map { ($0.startMS, $0.energy?.counterDischargeKWh ?? .nan) })
        }
        let quarterMS: Int64 = 900_000

        try map("end").write(to: mapFile, atomically: true, encoding: .utf8)
        let (status, out, err) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", mapFile.path, "--config", site.path])
        #expect(status == 0, "\(err)")
        #expect(out.contains("420 rows read, 420 imported, 0 rejected"), "\(out)")
        #expect(out.contains("rows are stamped at the end of their interval: each sample is taken 1m before its stamp"), "\(out)")
        // The first sample is the row stamped 13:01, taken at 13:00.
        #expect(out.contains("time: \(HistoryRowMapper.utcText(midnight + 13 * hourMS)) to"), "\(out)")
        var end = try discharge()
        #expect(end.count == 28, "13:00 ... 19:45: \(end.count) slots")
        for q in Int64(0)..<20 {
            let start = bandStart + q * quarterMS
            #expect(abs((end[start] ?? .nan) - 15) < 1e-3, "\(HistoryRowMapper.utcText(start)): \(end[start] ?? .nan) kWh")
        }
        #expect(abs((end[bandStart - quarterMS] ?? .nan) - 0) < 1e-3, "13:45: \(end[bandStart - quarterMS] ?? .nan)")
        #expect(abs((end[bandEnd] ?? .nan) - 0) < 1e-3, "19:00 (next band): \(end[bandEnd] ?? .nan)")
        let band = (0..<20).reduce(0.0) { $0 + (end[bandStart + Int64($1) * quarterMS] ?? .nan) }
        #expect(abs(band - 300) < 1e-2, "the band's energy: 5 h × 60 kW = 300 kWh, found \(band)")

        // The same file read as start-stamped: the band's last minute moves to 19:00.
        try map("start").write(to: mapFile, atomically: true, encoding: .utf8)
        let (againStatus, _, againErr) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", mapFile.path, "--config", site.path, "--force"])
        #expect(againStatus == 0, "\(againErr)")
        end = try discharge()
        #expect(abs((end[bandStart] ?? .nan) - 14) < 1e-3, "14:00 read as start-stamped: \(end[bandStart] ?? .nan)")
        #expect(abs((end[bandEnd] ?? .nan) - 1) < 1e-3, "19:00 read as start-stamped: \(end[bandEnd] ?? .nan)")
    }
}
