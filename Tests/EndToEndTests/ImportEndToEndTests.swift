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
}
