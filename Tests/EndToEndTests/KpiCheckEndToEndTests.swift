import ESSTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// essd and ess-sim run for a few seconds on loopback; `essctl kpi` and `essctl check` then read
/// the store's files. A few seconds of data give energy with some coverage, and never a pass.
@Suite(.serialized) struct KpiCheckEndToEndTests {
    /// The end-to-end site, plus the criteria keys: the shipped tariff and policy folders and a
    /// tariff; and a maintenance window around the test's run (planned outage).
    static func writeSite(in work: URL) throws -> URL {
        let file = try EssdEndToEndTests.writeSite(
            in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()],
            stateDirectory: work.appendingPathComponent("state"))
        let config = TestEnvironment.repository.appendingPathComponent("Config").path
        var text = try String(contentsOf: file, encoding: .utf8)
        text = "tariff_directory = \"\(config)/tariffs\"\npolicy_directory = \"\(config)/policies\"\n" + text
        text = text.replacingOccurrences(of: "time_zone = \"Asia/Shanghai\"\n", with: "time_zone = \"Asia/Shanghai\"\ntariff = \"guangdong-2021\"\n")
        let now = Date()
        let iso = ISO8601DateFormatter()
        let maintenance = """
            [[site.maintenance]]
            start = "\(iso.string(from: now.addingTimeInterval(-3600)))"
            end = "\(iso.string(from: now.addingTimeInterval(3600)))"
            reason = "end-to-end test"

            [store]
            """
        text = text.replacingOccurrences(of: "[store]", with: maintenance)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text.prefix(400))")
    }

    @Test func kpiShowsEnergyAndCheckNeverPassesOnSecondsOfData() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-kpi")
        defer { try? FileManager.default.removeItem(at: work) }
        let site = try Self.writeSite(in: work)
        let essctl = TestEnvironment.product("essctl")

        let (configStatus, _, configErr) = try EssdEndToEndTests.run(essctl, ["config", "check", site.path])
        #expect(configStatus == 0, "the criteria keys are part of a valid site file: \(configErr)")

        let sim = try ChildProcess(TestEnvironment.product("ess-sim"), ["--config", site.path], name: "ess-sim")
        defer { sim.terminate() }
        try sim.waitForLine(containing: "ess-sim ready")
        let essd = try ChildProcess(TestEnvironment.product("essd"), ["--config", site.path], name: "essd")
        defer { essd.terminate() }
        Thread.sleep(forTimeInterval: 5)
        kill(essd.process.processIdentifier, SIGTERM)
        essd.process.waitUntilExit()
        #expect(essd.process.terminationStatus == 0, "essd stderr:\n\(essd.standardError.suffix(2000))")

        // kpi over the last minute: the 1 min tier, energy with some (not enough) coverage.
        let (kpiStatus, kpiOut, kpiErr) = try EssdEndToEndTests.run(
            essctl, ["kpi", "--config", site.path, "--from", "-1m", "--to", "now", "--json"])
        #expect(kpiStatus == 0, "\(kpiErr)")
        let kpi = try Self.json(kpiOut)
        let window = try #require(kpi["window"] as? [String: Any])
        #expect(window["tier"] as? String == "1m")
        #expect((kpi["tariff"] as? [String: Any])?["id"] as? String == "guangdong-2021")
        let indicators = try #require(kpi["indicators"] as? [[String: Any]])
        for id in ["energy.charge_kwh", "energy.discharge_kwh"] {
            let row = try #require(indicators.first { $0["id"] as? String == id }, "\(id) missing from \(kpiOut.prefix(600))")
            let coverage = try #require((row["coverage_percent"] as? NSNumber)?.doubleValue)
            #expect(coverage > 0 && coverage < 90, "\(id) coverage \(coverage) %")
            let value = try #require((row["value"] as? NSNumber)?.doubleValue, "\(id) has no value: \(row)")
            #expect(value >= 0)
            #expect(row["status"] as? String == "insufficient_data", "seconds of a two-minute window are not enough")
        }
        #expect(indicators.contains { $0["id"] as? String == "peak.valley_charge_share_percent" }, "the site's tariff gives peak shifting")
        // The site's maintenance window splits outage into planned and unplanned.
        if indicators.contains(where: { $0["id"] as? String == "availability.factor_percent" && $0["value"] is NSNumber }) {
            for id in ["availability.planned_outage_hours", "availability.unplanned_outage_hours"] {
                #expect(indicators.contains { $0["id"] as? String == id }, "\(id) missing with a maintenance window declared")
            }
        }

        let (tableStatus, table, tableErr) = try EssdEndToEndTests.run(
            essctl, ["kpi", "--config", site.path, "--from", "-1m", "--to", "now", "--tier", "1m"])
        #expect(tableStatus == 0, "\(tableErr)")
        #expect(table.contains("energy.charge_kwh") && table.contains("insufficient data") && table.contains("tariff guangdong-2021"), "\(table)")

        // check --strict: a few seconds are not a year. Insufficient data everywhere, exit 1.
        let (checkStatus, checkOut, checkErr) = try EssdEndToEndTests.run(
            essctl, ["check", "--policy", "zhejiang-2021", "--config", site.path, "--from", "-1m", "--to", "now", "--json", "--strict"])
        #expect(checkStatus == 1, "\(checkErr)")
        let check = try Self.json(checkOut)
        #expect((check["policy"] as? [String: Any])?["source"] as? String == TestEnvironment.repository.appendingPathComponent("Config/policies/zhejiang-2021.toml").path)
        let criteria = try #require(check["criteria"] as? [[String: Any]])
        #expect(criteria.count == 7)
        for row in criteria {
            #expect(row["verdict"] as? String == "insufficient_data", "\(row)")
            #expect(row["source"] as? String != nil && row["confidence"] as? String != nil)
        }
        #expect(check["has_fail_or_insufficient"] as? Bool == true)
        let estimates = try #require(check["estimates"] as? [[String: Any]])
        #expect(estimates.map { $0["status"] as? String } == ["conditions_not_met", "insufficient_data"], "\(estimates)")

        // Without --strict the same check exits 0 and prints the table.
        let (plainStatus, plain, plainErr) = try EssdEndToEndTests.run(
            essctl, ["check", "--policy", "zhejiang-2021", "--config", site.path, "--from", "-1m", "--to", "now"])
        #expect(plainStatus == 0, "\(plainErr)")
        #expect(plain.contains("zj.ac_efficiency") && plain.contains("insufficient data") && !plain.contains(" pass "), "\(plain)")
        #expect(plain.contains("7 insufficient data"), "\(plain)")

        // export reads the policy as check does (the site's policy folder) and writes its money estimates.
        let minute = (Int(Date().timeIntervalSince1970) / 60) * 60
        let iso = ISO8601DateFormatter()
        let from = iso.string(from: Date(timeIntervalSince1970: Double(minute - 180)))
        let to = iso.string(from: Date(timeIntervalSince1970: Double(minute + 60)))
        let bundle = work.appendingPathComponent("bundle")
        let (exportStatus, exportOut, exportErr) = try EssdEndToEndTests.run(
            essctl, ["export", "--policy", "zhejiang-2021", "--config", site.path, "--from", from, "--to", to, "--interval", "1m", "--out", bundle.path])
        #expect(exportStatus == 0, "\(exportErr)")
        #expect(exportOut.contains("policy zhejiang-2021 (\(TestEnvironment.repository.appendingPathComponent("Config/policies/zhejiang-2021.toml").path))"), "\(exportOut)")
        #expect(exportOut.contains("tariff guangdong-2021 ("), "\(exportOut)")
        let money = try String(contentsOf: bundle.appendingPathComponent("money.csv"), encoding: .utf8).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(money.count == 1 + estimates.count, "\(money)")
        #expect(money.dropFirst().allSatisfy { $0.hasPrefix("zhejiang-2021,") }, "\(money)")
        let (verifyStatus, verifyOut, _) = try EssdEndToEndTests.run(essctl, ["verify", bundle.path])
        #expect(verifyStatus == 0, "\(verifyOut)")

        // Issue 12, finding 10: --json on every command: verify, export, store health, config check.
        let (vjStatus, vjOut, _) = try EssdEndToEndTests.run(essctl, ["verify", bundle.path, "--json"])
        let verified = try Self.json(vjOut)
        #expect(vjStatus == 0 && verified["valid"] as? Bool == true && verified["signed"] as? Bool == false, "\(vjOut)")
        #expect(verified["public_key_hex"] == nil, "unknown is absent, never 0 or empty: \(vjOut)")
        #expect((verified["verified_files"] as? [String])?.contains("intervals.csv") == true, "\(vjOut)")
        try Data("x".utf8).write(to: bundle.appendingPathComponent("daily.csv"))
        let (badStatus, badOut, _) = try EssdEndToEndTests.run(essctl, ["verify", bundle.path, "--json"])
        let bad = try Self.json(badOut)
        let badProblems = try #require(bad["problems"] as? [[String: Any]], "\(badOut)")
        #expect(badStatus == 1 && bad["valid"] as? Bool == false, "\(badOut)")
        #expect(badProblems.contains { $0["file"] as? String == "daily.csv" && $0["kind"] as? String == "size_mismatch" }, "\(badOut)")

        let bundle2 = work.appendingPathComponent("bundle-json")
        let (ejStatus, ejOut, ejErr) = try EssdEndToEndTests.run(
            essctl, ["export", "--policy", "zhejiang-2021", "--config", site.path, "--from", from, "--to", to, "--interval", "1m",
                "--out", bundle2.path, "--json"])
        let exported = try Self.json(ejOut)
        let written = try FileManager.default.contentsOfDirectory(atPath: bundle2.path).count
        #expect(ejStatus == 0 && exported["files"] as? Int == written && exported["policy"] as? String == "zhejiang-2021", "\(ejOut) \(ejErr)")
        #expect(exported["public_key_hex"] == nil && (exported["manifest_sha256"] as? String)?.count == 64, "\(ejOut)")

        let (hjStatus, hjOut, hjErr) = try EssdEndToEndTests.run(essctl, ["store", "health", "--config", site.path, "--json"])
        let health = try Self.json(hjOut)
        #expect(hjStatus == 0 && health["healthy"] as? Bool == true && (health["damaged_rows"] as? [Any])?.isEmpty == true, "\(hjOut) \(hjErr)")

        let (cjStatus, cjOut, _) = try EssdEndToEndTests.run(essctl, ["config", "check", site.path, "--json"])
        let checked = try Self.json(cjOut)
        #expect(cjStatus == 0 && checked["valid"] as? Bool == true && (checked["devices"] as? Int ?? 0) > 0, "\(cjOut)")
        let broken = work.appendingPathComponent("broken.toml")
        try "[site]\nid = \"x\"\nrated_power_kw = -1\n".write(to: broken, atomically: true, encoding: .utf8)
        let (brokenStatus, brokenOut, _) = try EssdEndToEndTests.run(essctl, ["config", "check", broken.path, "--json"])
        let refused = try Self.json(brokenOut)
        let refusedProblems = try #require(refused["problems"] as? [[String: Any]], "\(brokenOut)")
        #expect(brokenStatus == 78 && refused["valid"] as? Bool == false && !refusedProblems.isEmpty, "\(brokenOut)")
        #expect(refusedProblems.allSatisfy { $0["file"] as? String == broken.path && $0["text"] is String }, "\(brokenOut)")
        #expect(refusedProblems.contains { $0["line"] as? Int == 3 }, "rated_power_kw is on line 3: \(brokenOut)")

        let (unknownStatus, _, unknownErr) = try EssdEndToEndTests.run(
            essctl, ["check", "--policy", "atlantis-2030", "--config", site.path, "--from", "-1m", "--to", "now"])
        #expect(unknownStatus == 78)
        #expect(unknownErr.contains("atlantis-2030") && unknownErr.contains("zhejiang-2021"), "\(unknownErr)")
    }
}
