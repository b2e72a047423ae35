import ESSConfig
import ESSCore
import Foundation
import Testing

/// The shipped example files must load without a single issue.
@Suite struct ExampleConfigTests {
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    @Test func demoSiteLoads() throws {
        let site: SiteConfiguration
        do {
            site = try ConfigurationLoader.loadSite(path: Self.repoRoot + "/Config/essd.toml")
        } catch {
            Issue.record("Config/essd.toml has issues:\n\(error)")
            return
        }
        #expect(site.site.id == "demo-site")
        #expect(site.site.name == "essd demo plant")
        #expect(site.site.province == "guangdong")
        #expect(site.site.ratedPowerKW == 100)
        #expect(site.site.ratedEnergyKWh == 5)
        #expect(site.site.technologyRoute == "lithium_iron_phosphate")
        #expect(site.site.locationCategory == "industrial_plant")
        #expect(site.site.totalInvestmentCNY == 1_200_000)
        #expect(site.site.commissioningDate == "2025-06-30")
        #expect(site.site.timeZone == "Asia/Shanghai")
        #expect(site.stateDirectory == "/var/lib/essd")
        #expect(site.devices.map(\.id) == ["pcs1", "bms1", "ems1"])
        #expect(site.devices.map(\.profile.name) == ["ess-sim-pcs", "ess-sim-bms", "ess-sim-ems"])
        #expect(site.devices.map(\.transport) == [
            .tcp(host: "127.0.0.1", port: 15020), .tcp(host: "127.0.0.1", port: 15020), .tcp(host: "127.0.0.1", port: 15021),
        ])
        #expect(site.devices.map(\.unitID) == [1, 2, 1])
        #expect(site.devices.allSatisfy { $0.pollIntervalMS == 1000 && $0.responseTimeoutMS == 500 })
    }

    @Test(arguments: ["ess-sim-pcs", "ess-sim-bms", "ess-sim-ems", "sunspec-802"])
    func profileLoads(name: String) throws {
        do {
            let profile = try ConfigurationLoader.loadProfile(path: Self.repoRoot + "/Config/profiles/\(name).toml")
            #expect(profile.name == name)
            #expect(!profile.points.isEmpty)
        } catch {
            Issue.record("Config/profiles/\(name).toml has issues:\n\(error)")
        }
    }
}
