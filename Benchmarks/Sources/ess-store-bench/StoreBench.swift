// ess-store-bench: essd's store (SeriesConsolidator + StoreWriter/StoreReader) side by side
// with librrd doing the same work, in one run, one table. Release build expected.
//
//   ess-store-bench [--samples 1000000] [--checkpoint-every 5000] [--rrd-batch 10000]
//                   [--essd-batch 10000] [--one-per-call 100000] [--repeats 3]
//                   [--only ingest,aggregate,bytes,memory] [--dir /tmp]
//
// Writes everything under a fresh folder in --dir and removes it at the end. The 1,000-signal
// store uses the default tiers (raw 48 h, 1m 400 d, 15m 10 y, 1d 30 y): about 17 GB reserved
// with posix_fallocate while it exists.
import CRRD
import CRawFloor
import ESSCore
import ESSStore
import Foundation
import Logging

struct Options {
    var samples = 1_000_000
    /// essd checkpoints every this many samples (5,000 = what a 1,000-signal site polled every
    /// second produces in 5 s, the daemon's checkpoint interval).
    var checkpointEvery = 5_000
    var rrdBatch = 10_000
    /// Samples per call of essd's batched API (the same as librrd's batch by default).
    var essdBatch = 10_000
    var onePerCall = 100_000
    /// Samples of the sustained batched run (a new store, checkpoints on essd's cadence).
    var sustainedSamples = 20_000_000
    /// Ingest runs per figure (best of); each in a fresh store.
    var repeats = 3
    /// Sections to run: ingest, aggregate, bytes, memory (all by default).
    var only: Set<String> = ["ingest", "aggregate", "bytes", "memory"]
    var directory = NSTemporaryDirectory()

    init(_ arguments: [String]) {
        var it = arguments.dropFirst().makeIterator()
        while let argument = it.next() {
            let value = it.next() ?? ""
            switch argument {
            case "--samples": samples = Int(value)!
            case "--checkpoint-every": checkpointEvery = Int(value)!
            case "--rrd-batch": rrdBatch = Int(value)!
            case "--essd-batch": essdBatch = Int(value)!
            case "--repeats": repeats = Int(value)!
            case "--only": only = Set(value.split(separator: ",").map(String.init))
            case "--one-per-call": onePerCall = Int(value)!
            case "--sustained-samples": sustainedSamples = Int(value)!
            case "--dir": directory = value
            default: fatalError("unknown option \(argument)")
            }
        }
    }
}

/// Resident memory from /proc/self/status, in KiB.
struct Resident {
    var rssKiB = 0
    var anonKiB = 0
    var fileKiB = 0

    static func now() -> Resident {
        var result = Resident()
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kib = Int(fields[1]) else { continue }
            switch fields[0] {
            case "VmRSS:": result.rssKiB = kib
            case "RssAnon:": result.anonKiB = kib
            case "RssFile:": result.fileKiB = kib
            default: break
            }
        }
        return result
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func fileBytes(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? -1
}

func rate(_ perSecond: Double) -> String {
    perSecond >= 1e6 ? String(format: "%.2f M/s", perSecond / 1e6) : String(format: "%.1f k/s", perSecond / 1e3)
}

func row(_ name: String, _ essd: String, _ rrd: String, _ target: String) {
    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
    print(pad(name, 46) + pad(essd, 20) + pad(rrd, 20) + target)
}

func check(_ status: Int32, _ what: String) {
    guard status == 0 else { fatalError("\(what): \(String(cString: essd_rrd_error()))") }
}

/// The value at sample `i` (kW-like, smooth with a little noise): the same for essd and librrd.
func value(_ i: Int) -> Double { 50 + 40 * sin(Double(i) / 900) + Double(i % 7) * 0.1 }

@main
struct StoreBench {
    static let logger = Logger(label: "ess-store-bench", factory: { _ in SwiftLogNoOpLogHandler() })
    /// An hour boundary in November 2023, UTC.
    static let t0MS: Int64 = 1_700_000_000_000 / 3_600_000 * 3_600_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
    /// The one series' tiers: raw 48 h, 1m 400 days, 1h 10 years (librrd: the same RRAs).
    static let tiers = [
        TierDefinition(name: "raw", slotMS: 0, retentionMS: 48 * hour),
        TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 400 * day),
        TierDefinition(name: "1h", slotMS: hour, retentionMS: 3650 * day),
    ]

