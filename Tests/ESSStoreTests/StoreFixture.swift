import ESSCore
import Foundation
import Logging
import Testing

@testable import ESSStore

/// A temporary state directory, removed when the fixture is released, with a small test
/// configuration: tiers raw 10 min, 1m 60 slots, 15m 96 slots, 1d 3 slots.
final class StoreFixture {
    let directory: String
    var siteID = "site-a"
    var tiers: [TierDefinition] = [
        TierDefinition(name: "raw", slotMS: 0, retentionMS: 600_000),
        TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 3_600_000),
        TierDefinition(name: "15m", slotMS: 900_000, retentionMS: 86_400_000),
        TierDefinition(name: "1d", slotMS: 86_400_000, retentionMS: 3 * 86_400_000),
    ]
    var schemas: [SeriesSchema]
    var polls: [String: Int64] = ["bess1": 1000, "site": 5000]
    var budget: Int64? = nil
    let logger = Logger(label: "store-test", factory: { _ in SwiftLogNoOpLogHandler() })

    init() {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("essd-store-\(UUID().uuidString)")
            .path
        directory = template
        let all = Set(["raw", "1m", "15m", "1d"])
        schemas = [
            SeriesSchema(
                groupID: "bess1",
                signals: [
                    SignalDefinition(name: "soc", role: .socPercent, heartbeatMS: 3000, tiers: all),
                    SignalDefinition(name: "p", role: .activePowerKW, heartbeatMS: 3000, tiers: all),
                    SignalDefinition(name: "temp", role: .other, heartbeatMS: 3000, tiers: ["raw", "15m"]),
                ],
                energy: EnergySources(activePower: 1)),
            SeriesSchema(
                groupID: "site",
                signals: [SignalDefinition(name: "site_p", role: .activePowerKW, heartbeatMS: 15000, tiers: all)],
                energy: EnergySources()),
        ]
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func writer(allowDropping: Bool = false, nowMS: Int64 = 1_700_000_000_000) throws -> StoreWriter {
        try StoreWriter(
            directory: directory, siteID: siteID, schemas: schemas, tiers: tiers, pollIntervalsMS: polls,
            rawBudgetBytes: budget, allowDroppingSignals: allowDropping, nowMS: nowMS, logger: logger)
    }

    func reader() throws -> StoreReader { try StoreReader(directory: directory) }

    func plan() throws -> StorePlan {
        try StoreWriter.plan(
            siteID: siteID, schemas: schemas, tiers: tiers, rawBudgetBytes: budget, pollIntervalsMS: polls)
    }

    func path(_ name: String) -> String { directory + "/" + name }
}

/// A slot of `group` whose signals have mean `base + index`, spread ±1.
func makeSlot(_ schema: SeriesSchema, tier: String, startMS: Int64, slotMS: Int64, base: Double) -> ConsolidatedSlot {
    let signals = schema.signals.enumerated().map { (index, signal) -> SlotSummary in
        guard signal.tiers.contains(tier) else { return .unknown }
        let mean = base + Double(index)
        return SlotSummary(
            count: Int(slotMS / 1000), coveredMS: slotMS - 1000, min: mean - 1, max: mean + 1.5, mean: mean,
            first: mean - 0.25,
            last: mean + 0.75)
    }
    let energy: EnergySummary? =
        schema.energy.hasEnergy
        ? EnergySummary(
            counterChargeKWh: .nan, counterDischargeKWh: .nan, counterResets: 0, integratedChargeKWh: base / 10,
            integratedDischargeKWh: 0.5, integratedMS: slotMS - 1000, unaccountedMS: 1000)
        : nil
    return ConsolidatedSlot(groupID: schema.groupID, tier: tier, startMS: startMS, signals: signals, energy: energy)
}

/// True when `b` equals `a` within the format's documented precision (Float32 mean, Float16/256
/// deltas, coverage in 1/65535 of the slot).
func isClose(_ a: SlotSummary, _ b: SlotSummary, slotMS: Int64) -> Bool {
    if a.isUnknown || b.isUnknown { return a.isUnknown && b.isUnknown }
    let mean = Double(Float(a.mean))
    func ok(_ x: Double, _ y: Double) -> Bool {
        abs(x - y) <= abs(x - mean) * 0x1p-11 + 0x1p-17 + abs(x) * 0x1p-23
    }
    // Format 2: first and last are 10-bit positions in the stored [min, max]: within half a
    // step of that range, plus the error of its ends.
    let range = abs(a.max - a.min)
    func position(_ x: Double, _ y: Double) -> Bool {
        abs(x - y) <= range / 2046 * 1.0001 + abs(a.min - b.min) + abs(a.max - b.max) + abs(x) * 0x1p-40
    }
    return ok(a.mean, b.mean) && ok(a.min, b.min) && ok(a.max, b.max) && position(a.first, b.first)
        && position(a.last, b.last) && abs(a.coveredMS - b.coveredMS) <= slotMS / 8190 + 1 && a.count == b.count
}

/// SplitMix64: seeded, so failures reproduce.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Flips one byte of a file in place.
func flipByte(path: String, offset: Int, mask: UInt8 = 0xFF) throws {
    let handle = try #require(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let byte = try #require(try handle.read(upToCount: 1)).first!
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: [byte ^ mask])
}

func fileSize(_ path: String) throws -> Int64 {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.size] as? NSNumber)?.int64Value ?? -1
}
