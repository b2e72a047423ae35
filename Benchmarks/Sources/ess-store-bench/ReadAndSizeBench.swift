// ess-store-bench: a year's aggregate (essd vs librrd fetch + sum), bytes per slot, and the
// memory of an open 1,000-signal store.
import CRRD
import CRawFloor
import ESSCore
import ESSStore
import Foundation
import Logging

extension StoreBench {
    struct AggregateFigures {
        var essdMS: Double
        var essdSlotsRead: Int
        var essdOnly1mMS: Double
        var essdOnly1mSlotsRead: Int
        var essdMean: Double
        var rrdMS: Double
        var rrdRows: Int
        var rrdMean: Double
    }

    static func aggregateOneYear(root: String) throws -> AggregateFigures {
        let minutes = 366 * 1440
        let yearStart = t0MS
        let yearEnd = yearStart + 525_600 * 60_000
        let yearTiers = [tiers[1], tiers[2]]
        let schema = SeriesSchema(
            groupID: "bess1",
            signals: [SignalDefinition(name: "soc", role: .socPercent, heartbeatMS: 180_000, tiers: ["1m", "1h"])],
            energy: EnergySources())
        let only1mSchema = SeriesSchema(
            groupID: "bess1",
            signals: [SignalDefinition(name: "soc", role: .socPercent, heartbeatMS: 180_000, tiers: ["1m"])],
            energy: EnergySources())
        do {
            let both = try StoreWriter(
                directory: root + "/year", siteID: "bench", schemas: [schema], tiers: yearTiers, pollIntervalsMS: [:],
                nowMS: t0MS, logger: logger)
            let only1m = try StoreWriter(
                directory: root + "/year-1m", siteID: "bench", schemas: [only1mSchema], tiers: [tiers[1]],
                pollIntervalsMS: [:], nowMS: t0MS, logger: logger)
            var consolidator = SeriesConsolidator(schema: schema, tiers: yearTiers)
            var values = [0.0]
            for i in 0..<minutes {
                values[0] = value(i)
                var closed: [ConsolidatedSlot] = []
                consolidator.ingest(timestampMS: yearStart + Int64(i) * 60_000, values: values, qualities: [.ok]) {
                    closed.append($0)
                }
                for slot in closed {
                    try both.write(slot)
                    if slot.tier == "1m" { try only1m.write(slot) }
                }
            }
            try both.checkpoint(nowMS: yearEnd)
            try only1m.checkpoint(nowMS: yearEnd)
        }
        func measure(_ directory: String) throws -> (seconds: Double, slots: Int, mean: Double) {
            let reader = try StoreReader(directory: directory)
            var times: [Double] = []
            var last: SignalAggregate?
            for _ in 0..<21 {
                let start = ContinuousClock.now
                last = try reader.aggregate(group: "bess1", signal: "soc", fromMS: yearStart, toMS: yearEnd)
                times.append(seconds(ContinuousClock.now - start))
            }
            return (median(times), last!.slotsRead, last!.mean)
        }
        let both = try measure(root + "/year")
        let only1m = try measure(root + "/year-1m")

        // librrd: the same minutes into 1m AVERAGE/MIN/MAX + 1h AVERAGE RRAs, step 60.
        let path = root + "/year.rrd"
        let rras = [
            "RRA:AVERAGE:0.5:1:576000", "RRA:MIN:0.5:1:576000", "RRA:MAX:0.5:1:576000", "RRA:AVERAGE:0.5:60:87600",
        ]
        withCStrings(rras) { check(essd_rrd_create(path, 60, Int(yearStart / 1000) - 60, 1, 180, $0, 4), "rrd year") }
        let values = (0..<minutes).map(value)
        var ingestSeconds = 0.0
        check(
            essd_rrd_ingest(path, Int(yearStart / 1000), 60, values, minutes, 10_000, &ingestSeconds),
            "rrd_update_r year")
        var times: [Double] = []
        var sum = 0.0
        var rows = 0
        var valid = 0
        for _ in 0..<21 {
            var elapsed = 0.0
            check(
                essd_rrd_fetch_sum(
                    path, "AVERAGE", Int(yearStart / 1000), Int(yearEnd / 1000), 60, &sum, &rows, &valid, &elapsed),
                "rrd_fetch_r")
            times.append(elapsed)
        }
        return AggregateFigures(
            essdMS: both.seconds, essdSlotsRead: both.slots, essdOnly1mMS: only1m.seconds,
            essdOnly1mSlotsRead: only1m.slots, essdMean: both.mean, rrdMS: median(times), rrdRows: rows,
            rrdMean: sum / Double(valid))
    }

