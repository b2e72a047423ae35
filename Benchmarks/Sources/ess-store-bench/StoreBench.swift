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
            for (ns, what) in [
                (ingest.jobFloorRawNS, "12-byte raw rows only, no checksum"),
                (
                    ingest.jobFloorMinimalNS,
                    "minimal job (12-byte raw rows, block CRC, Float32 1-min mean/min/max + 1-h mean,"
                        + " no time weighting/coverage/count/first/last)"
                ),
            ] {
                row(
                    "  C floor, new store, final sync timed", ns < 0 ? "n/a" : rate(1e9 / ns), "",
                    ns < 0
                        ? "\(what): unavailable (no SSE4.2 or a file error)"
                        : String(format: "%.2f ns/sample, %.1f× librrd b: %@", ns, 1e9 / ns / b, what))
            }
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
                + " checkpoint = msync(MS_SYNC) + fsync of each tier file written since the previous one + the checkpoint file (temp, fsync, rename, dir fsync),"
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
                + " C floor, new store = a C loop doing less than the issue asks, into new files (created, unlinked,"
                + " posix_fallocate, mapped shared, no page touched before timing), the final msync(MS_SYNC) + fdatasync"
                + " of every file timed, ring of the raw region's rows: 12-byte rows (UInt32 ms offset + Float64) alone;"
                + " or those rows + a CRC32C per 64-row block (side file) + 1m slots (Float32 mean/min/max + CRC32C,"
                + " 16 bytes, 576,000) + 1h slots (Float32 mean + CRC32C, 16 bytes, 87,600), plain means:"
                + " evidence of what this machine allows for the job, not a store."
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
}

/// Calls `body` with a C array of C strings valid for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { UnsafePointer(strdup($0)) }
    defer { for copy in copies { free(UnsafeMutablePointer(mutating: copy)) } }
    return copies.withUnsafeBufferPointer { body($0.baseAddress!) }
}
