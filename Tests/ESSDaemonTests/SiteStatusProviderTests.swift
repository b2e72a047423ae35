import ESSCore
import ESSDaemon
@testable import ESSModbus
import Testing

/// Issue 12, finding 11: an import-only device (`transport = "none"`) is never polled, so it has
/// no statistics; the status socket lists it as `import_only` (endpoint "none", no counts) after
/// the polled devices and counts it neither up nor down.
@Suite struct SiteStatusProviderTests {
    static let profile = RegisterProfile(
        name: "p", points: [PointDefinition(name: "power", role: .activePowerKW, address: 0)])

    static let site = SiteConfiguration(
        site: SiteFacts(
            id: "s", name: "S", province: "guangdong", ratedPowerKW: 100, ratedEnergyKWh: 200,
            technologyRoute: "lithium_iron_phosphate", locationCategory: "industrial_plant", totalInvestmentCNY: 0,
            commissioningDate: "2025-01-01", timeZone: "Asia/Shanghai"),
        stateDirectory: "/nonexistent/essd-status-provider-test",
        devices: [
            DeviceDefinition(id: "pcs1", transport: .tcp(host: "127.0.0.1", port: 1502), profile: profile),
            DeviceDefinition(id: "old", transport: .importOnly, unitID: 0, profile: profile),
            DeviceDefinition(id: "pcs2", transport: .tcp(host: "127.0.0.1", port: 1503), profile: profile),
        ])

    static func statistics(_ id: String, _ state: DeviceState) -> DeviceStatistics {
        DeviceStatistics(
            deviceID: id, endpoint: "tcp://127.0.0.1:1502", unitID: 1, state: state, scans: 5, requests: 5,
            errorsByKind: [:], lastSuccessMS: 1000, reconnects: 0, missedCycles: 0)
    }

    @Test func importOnlyDevicesAreListedAndNeverDown() {
        // What the poll engine reports: the two polled devices only (pcs2 not answering).
        let provider = SiteStatusProvider(
            site: Self.site, latestValues: LatestValues(devices: Self.site.devices),
            deviceStatistics: { [Self.statistics("pcs1", .up), Self.statistics("pcs2", .down)] },
            storeStatistics: { nil })
        let devices = provider.devices(nowMS: 2000)
        #expect(devices.map(\.deviceID) == ["pcs1", "pcs2", "old"])
        #expect(devices.map(\.state) == ["up", "down", "import_only"])
        let old = devices[2]
        #expect(old.endpoint == "none" && old.requests == 0 && old.errors == 0 && old.lastSuccessMS == nil)
        let summary = provider.summary(nowMS: 2000)
        #expect(summary.devicesUp == 1 && summary.devicesDown == 1 && summary.devicesImportOnly == 1)
    }
}