    // MARK: bytes

    /// File bytes per 1m slot per signal of an RRD holding only the 1m AVERAGE/MIN/MAX RRAs.
    static func rrdBytesPerSlot(root: String) throws -> (oneSignal: Double, thousandSignals: Double) {
        func measure(signals: Int, rows: Int) -> Double {
            let path = root + "/bytes-\(signals).rrd"
            let rras = ["AVERAGE", "MIN", "MAX"].map { "RRA:\($0):0.5:1:\(rows)" }
            withCStrings(rras) {
                check(essd_rrd_create(path, 60, Int(t0MS / 1000), Int32(signals), 180, $0, 3), "rrd bytes")
            }
            defer { try? FileManager.default.removeItem(atPath: path) }
            return Double(fileBytes(path)) / Double(rows) / Double(signals)
        }
        return (measure(signals: 1, rows: 576_000), measure(signals: 1000, rows: 1440))
    }

    // MARK: memory

    struct MemoryFigures {
        var before: Resident
        var after: Resident
        var storeBytes: Int64
        var bytesPerSlot: Double
    }

    /// 25 devices × 40 signals with the default tiers: one hour of 1 s scans, then /proc/self/status.
    static func memoryOf1000Signals(root: String) throws -> MemoryFigures {
        let before = Resident.now()
        let tiers = TierDefinition.defaults
        let all = Set(tiers.map(\.name))
        let schemas = (0..<25).map { device in
            SeriesSchema(
                groupID: "bess\(device)",
                signals: (0..<40).map { s in
                    SignalDefinition(
                        name: "s\(s)", role: s == 0 ? .activePowerKW : .dcVoltageV, heartbeatMS: 3000, tiers: all)
                },
                energy: EnergySources(activePower: 0))
        }
        var polls: [String: Int64] = [:]
        for schema in schemas { polls[schema.groupID] = 1000 }
        let writer = try StoreWriter(
            directory: root, siteID: "bench-1000", schemas: schemas, tiers: tiers, pollIntervalsMS: polls, nowMS: t0MS,
            logger: logger)
        var consolidators = schemas.map { SeriesConsolidator(schema: $0, tiers: tiers) }
        var values = [Double](repeating: 0, count: 40)
        let qualities = [PointQuality](repeating: .ok, count: 40)
        var closed: [ConsolidatedSlot] = []
        for second in 0..<3600 {
            let t = t0MS + Int64(second) * 1000
            for g in 0..<25 {
                for s in 0..<40 { values[s] = value(second + 97 * s + 13 * g) }
                try writer.appendRaw(group: schemas[g].groupID, timestampMS: t, values: values, qualities: qualities)
                closed.removeAll(keepingCapacity: true)
                consolidators[g].ingest(timestampMS: t, values: values, qualities: qualities) { closed.append($0) }
                for slot in closed { try writer.write(slot) }
            }
            if second % 5 == 4 { try writer.checkpoint(nowMS: t) }
        }
        let after = Resident.now()
        let oneMinute = writer.plan.file(named: "1m")!
        let figures = MemoryFigures(
            before: before, after: after, storeBytes: writer.plan.totalBytes,
            bytesPerSlot: Double(fileBytes(root + "/1m.tier")) / Double(oneMinute.capacity) / 1000)
        withExtendedLifetime(consolidators) {}
        try? FileManager.default.removeItem(atPath: root)
        return figures
    }
}
