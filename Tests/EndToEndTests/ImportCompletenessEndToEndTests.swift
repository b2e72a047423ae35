import ESSCore
import ESSTestSupport
import Foundation
import Testing

/// Issue 12, finding 6, through the real processes: the site polls every 500 ms, but history
/// imported as 1-minute rows is expected at one row a minute, so completeness by samples says
/// what is missing there (5 isolated rows of 120: 115 / 120 = 95.833 %) while covered time stays
/// 100 % (the 3-minute heartbeat covers each missing row). Expected values by hand.
@Suite(.serialized) struct ImportCompletenessEndToEndTests {
    static let map = """
        [time]
        column = "time"
        format = "rfc3339"

        [[column]]
        column = "P"
        group = "pcs1"
        signal = "active_power"

        [[column]]
        column = "SOC"
        group = "bms1"
        signal = "soc"
        """

    @Test func importedRowsAreExpectedAtTheirOwnInterval() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-import-completeness")
        defer { try? FileManager.default.removeItem(at: work) }
        let state = work.appendingPathComponent("state")
        let site = try EssdEndToEndTests.writeSite(
            in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()], stateDirectory: state)
        let essctl = TestEnvironment.product("essctl")
        // Two hours starting on an hour two days ago.
        let startMS = (Int64(Date().timeIntervalSince1970 * 1000) - 2 * 86_400_000) / 3_600_000 * 3_600_000
        let missing: Set = [10, 20, 30, 40, 50]
        var lines = ["time,P,SOC"]
        for m in 0..<120 where !missing.contains(m) {
            lines.append("\(HistoryRowMapper.utcText(startMS + Int64(m) * 60_000)),\(m < 60 ? -20 : 18),\(50 + Double(m) / 10)")
        }
        let csv = work.appendingPathComponent("history.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let mapFile = work.appendingPathComponent("map.toml")
        // sample_interval_seconds is a top-level key: before [time].
        try ("sample_interval_seconds = 60\n" + Self.map).write(to: mapFile, atomically: true, encoding: .utf8)
        let (status, out, err) = try EssdEndToEndTests.run(
            essctl, ["import", "csv", csv.path, "--map", mapFile.path, "--config", site.path])
        #expect(status == 0, "\(out)\(err)")

        let from = HistoryRowMapper.utcText(startMS)
        let to = HistoryRowMapper.utcText(startMS + 7_200_000)
        let (kpiStatus, kpiOut, kpiErr) = try EssdEndToEndTests.run(
            essctl, ["kpi", "--from", from, "--to", to, "--config", site.path, "--json"])
        #expect(kpiStatus == 0, "\(kpiErr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(kpiOut.utf8)) as? [String: Any])
        let signals = try #require(json["signal_completeness"] as? [[String: Any]])
        for (group, signal) in [("pcs1", "active_power"), ("bms1", "soc")] {
            let row = try #require(signals.first { $0["group"] as? String == group && $0["signal"] as? String == signal })
            let received = (row["received_samples"] as? NSNumber)?.intValue
            let expected = (row["expected_samples"] as? NSNumber)?.doubleValue ?? .nan
            let samples = (row["samples_percent"] as? NSNumber)?.doubleValue ?? .nan
            let covered = (row["coverage_percent"] as? NSNumber)?.doubleValue ?? .nan
            #expect(received == 115, "\(row)")
            #expect(abs(expected - 120) < 1e-9, "\(row)")
            #expect(abs(samples - 115.0 / 120 * 100) < 1e-9, "\(row)")
            #expect(abs(covered - 100) < 1e-9, "\(row)")
        }

        // The import is in the store's log, for `store health` and the bundle's events.csv.
        let (healthStatus, healthOut, healthErr) = try EssdEndToEndTests.run(
            essctl, ["store", "health", "--config", site.path])
        #expect(healthStatus == 0, "\(healthErr)")
        #expect(healthOut.contains("imported \(csv.path) into pcs1, bms1, site"), "\(healthOut)")
        #expect(healthOut.contains("rows every 1m"), "\(healthOut)")
    }
}
