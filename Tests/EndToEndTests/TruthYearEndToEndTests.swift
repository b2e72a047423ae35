import ESSTestSupport
import Foundation
import Testing

/// Issue 12, "How we will know": a fixture year whose truth is computed independently from the
/// simulation that produced it, never from essd's code.
///
/// `Tests/Fixtures/truth-year/simulate.py` (Python 3.11+, standard library only, seeded) simulates
/// a 1 MW / 2 MWh plant through 2025 in continuous time and writes, into a temp directory, the
/// year as 1-minute rows stamped at the end of their minute (gaps of 1 row, 1 h and 6 h; a counter
/// reset on each PCS counter; planned outages of 3 h and 72 h inside maintenance windows that
/// start and end inside 15-min slots; two unplanned outages), the import map
/// (`[time] stamped_at = "end"`), the site and its profiles, and `truth.json`: every indicator's
/// true value per window and tier, and whether the CSV alone determines it.
///
/// The real `essctl import csv` loads the year; the real `essctl kpi --json` reads each window
/// of truth.json (the year and four months) at `--tier 1m` and `--tier 15m`; `check.py` compares:
/// within 0.1 % and status ok where the CSV determines the value, else a status other than ok
/// with a note and a value inside the CSV's range; every PCS counter reset named at its slot.
@Suite(.serialized) struct TruthYearEndToEndTests {
    static let fixture = TestEnvironment.repository.appendingPathComponent("Tests/Fixtures/truth-year")

    static func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object")
    }

    @Test func everyIndicatorMatchesTheSimulatedTruth() throws {
        let python = try #require(
            TestEnvironment.which("python3"), "python3 (3.11 or later) is needed to simulate the truth year")
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-truth-year")
        defer { try? FileManager.default.removeItem(at: work) }
        let essctl = TestEnvironment.product("essctl")

        let simulated = Date()
        let (simStatus, _, simErr) = try EssdEndToEndTests.run(
            python, [Self.fixture.appendingPathComponent("simulate.py").path, work.path])
        try #require(simStatus == 0, "simulate.py: \(simErr)")
        print("truth year: simulated in \(String(format: "%.1f", Date().timeIntervalSince(simulated))) s")
        let truth = try Self.json(try Data(contentsOf: work.appendingPathComponent("truth.json")))
        let rows = try #require(truth["rows"] as? [String: Any])
        let received = try #require((rows["received"] as? NSNumber)?.intValue)

        let site = work.appendingPathComponent("site.toml").path
        let imported = Date()
        let (importStatus, importOut, importErr) = try EssdEndToEndTests.run(
            essctl,
            [
                "import", "csv", work.appendingPathComponent("year.csv").path, "--map",
                work.appendingPathComponent("map.toml").path,
                "--config", site, "--json",
            ])
        print(
            "truth year: \(received) rows imported by essctl in \(String(format: "%.1f", Date().timeIntervalSince(imported))) s"
        )
        try #require(importStatus == 0, "essctl import csv: \(importErr)")
        let report = try Self.json(Data(importOut.utf8))
        #expect((report["rows_imported"] as? NSNumber)?.intValue == received, "\(importOut.prefix(1500))")
        #expect((report["rows_rejected"] as? NSNumber)?.intValue == 0, "\(importOut.prefix(1500))")

        let kpi = work.appendingPathComponent("kpi")
        try FileManager.default.createDirectory(at: kpi, withIntermediateDirectories: true)
        let windows = try #require(truth["windows"] as? [[String: Any]])
        #expect(windows.count == 5)
        for window in windows {
            let name = try #require(window["name"] as? String)
            let from = try #require(window["from"] as? String)
            let to = try #require(window["to"] as? String)
            for tier in ["1m", "15m"] {
                let (status, out, err) = try EssdEndToEndTests.run(
                    essctl, ["kpi", "--config", site, "--from", from, "--to", to, "--tier", tier, "--json"])
                #expect(status == 0, "essctl kpi \(name) --tier \(tier): \(err)")
                try Data(out.utf8).write(to: kpi.appendingPathComponent("\(name).\(tier).json"))
            }
        }

        let (checkStatus, checkOut, checkErr) = try EssdEndToEndTests.run(
            python,
            [
                Self.fixture.appendingPathComponent("check.py").path, work.appendingPathComponent("truth.json").path,
                kpi.path,
            ])
        print(checkOut)
        #expect(
            checkStatus == 0,
            "check.py: every indicator within 0.1 % of the truth where the CSV determines it, else a status that says why:\n\(checkOut.split(separator: "\n").filter { $0.contains("FAIL") }.joined(separator: "\n"))\(checkErr)"
        )
    }
}
