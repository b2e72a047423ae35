import ESSCore
import Foundation
import Logging
import Synchronization
import Testing

@testable import ESSStore

/// A wall clock the test sets (ScanStore's checkpoint and stop times, the replay window).
final class TestClock: Sendable {
    private let now: Mutex<Int64>
    init(_ start: Int64) { now = Mutex(start) }
    func set(_ value: Int64) { now.withLock { $0 = value } }
    var read: @Sendable () -> Int64 { { [self] in now.withLock { $0 } } }
}

/// Issue 11, finding 6: a clean stop and start must not rewrite the past. Coverage ends when
/// essd stops; a restart only adds what it newly reads; slots accounted before the stop keep
/// their bytes.
@Suite struct StoreRestartTests {
    static let day: Int64 = 86_400_000
    /// 2025-03-01T10:00:00Z (a minute, 15-minute and hour boundary).
    static let t0: Int64 = 1_740_787_200_000 + 10 * 3_600_000
    let logger = Logger(label: "restart-test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// One device, `pcs1` (power and SoC, polled every second: heartbeat 3 s), default tiers
    /// shortened: raw 6 h, 1m for a day, 15m for 10 days, 1d for 30 days.
    static func site(_ directory: String) -> SiteConfiguration {
        let pcs = RegisterProfile(
            name: "pcs",
            points: [
                PointDefinition(name: "p", role: .activePowerKW, address: 0),
                PointDefinition(name: "soc", role: .socPercent, address: 1),
            ])
        return SiteConfiguration(
            site: SiteFacts(
                id: "restart-site", name: "restart test", province: "guangdong", ratedPowerKW: 100,
                ratedEnergyKWh: 200, technologyRoute: "lithium_iron_phosphate", locationCategory: "industrial_plant",
                totalInvestmentCNY: 1, commissioningDate: "2024-01-01", timeZone: "Asia/Shanghai"),
            stateDirectory: directory,
            devices: [
                DeviceDefinition(
                    id: "pcs1", transport: .tcp(host: "127.0.0.1", port: 1502), profile: pcs, pollIntervalMS: 1000)
            ],
            store: StoreSettings(tiers: [
                TierDefinition(name: "raw", slotMS: 0, retentionMS: 6 * 3_600_000),
                TierDefinition(name: "1m", slotMS: 60_000, retentionMS: day),
                TierDefinition(name: "15m", slotMS: 900_000, retentionMS: 10 * day),
                TierDefinition(name: "1d", slotMS: day, retentionMS: 30 * day),
            ]))
    }

    /// Power at second `k` (kW, charging): varies so that a changed mean shows.
    static func power(_ k: Int) -> Double { -Double(k % 7) - 0.5 }

    /// Runs essd's store over the scans of seconds `seconds` (one per second from `t0`), then
    /// stops it with the clock at `stopMS`.
    func run(_ directory: String, clock: TestClock, seconds: Range<Int>, stopMS: Int64) throws {
        let store = try ScanStore(site: Self.site(directory), logger: logger, clock: clock.read)
        store.start()
        for k in seconds {
            let time = Self.t0 + Int64(k) * 1000
            clock.set(time + 50)
            store.accept(Scan(deviceID: "pcs1", timestampMS: time, values: [Self.power(k), 50], qualities: [.ok, .ok]))
        }
        clock.set(stopMS)
        store.stop()
    }

    /// The bytes of `group`'s part of slot `startMS` in `tier`, straight from the file.
    func part(_ directory: String, tier: String, group: String, startMS: Int64) throws -> [UInt8] {
        let site = Self.site(directory)
        let plan = try StoreWriter.plan(
            siteID: site.site.id, schemas: site.seriesSchemas, tiers: site.store.tiers,
            pollIntervalsMS: site.seriesPollIntervalsMS)
        let file = try #require(plan.file(named: tier))
        let layout = try #require(file.groups.first { $0.groupID == group })
        let number = UInt32(startMS / file.tier.slotMS)
        let handle = try #require(FileHandle(forReadingAtPath: directory + "/" + file.fileName))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(file.rowOffset(slotNumber: number) + file.partOffset(slotNumber: number, group: layout)))
        return Array(try #require(try handle.read(upToCount: layout.bytes)))
    }

    @Test func aCleanRestartChangesNothingAccountedBeforeTheStop() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("essd-restart-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let t0 = Self.t0
        let clock = TestClock(t0 - 1000)
        // Seconds 0...89, stopped 0.4 s after the last scan (t0 + 89.4 s).
        let stopMS = t0 + 89_400
        try run(scratch, clock: clock, seconds: 0..<90, stopMS: stopMS)
        var before: [String: [UInt8]] = [:]
        for group in ["pcs1", "site"] {
            for start in [t0, t0 + 60_000] {
                before["\(group)@\(start)"] = try part(scratch, tier: "1m", group: group, startMS: start)
            }
        }
        // The stop slot, by hand: 29 one-second holds (60 s ... 89 s), then 89 s held to the stop.
        let stopSlot = try #require(
            try StoreReader(directory: scratch).slots(tier: "1m", group: "pcs1", fromMS: t0 + 60_000, toMS: t0 + 120_000)
                .first?.slot)
        let coveredAtStop = stopSlot.signals[0].coveredMS
        #expect(abs(coveredAtStop - 29_400) <= 8, "stop slot coverage \(coveredAtStop) ms, expected 29,400 (ends at the stop)")

        // Restarted 3.5 minutes later (the same 15-minute slot), 100 more scans, stopped at 399.5 s.
        clock.set(t0 + 299_000)
        try run(scratch, clock: clock, seconds: 300..<400, stopMS: t0 + 399_500)
        for group in ["pcs1", "site"] {
            for start in [t0, t0 + 60_000] {
                let after = try part(scratch, tier: "1m", group: group, startMS: start)
                #expect(after == before["\(group)@\(start)"], "\(group) 1m slot \(start - t0) ms after t0 changed on restart")
            }
        }
        let reader = try StoreReader(directory: scratch)
        let slot = try #require(
            try reader.slots(tier: "1m", group: "pcs1", fromMS: t0 + 60_000, toMS: t0 + 120_000).first?.slot)
        let covered = slot.signals[0].coveredMS
        #expect(abs(covered - 29_400) <= 8, "stop slot coverage after the restart: \(covered) ms, expected 29,400")
        // Its mean by hand: seconds 60...88 held 1 s each, second 89 held 0.4 s.
        var weighted = 0.0
        for k in 60..<89 { weighted += Self.power(k) * 1000 }
        weighted += Self.power(89) * 400
        let mean = weighted / 29_400
        let storedMean = slot.signals[0].mean
        #expect(abs(storedMean - mean) <= 1e-5, "stop slot mean \(storedMean), expected \(mean)")

        // The 15-minute slot holds both runs and nothing between: 0 ... 89.4 s and 300 ... 399.5 s.
        let quarter = try #require(
            try reader.slots(tier: "15m", group: "pcs1", fromMS: t0, toMS: t0 + 900_000).first?.slot)
        let quarterCovered = quarter.signals[0].coveredMS
        #expect(abs(quarterCovered - 188_900) <= 111, "15m coverage \(quarterCovered) ms, expected 188,900")
        let energy = try #require(quarter.energy)
        // Integrated: 89 s and 99 s of trapezoids; unaccounted: after the last power sample of
        // each run up to its stop (0.4 s + 0.5 s). The 210.6 s essd was stopped count in neither.
        let integrated = energy.integratedMS
        let unaccounted = energy.unaccountedMS
        #expect(abs(integrated - 188_000) <= 7, "integrated \(integrated) ms, expected 188,000")
        #expect(abs(unaccounted - 900) <= 7, "unaccounted \(unaccounted) ms, expected 900")
        var charge = 0.0
        for k in Array(0..<89) + Array(300..<399) { charge += -(Self.power(k) + Self.power(k + 1)) / 2 / 3600 }
        let integratedCharge = energy.integratedChargeKWh
        #expect(abs(integratedCharge - charge) <= charge * 1e-6, "charge \(integratedCharge) kWh, expected \(charge)")
    }
}
