// ess-store-bench: the ingest figures (essd per scan, batched, warm, sustained; the raw rows'
// memory floor and the C floors of the job in a new store; librrd batched and one update per
// call).
import CRRD
import CRawFloor
import ESSCore
import ESSStore
import Foundation
import Logging

extension StoreBench {
    /// For perf: the consolidator alone, batched, nothing else in the process's profile.
    static func profileConsolidator(_ options: Options) {
        let values = (0..<options.samples).map(value)
        let timestamps = (0..<options.samples).map { t0MS + Int64($0) * 1000 }
        let qualities = [PointQuality](repeating: .ok, count: options.samples)
        var consolidator = SeriesConsolidator(schema: series, tiers: tiers)
        var slots = 0
        let start = ContinuousClock.now
        consolidator.ingest(timestampsMS: timestamps, values: values, qualities: qualities, onClose: { _ in slots += 1 })
        print(
            "consolidator alone: \(rate(Double(options.samples) / seconds(ContinuousClock.now - start))), \(slots) slots"
        )
    }

    /// For perf: StoreWriter.write alone, the slots of `samples` samples made before timing.
    static func profileSlotWrites(_ options: Options, directory: String) throws {
        let values = (0..<options.samples).map(value)
        let timestamps = (0..<options.samples).map { t0MS + Int64($0) * 1000 }
        let qualities = [PointQuality](repeating: .ok, count: options.samples)
        var consolidator = SeriesConsolidator(schema: series, tiers: tiers)
        var slots: [ConsolidatedSlot] = []
        consolidator.ingest(timestampsMS: timestamps, values: values, qualities: qualities) { slots.append($0) }
        let writer = try StoreWriter(
            directory: directory, siteID: "bench", schemas: [series], tiers: tiers, pollIntervalsMS: ["bess1": 1000],
            nowMS: t0MS, logger: logger)
        let faults = pageFaultsSoFar()
        let start = ContinuousClock.now
        for slot in slots { try writer.write(slot) }
        let elapsed = seconds(ContinuousClock.now - start)
        print(
            "slot writes alone: \(slots.count) slots, "
                + String(format: "%.0f ns/slot", elapsed / Double(slots.count) * 1e9)
                + ", \(pageFaultsSoFar() - faults) page faults")
    }

    struct IngestFigures {
        /// Per-scan path (what essd does with each poll): checkpoints on essd's cadence.
        var perScan: Double
        /// Batched path (replay, CSV import): checkpoints on essd's cadence.
        var batched: Double
        /// The best runs themselves, for the breakdown (checkpoint time, page faults).
        var perScanRun: IngestRun
        var batchedRun: IngestRun
        /// The same two with a checkpoint every `checkpointEvery` samples (harsher).
        var perScanEveryN: Double
        var batchedEveryN: Double
        var checkpointsPerScan: Int
        var checkpointsBatched: Int
        var checkpointsPerScanEveryN: Int
        var checkpointsBatchedEveryN: Int
        var essdEvery5: Double
        var shortSamples: Int
        var rawOnly: Double
        var consolidatorOnly: Double
        var rawOnlyBatched: Double
        var consolidatorOnlyBatched: Double
        /// Batched through `StoreWriter.ingest`, the steady state (`essdIngest(warm:)`).
        var warm: IngestRun
        /// Batched through `StoreWriter.ingest`, `sustainedSamples` into a new store.
        var sustained: IngestRun
        /// The raw rows alone written by a C loop into a warm ring of the raw region's size:
        /// ns per sample without and with a CRC32C per row.
        var floorNS: Double
        var floorCRCNS: Double
        /// `essd_job_floor_ns`, best of `repeats` (-1 if unavailable): a C loop into a new store,
        /// the final msync + fdatasync timed; 12-byte raw rows only / the minimal job (raw rows,
        /// a CRC32C per 64-row block, Float32 1-min mean/min/max and 1-h mean).
        var jobFloorRawNS: Double
        var jobFloorMinimalNS: Double
        var rrdBatched: Double
        var rrdOnePerCall: Double
        var bytesPerSlot: Double
    }

    static let series = SeriesSchema(
        groupID: "bess1",
        signals: [
            SignalDefinition(name: "soc", role: .socPercent, heartbeatMS: 3000, tiers: Set(tiers.map(\.name)))
        ],
        energy: EnergySources())

    /// What `essdIngest` does per sample (the parts are timed alone to show where time goes).
    enum IngestWork {
        case all
        case rawOnly
        case consolidatorOnly
        /// Consolidation and slot writes, no raw rows.
        case tiersOnly
    }

