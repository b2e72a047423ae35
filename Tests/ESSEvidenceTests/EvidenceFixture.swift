import ESSCore
import ESSStore
import ESSTestSupport
import Foundation
import Logging

@testable import ESSEvidence

/// A site with a PCS (SoC, power, counters, cell temperature, availability) and a storage meter
/// (import/export counters), and a store written slot by slot with known values.
struct EvidenceFixture {
    /// 2024-05-01T00:00:00+08:00.
    static let startMS: Int64 = 1_714_492_800_000
    static let slotMS: Int64 = 900_000
    static let tiers = [
        TierDefinition(name: "raw", slotMS: 0, retentionMS: 3_600_000),
        TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 2 * 86_400_000),
        TierDefinition(name: "15m", slotMS: 900_000, retentionMS: 30 * 86_400_000),
    ]

    let root: URL
    let site: SiteConfiguration
    var storeDirectory: String { site.stateDirectory }

    static func makeSite(stateDirectory: String) -> SiteConfiguration {
        let pcs = DeviceDefinition(
            id: "pcs1", transport: .tcp(host: "127.0.0.1", port: 502),
            profile: RegisterProfile(
                name: "pcs-test", vendor: "Acme, Inc.", model: "PCS-100",
                points: [
                    PointDefinition(name: "soc", role: .socPercent, address: 0),
                    PointDefinition(name: "power", role: .activePowerKW, address: 1, type: .int16),
                    PointDefinition(name: "charge_total", role: .chargeEnergyTotalKWh, address: 2, type: .uint32),
                    PointDefinition(name: "discharge_total", role: .dischargeEnergyTotalKWh, address: 4, type: .uint32),
                    PointDefinition(name: "cell_temp_max", role: .cellTempMaxC, address: 6, type: .int16),
                    PointDefinition(name: "available", role: .available, address: 7),
                ]), ratedEnergyKWh: 200, ratedPowerKW: 100)
        let meter = DeviceDefinition(
            id: "meter1", transport: .tcp(host: "127.0.0.1", port: 503),
            profile: RegisterProfile(
                name: "meter-test", vendor: "Meters", model: "M1",
                points: [
                    PointDefinition(name: "import_total", role: .meterImportEnergyTotalKWh, address: 0, type: .uint32),
                    PointDefinition(name: "export_total", role: .meterExportEnergyTotalKWh, address: 2, type: .uint32),
                ]))
        return SiteConfiguration(
            site: SiteFacts(
                id: "test-site", name: "Test", province: "Guangdong", ratedPowerKW: 100, ratedEnergyKWh: 200,
                technologyRoute: "lithium_iron_phosphate", locationCategory: "industrial_plant", totalInvestmentCNY: 1_000_000,
                commissioningDate: "2024-01-01", timeZone: "Asia/Shanghai"),
            stateDirectory: stateDirectory, devices: [pcs, meter],
            store: StoreSettings(tiers: tiers, meterDeviceID: "meter1"))
    }

    static func summary(first: Double, last: Double, min: Double, max: Double, mean: Double, coveredMS: Int64 = slotMS)
        -> SlotSummary
    {
        SlotSummary(count: 900, coveredMS: coveredMS, min: min, max: max, mean: mean, first: first, last: last)
    }

    static func constant(_ v: Double, coveredMS: Int64 = slotMS) -> SlotSummary {
        summary(first: v, last: v, min: v, max: v, mean: v, coveredMS: coveredMS)
    }

    /// Four 15-minute slots from `startMS`: 0 and 1 fully covered, 2 half covered, 3 never written.
    init() throws {
        root = try TestEnvironment.temporaryDirectory("evidence")
        site = Self.makeSite(stateDirectory: root.appendingPathComponent("store").path)
        let schemas = site.seriesSchemas
        let writer = try StoreWriter(
            directory: storeDirectory, siteID: site.site.id, schemas: schemas, tiers: Self.tiers,
            pollIntervalsMS: site.seriesPollIntervalsMS, nowMS: Self.startMS, logger: Logger(label: "test"))
        func slot(_ group: String, _ index: Int, _ values: [SignalRole: SlotSummary], energy: EnergySummary?) -> ConsolidatedSlot {
            let schema = schemas.first { $0.groupID == group }!
            let signals = schema.signals.map { values[$0.role] ?? .unknown }
            return ConsolidatedSlot(
                groupID: group, tier: "15m", startMS: Self.startMS + Int64(index) * Self.slotMS, signals: signals,
                energy: schema.energy.hasEnergy ? (energy ?? EnergySummary()) : nil)
        }
        let half = Self.slotMS / 2
        let site: [(SlotSummary, SlotSummary, SlotSummary, EnergySummary)] = [
            (
                Self.summary(first: 50, last: 55, min: 50, max: 55, mean: 52.5),
                Self.summary(first: -7, last: -5, min: -7, max: -5, mean: -6), Self.constant(1),
                EnergySummary(
                    counterChargeKWh: 1.5, counterDischargeKWh: 0, integratedChargeKWh: 1.25, integratedDischargeKWh: 0,
                    integratedMS: Self.slotMS)
            ),
            (
                Self.summary(first: 55, last: 60, min: 55, max: 60, mean: 57.5),
                Self.summary(first: -7, last: -5, min: -7, max: -5, mean: -6), Self.constant(1),
                EnergySummary(
                    counterChargeKWh: 1.5, counterDischargeKWh: 0, integratedChargeKWh: 1.25, integratedDischargeKWh: 0,
                    integratedMS: Self.slotMS)
            ),
            (
                Self.summary(first: 60, last: 61, min: 60, max: 61, mean: 60.5, coveredMS: half),
                Self.summary(first: -7, last: -5, min: -7, max: -5, mean: -6, coveredMS: half), Self.constant(1, coveredMS: half),
                EnergySummary(
                    counterChargeKWh: 0.75, counterDischargeKWh: 0, integratedChargeKWh: 0.5, integratedDischargeKWh: 0,
                    integratedMS: half, unaccountedMS: half)
            ),
        ]
        let meterImport = [
            Self.summary(first: 100, last: 101.5, min: 100, max: 101.5, mean: 100.75),
            Self.summary(first: 101.75, last: 103, min: 101.75, max: 103, mean: 102.375),
            Self.summary(first: 103, last: 103.5, min: 103, max: 103.5, mean: 103.25, coveredMS: half),
        ]
        for i in 0..<3 {
            let (soc, power, available, energy) = site[i]
            try writer.write(
                slot("site", i, [.socPercent: soc, .activePowerKW: power, .available: available], energy: energy))
            try writer.write(slot("pcs1", i, [.cellTempMaxC: Self.constant(30.5), .socPercent: soc], energy: nil))
            try writer.write(
                slot("meter1", i, [.meterImportEnergyTotalKWh: meterImport[i], .meterExportEnergyTotalKWh: Self.constant(200)], energy: nil))
        }
        try writer.checkpoint(nowMS: Self.startMS + 4 * Self.slotMS)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    func out(_ name: String) -> String { root.appendingPathComponent(name).path }
}

/// A tariff double: valley before 00:30 local on the fixture's day, peak after.
struct FixedLabeler: TariffPeriodLabeler {
    var tariffID: String { "test-tariff" }
    func period(atUTCMS utcMS: Int64) -> String? {
        utcMS < EvidenceFixture.startMS + 1_800_000 ? "valley" : "peak"
    }
}
