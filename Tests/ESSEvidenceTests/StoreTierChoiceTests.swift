import ESSCore
import ESSCriteria
import ESSStore
import Foundation
import Logging
import Testing

@testable import ESSEvidence

/// Issue 12, finding 7: minutes over 45 °C over a year were 1,920 from the 15-min tier (true
/// 1,589, exact at 1 min), because windows over 31 days read the 15-min tier. Indicators now read
/// the finest tier that still holds the window. And finding 6's imported intervals, merged.
@Suite struct StoreTierChoiceTests {
    static let day: Int64 = 86_400_000
    static let t0: Int64 = 1_735_660_800_000  // 2025-01-01T00:00+08:00, a multiple of 15 min
    static let schema = SeriesSchema(
        groupID: "site",
        signals: [SignalDefinition(name: "cell_temp_max_c", role: .cellTempMaxC, heartbeatMS: 3000, tiers: ["1m", "15m"])],
        energy: EnergySources())
    /// 1 min kept 3 days, 15 min kept 40 days.
    static let tiers = [
        TierDefinition(name: "raw", slotMS: 0, retentionMS: 3_600_000),
        TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 3 * day),
        TierDefinition(name: "15m", slotMS: 900_000, retentionMS: 40 * day),
    ]

    static func temperature(_ v: Double) -> SlotSummary {
        SlotSummary(count: 60, coveredMS: 60_000, min: v, max: v, mean: v, first: v, last: v)
    }

    /// Writes `days` days ending at t0 + 10 days: every 1-min slot at 30 °C except 7 minutes a
    /// day at 46 °C (12:03–12:10, inside one 15-min slot), and the 15-min slots made of them.
    static func store(directory: String, days: Int) throws {
        let writer = try StoreWriter(
            directory: directory, siteID: "tiers", schemas: [schema], tiers: tiers, pollIntervalsMS: ["site": 1000],
            rawBudgetBytes: nil, nowMS: t0, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let first = t0 + Int64(10 - days) * day
        for d in 0..<days {
            for quarter in 0..<96 {
                var hot = false
                for m in 0..<15 {
                    let minute = quarter * 15 + m
                    let over = (723..<730).contains(minute)
                    hot = hot || over
                    let start = first + Int64(d) * day + Int64(minute) * 60_000
                    _ = try writer.write(ConsolidatedSlot(
                        groupID: "site", tier: "1m", startMS: start, signals: [temperature(over ? 46 : 30)], energy: nil))
                }
                let start = first + Int64(d) * day + Int64(quarter) * 900_000
                let s = SlotSummary(count: 900, coveredMS: 900_000, min: 30, max: hot ? 46 : 30, mean: 30, first: 30, last: 30)
                _ = try writer.write(ConsolidatedSlot(groupID: "site", tier: "15m", startMS: start, signals: [s], energy: nil))
            }
        }
        try writer.checkpoint(nowMS: t0 + 10 * day)
    }

    @Test func theFinestTierThatHoldsTheWindowIsRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("essd-tiers-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.store(directory: directory, days: 10)
        let reader = try StoreReader(directory: directory)
        let end = Self.t0 + 10 * Self.day
        // The last two days: the 1-min ring (3 days back from its newest slot) holds them.
        let recent = try StoreIndicatorReader.finestTier(reader: reader, fromMS: end - 2 * Self.day, toMS: end)
        #expect(recent?.name == "1m")
        // Eight days back: the 1-min ring no longer reaches; 15 min does.
        let older = try StoreIndicatorReader.finestTier(reader: reader, fromMS: end - 8 * Self.day, toMS: end)
        #expect(older?.name == "15m")

        // Minutes over 45 °C over the last two days, by hand: 2 × 7 = 14 from 1 min; 15 min
        // would say 2 × 15 = 30 (its upper bound).
        func minutes(_ tier: TierDefinition, from: Int64) throws -> Double {
            let source = StoreIndicatorReader(reader: reader, tier: tier, meterDeviceID: nil)
            let shape = try source.shape(
                facts: SyntheticFacts.facts, fromMS: from, toMS: end, offsets: .chinaStandardTime)
            return try source.report(shape, tariff: nil)["safety.cell_temp_over_minutes"]?.value ?? .nan
        }
        #expect(try minutes(try #require(recent), from: end - 2 * Self.day) == 14)
        #expect(try minutes(try #require(reader.tiers.first { $0.name == "15m" }), from: end - 2 * Self.day) == 30)
    }

    @Test func overlappingImportsLeaveOneIntervalPerTime() {
        func imported(_ from: Int64, _ to: Int64, _ interval: Int64) -> StoreEvent {
            .imported(StoreImport(groups: ["pcs1", "site"], fromMS: from, toMS: to, intervalMS: interval, source: "x.csv", notedMS: 0))
        }
        // A day at 1 min, then a re-import of its middle at 5 min, then an unrelated stop.
        let changes = StoreIndicatorReader.sampleIntervalChanges([
            imported(0, 1_000, 60_000), imported(400, 600, 300_000), .stopped(atMS: 2_000, clean: true),
        ])
        let expected = [
            SampleIntervalChange(fromMS: 0, toMS: 400, intervalMS: 60_000),
            SampleIntervalChange(fromMS: 400, toMS: 600, intervalMS: 300_000),
            SampleIntervalChange(fromMS: 600, toMS: 1_000, intervalMS: 60_000),
        ]
        #expect(changes["pcs1"] == expected)
        #expect(changes["site"] == expected)
        #expect(changes["bms1"] == nil)
        // The same window imported twice at the same interval: one range.
        let twice = StoreIndicatorReader.sampleIntervalChanges([imported(0, 1_000, 60_000), imported(0, 1_000, 60_000)])
        #expect(twice["pcs1"] == [SampleIntervalChange(fromMS: 0, toMS: 1_000, intervalMS: 60_000)])
    }
}

enum SyntheticFacts {
    static let facts = SiteFacts(
        id: "tiers", name: "Tier site", province: "Guangdong", ratedPowerKW: 1000, ratedEnergyKWh: 2000,
        technologyRoute: "lithium_iron_phosphate", locationCategory: "industrial_plant", totalInvestmentCNY: 1,
        commissioningDate: "2023-01-01", timeZone: "Asia/Shanghai")
}