    /// When `essdIngest` checkpoints.
    enum Cadence {
        /// essd's own: when `intervalMS` of wall-clock time have passed since the last one
        /// (`[store] checkpoint_interval_ms`, 5 s by default), looked at every 1,024 samples
        /// (per-scan) or after each batch, plus a final one inside the timed region.
        case wallClock(intervalMS: Int)
        /// Every `samples` samples (and a final one).
        case everySamples(Int)
    }

    struct IngestRun {
        var samplesPerSecond: Double
        var checkpoints: Int
        /// Seconds of the whole run spent in `checkpoint` (msync, fsync, checkpoint file).
        var checkpointSeconds = 0.0
        /// Seconds of the whole run.
        var seconds = 0.0
        /// Page faults (minor + major, getrusage) inside the timed region.
        var pageFaults = 0
        /// Samples stored in the timed region.
        var samples = 0
    }

    static func pageFaultsSoFar() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt + usage.ru_majflt
    }

    /// Feeds `count` samples through a consolidator and the writer; samples/s. `batch` nil:
    /// one `appendRaw` and one `ingest` per sample (the daemon's per-scan path); otherwise
    /// `batch` samples per call of the batched API (`bulk`: through `StoreWriter.ingest`).
    /// `warm` (batched only): the same `count` samples are first stored untimed and
    /// checkpointed, and the timed run stores the next `count` (times continued): the steady
    /// state of a running essd, whose pages are resident and clean after a checkpoint.
    static func essdIngest(
        directory: String, values: [Double], count: Int, cadence: Cadence, batch: Int? = nil,
        work: IngestWork = .all, bulk: Bool = false, warm: Bool = false
    ) throws -> IngestRun {
        let writer = try StoreWriter(
            directory: directory, siteID: "bench", schemas: [series], tiers: tiers, pollIntervalsMS: ["bess1": 1000],
            nowMS: t0MS, logger: logger)
        var consolidator = SeriesConsolidator(schema: series, tiers: tiers)
        let destination = try writer.destination(group: series.groupID, tiers: consolidator.tiers)
        var checkpoints = 0
        let clock = ContinuousClock()
        var lastCheckpoint = clock.now
        func due(samplesDone: Int, newlyDone: Int) -> Bool {
            switch cadence {
            case .everySamples(let n):
                return samplesDone / n != (samplesDone - newlyDone) / n
            case .wallClock(let intervalMS):
                let now = clock.now
                guard now - lastCheckpoint >= .milliseconds(intervalMS) else { return false }
                lastCheckpoint = now
                return true
            }
        }
        // The batches are cut before the clock starts (as librrd's "t:v" strings are formatted).
        var batches: [(times: [Int64], values: [Double], qualities: [PointQuality])] = []
        if let batch {
            var done = 0
            while done < count {
                let n = min(batch, count - done)
                batches.append(
                    (
                        (done..<(done + n)).map { t0MS + Int64($0) * 1000 }, Array(values[done..<(done + n)]),
                        [PointQuality](repeating: .ok, count: n)
                    ))
                done += n
            }
        }
        var checkpointSeconds = 0.0
        func checkpoint(_ nowMS: Int64) throws {
            let before = clock.now
            try writer.checkpoint(nowMS: nowMS)
            checkpointSeconds += seconds(clock.now - before)
            checkpoints += 1
        }
        func store(_ batchTimes: [Int64], _ batchValues: [Double], _ batchQualities: [PointQuality]) throws {
            if bulk {
                // StoreWriter.ingest: raw rows and consolidation in one call.
                try writer.ingest(
                    group: "bess1", timestampsMS: batchTimes, values: batchValues, qualities: batchQualities,
                    into: &consolidator, destination: destination)
                return
            }
            if work == .all || work == .rawOnly {
                try writer.appendRaw(
                    group: "bess1", timestampsMS: batchTimes, values: batchValues, qualities: batchQualities)
            }
            if work != .rawOnly {
                var failure: StoreError?
                consolidator.ingest(timestampsMS: batchTimes, values: batchValues, qualities: batchQualities) {
                    (slot: borrowing ClosedSlot) in
                    guard work == .all || work == .tiersOnly, failure == nil else { return }
                    do throws(StoreError) { try writer.write(slot, to: destination) } catch { failure = error }
                }
                if let failure { throw failure }
            }
        }
        var firstMS = t0MS
        if warm, batch != nil {
            for (batchTimes, batchValues, batchQualities) in batches { try store(batchTimes, batchValues, batchQualities) }
            try writer.checkpoint(nowMS: t0MS + Int64(count - 1) * 1000)
            let shift = Int64(count) * 1000
            batches = batches.map { ($0.times.map { $0 + shift }, $0.values, $0.qualities) }
            firstMS += shift
        }
        let faultsBefore = pageFaultsSoFar()
        let start = clock.now
        lastCheckpoint = start
        if batch != nil {
            var done = 0
            for (batchTimes, batchValues, batchQualities) in batches {
                let n = batchTimes.count
                try store(batchTimes, batchValues, batchQualities)
                done += n
                if due(samplesDone: done, newlyDone: n) { try checkpoint(firstMS + Int64(done - 1) * 1000) }
            }
        } else {
            var sample = [0.0]
            let qualities: [PointQuality] = [.ok]
            let checkEvery: Int
            switch cadence {
            case .everySamples: checkEvery = 1
            case .wallClock: checkEvery = 1024
            }
            for i in 0..<count {
                let t = t0MS + Int64(i) * 1000
                sample[0] = values[i]
                if work == .all || work == .rawOnly {
                    try writer.appendRaw(group: "bess1", timestampMS: t, values: sample, qualities: qualities)
                }
                if work != .rawOnly {
                    var failure: StoreError?
                    consolidator.ingest(timestampMS: t, values: sample, qualities: qualities) { (slot: borrowing ClosedSlot) in
                        guard work == .all || work == .tiersOnly, failure == nil else { return }
                        do throws(StoreError) { try writer.write(slot, to: destination) } catch { failure = error }
                    }
                    if let failure { throw failure }
                }
                if (i + 1) % checkEvery == 0, due(samplesDone: i + 1, newlyDone: checkEvery) { try checkpoint(t) }
            }
        }
        try checkpoint(firstMS + Int64(count - 1) * 1000)
        let elapsed = seconds(clock.now - start)
        let faults = pageFaultsSoFar() - faultsBefore
        withExtendedLifetime(consolidator) {}
        return IngestRun(
            samplesPerSecond: Double(count) / elapsed, checkpoints: checkpoints, checkpointSeconds: checkpointSeconds,
            seconds: elapsed, pageFaults: faults, samples: count)
    }

    static func rrdCreateOneSeries(_ path: String) {
        let rras = [
            "RRA:AVERAGE:0.5:1:172800", "RRA:AVERAGE:0.5:60:576000", "RRA:MIN:0.5:60:576000",
            "RRA:MAX:0.5:60:576000", "RRA:AVERAGE:0.5:3600:87600",
        ]
        withCStrings(rras) { pointers in
            check(
                essd_rrd_create(path, 1, Int(t0MS / 1000) - 1, 1, 3, pointers, Int32(rras.count)),
                "rrd_create_r \(path)")
        }
    }

    /// Best of `options.repeats` runs, each in a fresh store (the first run also pays for the
    /// page cache of a new file; every run does).
    static func best(_ options: Options, _ body: (Int) throws -> IngestRun) rethrows -> IngestRun {
        var result: IngestRun?
        for run in 0..<options.repeats {
            let r = try body(run)
            if result == nil || r.samplesPerSecond > result!.samplesPerSecond { result = r }
        }
        return result!
    }

    /// The least of `options.repeats` calls of a C floor (ns per sample), or -1 if one failed.
    static func bestFloorNS(_ options: Options, _ body: () -> Double) -> Double {
        var best = Double.infinity
        for _ in 0..<options.repeats {
            let ns = body()
            guard ns >= 0 else { return -1 }
            best = min(best, ns)
        }
        return best
    }

    static func ingestOneSeries(_ options: Options, root: String) throws -> IngestFigures {
        let values = (0..<options.samples).map(value)
        let n = options.samples
        let cadence = Cadence.wallClock(intervalMS: 5000)
        let harsh = Cadence.everySamples(options.checkpointEvery)
        let batch = options.essdBatch
        let perScan = try best(options) {
            try essdIngest(directory: root + "/ingest-\($0)", values: values, count: n, cadence: cadence)
        }
        let oneMinute = fileBytes(root + "/ingest-0/1m.tier")
        let capacity = Double(tiers[1].retentionMS / tiers[1].slotMS)
        let batched = try best(options) {
            try essdIngest(directory: root + "/ingest-b\($0)", values: values, count: n, cadence: cadence, batch: batch)
        }
        let perScanEveryN = try best(options) {
            try essdIngest(directory: root + "/ingest-n\($0)", values: values, count: n, cadence: harsh)
        }
        let batchedEveryN = try best(options) {
            try essdIngest(directory: root + "/ingest-nb\($0)", values: values, count: n, cadence: harsh, batch: batch)
        }
        let short = min(options.samples, 20_000)
        let essdEvery5 = try essdIngest(
            directory: root + "/ingest-every5", values: values, count: short, cadence: .everySamples(5))
        let rawOnly = try best(options) {
            try essdIngest(
                directory: root + "/ingest-raw\($0)", values: values, count: n, cadence: cadence, work: .rawOnly)
        }
        let consolidatorOnly = try best(options) {
            try essdIngest(
                directory: root + "/ingest-cons\($0)", values: values, count: n, cadence: cadence,
                work: .consolidatorOnly)
        }
        let rawOnlyBatched = try best(options) {
            try essdIngest(
                directory: root + "/ingest-rawb\($0)", values: values, count: n, cadence: cadence, batch: batch,
                work: .rawOnly)
        }
        let consolidatorOnlyBatched = try best(options) {
            try essdIngest(
                directory: root + "/ingest-consb\($0)", values: values, count: n, cadence: cadence, batch: batch,
                work: .consolidatorOnly)
        }

        let warm = try best(options) {
            try essdIngest(
                directory: root + "/ingest-w\($0)", values: values, count: n, cadence: cadence, batch: batch, bulk: true,
                warm: true)
        }
        let sustainedValues = (0..<options.sustainedSamples).map(value)
        let sustained = try essdIngest(
            directory: root + "/ingest-s", values: sustainedValues, count: options.sustainedSamples, cadence: cadence,
            batch: batch, bulk: true)
        let ringRows = Int(tiers[0].retentionMS / 1000)
        var floorNS = Double.infinity
        var floorCRCNS = Double.infinity
        for _ in 0..<options.repeats {
            floorNS = min(floorNS, essd_raw_floor_ns(root + "/floor", ringRows, n, 0))
            floorCRCNS = min(floorCRCNS, essd_raw_floor_ns(root + "/floor", ringRows, n, 1))
        }
        let jobFloorRawNS = bestFloorNS(options) { essd_job_floor_ns(root + "/job-floor", ringRows, n, 0) }
        let jobFloorMinimalNS = bestFloorNS(options) { essd_job_floor_ns(root + "/job-floor", ringRows, n, 1) }
        var rrdBatchedSeconds = Double.infinity
        var rrdSingleSeconds = Double.infinity
        for run in 0..<options.repeats {
            rrdCreateOneSeries(root + "/batched-\(run).rrd")
            var batchedSeconds = 0.0
            check(
                essd_rrd_ingest(
                    root + "/batched-\(run).rrd", Int(t0MS / 1000), 1, values, n, Int32(options.rrdBatch),
                    &batchedSeconds), "rrd_update_r batched")
            rrdBatchedSeconds = min(rrdBatchedSeconds, batchedSeconds)
        }
        rrdCreateOneSeries(root + "/single.rrd")
        check(
            essd_rrd_ingest(
                root + "/single.rrd", Int(t0MS / 1000), 1, values, options.onePerCall, 1, &rrdSingleSeconds),
            "rrd_update_r one per call")
        return IngestFigures(
            perScan: perScan.samplesPerSecond, batched: batched.samplesPerSecond, perScanRun: perScan,
            batchedRun: batched,
            perScanEveryN: perScanEveryN.samplesPerSecond, batchedEveryN: batchedEveryN.samplesPerSecond,
            checkpointsPerScan: perScan.checkpoints, checkpointsBatched: batched.checkpoints,
            checkpointsPerScanEveryN: perScanEveryN.checkpoints, checkpointsBatchedEveryN: batchedEveryN.checkpoints,
            essdEvery5: essdEvery5.samplesPerSecond, shortSamples: short, rawOnly: rawOnly.samplesPerSecond,
            consolidatorOnly: consolidatorOnly.samplesPerSecond, rawOnlyBatched: rawOnlyBatched.samplesPerSecond,
            consolidatorOnlyBatched: consolidatorOnlyBatched.samplesPerSecond, warm: warm, sustained: sustained,
            floorNS: floorNS, floorCRCNS: floorCRCNS, jobFloorRawNS: jobFloorRawNS,
            jobFloorMinimalNS: jobFloorMinimalNS, rrdBatched: Double(n) / rrdBatchedSeconds,
            rrdOnePerCall: Double(options.onePerCall) / rrdSingleSeconds, bytesPerSlot: Double(oneMinute) / capacity)
    }
}
