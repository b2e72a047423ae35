import ESSConfig
import ESSCore
import ESSDaemon
import ESSTestSupport
import Foundation
import Testing

/// Issue 11, finding 9: `SiteCheck` (what essd's start-up, reload, `--check-config` and
/// `essctl config check` call) refuses what the store's plan refuses, even where the loader
/// alone has no rule: here a raw byte budget that the header and group heads of 2,600 devices
/// with 255-byte ids do not fit (per group 36 + 255 header bytes and a 64-byte head with up to
/// 63 of alignment: 2,600 * 418 = 1,086,800 bytes > 1 MiB).
@Suite struct SiteCheckTests {
    @Test func theStorePlanIsPartOfTheCheck() throws {
        let folder = try TestEnvironment.temporaryDirectory("essd-sitecheck")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("profiles"), withIntermediateDirectories: true)
        try """
            [profile]
            name = "meter"

            [[point]]
            name = "power"
            role = "active_power_kw"
            address = 0
            type = "int16"
            """.write(to: folder.appendingPathComponent("profiles/meter.toml"), atomically: false, encoding: .utf8)
        var text = """
            [site]
            id = "t"
            name = "Test"
            province = "guangdong"
            rated_power_kw = 100
            rated_energy_kwh = 200.0
            technology_route = "lithium_iron_phosphate"
            location_category = "industrial_plant"
            total_investment_cny = 0
            commissioning_date = 2025-06-30
            time_zone = "Asia/Shanghai"

            [store]
            state_directory = "state"
            raw_budget_mb = 1

            """
        for i in 0..<2600 {
            let id = String(repeating: "d", count: 251) + String(format: "%04d", i)
            text += "[[device]]\nid = \"\(id)\"\nprofile = \"meter\"\ntransport = \"tcp\"\nhost = \"10.0.\(i / 250).\(i % 250 + 1)\"\n\n"
        }
        let path = folder.appendingPathComponent("site.toml").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)

        // The loader alone accepts it ...
        let site = try ConfigurationLoader.loadSite(path: path)
        #expect(site.devices.count == 2600)
        // ... the check does not, and says why, naming the file.
        do {
            _ = try SiteCheck.load(path: path)
            Issue.record("SiteCheck accepted a raw budget the store refuses")
        } catch {
            let issue = error.issues.first
            #expect(error.issues.count == 1)
            #expect(issue?.file == path)
            #expect(issue?.key == "store")
            let message = issue?.message ?? ""
            #expect(message.contains("raw byte budget 1048576 is too small"), "\(message)")
        }
    }

    @Test func aValidSiteIsValid() throws {
        let site = try SiteCheck.load(path: TestEnvironment.repository.appendingPathComponent("Config/essd.toml").path)
        #expect(!site.devices.isEmpty)
    }
}