    static func main() throws {
        let options = Options(CommandLine.arguments)
        let root = (options.directory as NSString).appendingPathComponent("ess-store-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        print("ess-store-bench  \(ProcessInfo.processInfo.activeProcessorCount) cores, scratch \(root)")
        if options.only == ["profile-consolidator"] {
            profileConsolidator(options)
            return
        }
        if options.only == ["profile-write"] {
            try profileSlotWrites(options, directory: root + "/write")
            return
        }
        if let mode = options.only.first, options.only.count == 1,
            ["profile-batched", "profile-scan", "profile-raw", "profile-tiers", "profile-bulk"].contains(mode)
        {
            let values = (0..<options.samples).map(value)
            let run = try essdIngest(
                directory: root + "/profile", values: values, count: options.samples,
                cadence: .wallClock(intervalMS: 5000),
                batch: mode == "profile-scan" ? nil : options.essdBatch, work: mode == "profile-raw" ? .rawOnly : mode == "profile-tiers" ? .tiersOnly : .all,
                bulk: mode == "profile-bulk")
            print(
                "\(options.only.first!): \(rate(run.samplesPerSecond)), \(run.checkpoints) checkpoints"
                    + String(format: " (%.2f ms)", run.checkpointSeconds * 1e3) + ", \(run.pageFaults) page faults,"
                    + String(
                        format: " %.2f ns/sample outside checkpoints",
                        (run.seconds - run.checkpointSeconds) / Double(options.samples) * 1e9))
            return
        }
        // First, in a process that has done nothing else yet: memory of a 1,000-signal store.
        let memory = options.only.contains("memory") ? try memoryOf1000Signals(root: root + "/site1000") : nil
        let ingest = options.only.contains("ingest") ? try ingestOneSeries(options, root: root) : nil
        let aggregate = options.only.contains("aggregate") ? try aggregateOneYear(root: root) : nil
        let rrdBytes = options.only.contains("bytes") ? try rrdBytesPerSlot(root: root) : nil

        print("")
        row("measure", "essd", "librrd", "target")
        if let ingest {
            let b = ingest.rrdBatched
            row(
                "ingest, \(options.samples) samples, samples/s", "", rate(b) + " b",
                "librrd batched (\(options.rrdBatch) per call)")
            row("  librrd one update per call (\(options.onePerCall))", "", rate(ingest.rrdOnePerCall), "")
            row(
                "  essd per-scan path (1 sample per call)", rate(ingest.perScan), "",
                String(
                    format: "%.1f× librrd b, %.0f× one/call", ingest.perScan / b, ingest.perScan / ingest.rrdOnePerCall)
            )
            row(
                "  essd batched path (\(options.essdBatch) per call)", rate(ingest.batched), "",
                String(format: "%.1f× librrd b (target ≥ 50×)", ingest.batched / b))
            row(
                "  essd batched, warm store (steady state)", rate(ingest.warm.samplesPerSecond), "",
                String(format: "%.1f× librrd b (target ≥ 50×)", ingest.warm.samplesPerSecond / b))
            row(
                "  essd batched, sustained \(options.sustainedSamples / 1_000_000) M samples", rate(ingest.sustained.samplesPerSecond),
                "", String(format: "%.1f× librrd b (target ≥ 50×)", ingest.sustained.samplesPerSecond / b))
            row(
                "  floor: raw rows alone (C loop, warm ring)",
                String(format: "%.2f / %.2f ns", ingest.floorNS, ingest.floorCRCNS), "",
                String(
                    format: "no checksum / CRC32C per row: at most %.0f× / %.0f× librrd b with nothing else",
                    1e9 / ingest.floorNS / b, 1e9 / ingest.floorCRCNS / b))
            for (name, run) in [
                ("per-scan", ingest.perScanRun), ("batched", ingest.batchedRun), ("warm", ingest.warm),
                ("sustained", ingest.sustained),
            ] {
                let rest = run.seconds - run.checkpointSeconds
                row(
                    "    \(name): time in checkpoints / page faults",
                    String(format: "%.2f ms", run.checkpointSeconds * 1e3),
                    "\(run.pageFaults) faults",
                    String(
                        format: "rest %.2f ms = %.2f ns/sample (%@ without checkpoints)", rest * 1e3,
                        rest / Double(run.samples) * 1e9, rate(Double(run.samples) / rest)))
            }
            row(
                "  checkpoints (essd cadence, 5 s wall clock + final)",
                "\(ingest.checkpointsPerScan) / \(ingest.checkpointsBatched)", "",
                "per-scan / batched runs")
            row(
                "  harsher: checkpoint every \(options.checkpointEvery) samples, per-scan", rate(ingest.perScanEveryN),
                "",
                String(
                    format: "%.1f× librrd b, %d checkpoints", ingest.perScanEveryN / b, ingest.checkpointsPerScanEveryN)
            )
            row(
                "  harsher: the same, batched (≤ 1 per call)", rate(ingest.batchedEveryN), "",
                String(
                    format: "%.1f× librrd b, %d checkpoints", ingest.batchedEveryN / b, ingest.checkpointsBatchedEveryN)
            )
            row(
                "  harshest: checkpoint every 5 samples (\(ingest.shortSamples))", rate(ingest.essdEvery5), "",
                String(format: "%.2f× librrd b", ingest.essdEvery5 / b))
            row(
                "  essd, StoreWriter.appendRaw alone, per-scan / batched", rate(ingest.rawOnly), "",
                rate(ingest.rawOnlyBatched))
            row(
                "  essd, SeriesConsolidator.ingest alone, per-scan / batched", rate(ingest.consolidatorOnly), "",
                rate(ingest.consolidatorOnlyBatched))
        }
        if let aggregate {
            row(
                "aggregate 1 year of 1m slots, ms (median)", String(format: "%.3f", aggregate.essdMS * 1e3),
                String(format: "%.3f", aggregate.rrdMS * 1e3), "≤ 1 ms")
            row(
                "  slots read (tiers 1m + 1h)", "\(aggregate.essdSlotsRead)", "\(aggregate.rrdRows) rows", "")
            row(
                "  essd with the 1m tier only, ms (median)", String(format: "%.3f", aggregate.essdOnly1mMS * 1e3), "",
                "\(aggregate.essdOnly1mSlotsRead) slots read")
            row(
                "  mean over the year", String(format: "%.4f", aggregate.essdMean),
                String(format: "%.4f", aggregate.rrdMean),
                "")
        }
        if let ingest, let rrdBytes {
            row(
                "bytes per 1m slot per signal, 1 signal", String(format: "%.2f", ingest.bytesPerSlot),
                String(format: "%.2f", rrdBytes.oneSignal), "≤ 16")
        }
        if let memory {
            row(
                "  1,000 signals (25 × 40, energy on)", String(format: "%.3f", memory.bytesPerSlot),
                rrdBytes.map { String(format: "%.3f", $0.thousandSignals) } ?? "", "≤ 16")
            row(
                "memory, store open for 1,000 signals: RSS", "\(memory.after.rssKiB / 1024) MiB", "",
                "+\((memory.after.rssKiB - memory.before.rssKiB) / 1024) MiB from process start")
            row(
                "  anonymous RSS (RssAnon)", "\(memory.after.anonKiB / 1024) MiB", "",
                "+\((memory.after.anonKiB - memory.before.anonKiB) / 1024) MiB from process start")
            row("  file-backed RSS (RssFile)", "\(memory.after.fileKiB / 1024) MiB", "", "mapped tier pages touched")
        }
        print("")
        print(
            "ingest: one series, raw 48 h + 1m (avg/min/max…) 400 d + 1h 10 y, \(options.samples) samples 1 s apart, values"
                + " computed before timing; best of \(options.repeats) runs, each into a new store."
                + " essd per-scan = StoreWriter.appendRaw + SeriesConsolidator.ingest per sample, StoreWriter.write per closed slot;"
                + " batched = the same through appendRaw(group:timestampsMS:values:qualities:) and"
                + " ingest(timestampsMS:values:qualities:), \(options.essdBatch) samples per call (batch arrays built before timing);"
                + " checkpoint = msync(MS_SYNC) + fsync of each tier + the checkpoint file (temp, fsync, rename, dir fsync),"
                + " on essd's cadence (every 5 s of wall clock, [store] checkpoint_interval_ms, plus a final one, timed) unless"
                + " marked harsher; librrd = rrd_update_r, b = \(options.rrdBatch) \"t:v\" per call (strings formatted before"
                + " timing), no fsync. CRC32C: \(CRC32C.usesHardware ? "CPU instruction" : "tables")."
                + " Breakdown rows: time inside checkpoint calls; page faults (getrusage) in the timed region, nearly all"
                + " first writes to the new store's mapped pages (nothing is prefaulted: essd does not prefault at open);"
                + " rest = everything else in the timed region."
                + " Warm store = StoreWriter.ingest (raw rows and consolidation in one call, \(options.essdBatch) per call) of"
                + " samples following a first \(options.samples) already stored and checkpointed (pages resident and clean:"
                + " each page written again takes one write-protect fault after a checkpoint); sustained = the same call,"
                + " \(options.sustainedSamples) samples into a new store. Floor = a C loop writing rows of the raw tier's"
                + " shape (25 bytes) round a warm MAP_SHARED ring of the raw region's size, nothing else: the rate it allows"
                + " is the most any store keeping these raw rows could reach here."
        )
        print(
            "aggregate: StoreReader.aggregate over 525,600 min of a store filled by SeriesConsolidator (1 sample/min, 366 d);"
                + " librrd = rrd_fetch_r(AVERAGE, step 60) + sum of the values, same data.")
        print(
            "bytes: file size / slots / signals of the 1m tier file (essd: 1 signal 400 d; 1,000 signals default tiers, 400 d);"
                + " librrd: a file with only the 1m AVERAGE/MIN/MAX RRAs (1 signal 400 d; 1,000 signals 1 d of rows).")
        if let memory {
            print(
                "memory: 25 devices × 40 signals, default tiers (files \(memory.storeBytes / 1_000_000) MB), 1 h of 1 s scans"
                    + " through 25 consolidators and the writer, checkpoint every 5 s of data; /proc/self/status after."
            )
        }
    }

    // MARK: ingest

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
            floorNS: floorNS, floorCRCNS: floorCRCNS, rrdBatched: Double(n) / rrdBatchedSeconds,
            rrdOnePerCall: Double(options.onePerCall) / rrdSingleSeconds, bytesPerSlot: Double(oneMinute) / capacity)
    }

    // MARK: aggregate

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

/// Calls `body` with a C array of C strings valid for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { UnsafePointer(strdup($0)) }
    defer { for copy in copies { free(UnsafeMutablePointer(mutating: copy)) } }
    return copies.withUnsafeBufferPointer { body($0.baseAddress!) }
}
