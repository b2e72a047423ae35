import ESSConfig
import ESSCore
import Foundation
import Testing

/// Table-driven configuration cases, one folder each under `testcases/` (found through
/// `#filePath`, so no resource declaration is needed):
///
/// - `site.toml`, plus the profiles it names (usually in `profiles/`);
/// - `expected_errors.txt`: the exact issues, one "FILE:LINE: KEY: MESSAGE" per line, with
///   paths relative to the case folder; or
/// - `expected.txt`: for a valid case, the summary that `ConfigurationSummary` prints.
///
/// Set ESSCONFIG_RECORD=1 to (re)write the expected files from the current output; review
/// the diff before committing it.
@Suite struct ConfigurationCaseTests {
    static let casesDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.appendingPathComponent("testcases").path
    }()

    static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: casesDirectory)) ?? []
        return names.filter { name in
            FileManager.default.fileExists(atPath: "\(casesDirectory)/\(name)/site.toml")
        }.sorted()
    }()

    @Test func thereAreEnoughCases() {
        #expect(Self.caseNames.count >= 12)
        #expect(Self.caseNames.filter { $0.hasPrefix("valid_") }.count >= 2)
    }

    @Test(arguments: caseNames)
    func testcase(_ name: String) throws {
        let folder = "\(Self.casesDirectory)/\(name)"
        let actual: String
        let expectedFile: String
        do {
            let site = try ConfigurationLoader.loadSite(path: "\(folder)/site.toml")
            actual = ConfigurationSummary.describe(site)
            expectedFile = "expected.txt"
        } catch {
            actual = error.issues.map { $0.description.replacingOccurrences(of: folder + "/", with: "") }
                .joined(separator: "\n") + "\n"
            expectedFile = "expected_errors.txt"
        }
        let expectedPath = "\(folder)/\(expectedFile)"
        if ProcessInfo.processInfo.environment["ESSCONFIG_RECORD"] == "1" {
            try actual.write(toFile: expectedPath, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOfFile: expectedPath, encoding: .utf8) else {
            Issue.record("\(name): no \(expectedFile); the loader said:\n\(actual)")
            return
        }
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(actualLines == expectedLines, "\(name)")
    }
}

/// A stable text rendering of a loaded site, for `expected.txt`.
enum ConfigurationSummary {
    static func describe(_ config: SiteConfiguration) -> String {
        let s = config.site
        var lines: [String] = [
            "site \(s.id) name=\"\(s.name)\" province=\(s.province) rated_power_kw=\(s.ratedPowerKW) rated_energy_kwh=\(s.ratedEnergyKWh)",
            "  technology_route=\(s.technologyRoute) location_category=\(s.locationCategory) total_investment_cny=\(s.totalInvestmentCNY)",
            "  commissioning_date=\(s.commissioningDate) time_zone=\(s.timeZone)",
            "state_directory \(config.stateDirectory)",
        ]
        for d in config.devices {
            lines.append(
                "device \(d.id) \(transport(d.transport)) unit_id=\(d.unitID) profile=\(d.profile.name)"
                    + (d.profile.importOnly ? " (import_only)" : ""))
            lines.append(
                "  poll_interval_ms=\(d.pollIntervalMS) response_timeout_ms=\(d.responseTimeoutMS) max_registers=\(d.maxRegistersPerRequest) max_bits=\(d.maxBitsPerRequest) max_hole=\(d.maxHoleRegisters) delay_ms=\(d.interRequestDelayMS) keep_open=\(d.keepConnectionOpen)"
            )
            lines.append("  rated_energy_kwh=\(opt(d.ratedEnergyKWh)) rated_power_kw=\(opt(d.ratedPowerKW))")
            for p in d.profile.points {
                lines.append(
                    "  point \(p.name) role=\(p.role.rawValue) \(p.kind.rawValue)@\(p.address) \(p.type.name) \(p.wordOrder.rawValue) scale=\(p.scale) offset=\(p.offset) unit=\(opt(p.unit)) scale_factor=\(opt(p.scaleFactorPoint)) not_implemented=\(sentinel(p.notImplemented)) poll_multiple=\(p.pollMultiple)"
                )
                if let description = p.description {
                    lines.append("    description=\(description.debugDescription)")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func transport(_ t: Transport) -> String {
        switch t {
        case .tcp: t.endpoint
        case .rtu(_, let baud, let parity, let dataBits, let stopBits):
            "\(t.endpoint) \(baud) \(parity.rawValue) \(dataBits) \(stopBits)"
        case .importOnly: "none (import-only)"
        }
    }

    static func opt<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "-" }

    static func sentinel(_ s: NotImplementedSentinel?) -> String {
        switch s {
        case nil: "-"
        case .nan: "nan"
        case .rawBits(let bits): "0x" + String(bits, radix: 16, uppercase: true)
        }
    }
}
