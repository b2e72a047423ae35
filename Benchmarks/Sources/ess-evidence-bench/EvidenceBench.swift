import ESSCore
import ESSCriteria
import ESSEvidence
import ESSSimulator
import ESSStore
import Foundation
import Logging

/// Issue 5, "How we will know", benchmarks (release, printed, not timed tests):
/// - indicators over one year of 1-min data for a 16-signal site ≤ 100 ms;
/// - export of one year at 15 min ≤ 2 s, peak memory independent of window length
///   (RSS printed for 1 month and 1 year).
///
/// The year is built the way FixtureYearEndToEndTests builds it (a copy of its plant model):
/// one `SeriesConsolidator` per group, `SiteAggregator` for the site group, `StoreWriter` for
/// the slots. The site has 16 device signals: a PCS with 9 points and a BMS with 7.
///
/// - import of a year: peak RSS within 10 % of the dry run's (issue 12; `ImportBench`, run
///   when `--essctl` names a release essctl: scripts/bench-evidence.sh builds and passes one).
///
///   ess-evidence-bench [--dir /tmp] [--keep] [--essctl PATH]
///   ess-evidence-bench export-child <store-dir> <fromMS> <toMS> <out-dir>   (internal: one window per process)
@main
struct EvidenceBench {
    static let dayMS: Int64 = 86_400_000
    static let minuteMS: Int64 = 60_000
    /// 2025-01-01T00:00:00+08:00.
    static let yearStartMS: Int64 = 1_735_660_800_000
    static let yearEndMS: Int64 = yearStartMS + 365 * dayMS
    /// 2025-02-01T00:00:00+08:00.
    static let monthEndMS: Int64 = yearStartMS + 31 * dayMS
    static let outageDay: Int64 = 100

    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "export-child" {
            try exportChild(Array(args.dropFirst()))
            return
        }
        var base = NSTemporaryDirectory()
        var keep = false
        var essctl: String?
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--dir":
                i += 1
                base = args[i]
            case "--keep": keep = true
            case "--essctl":
                i += 1
                essctl = args[i]
            default:
                FileHandle.standardError.write(
                    "usage: ess-evidence-bench [--dir /tmp] [--keep] [--essctl PATH]\n".data(using: .utf8)!)
                exit(64)
            }
            i += 1
        }
        let work = (base as NSString).appendingPathComponent("ess-evidence-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: work) } }
        let state = work + "/state"
        let site = makeSite(stateDirectory: state)
        let deviceSignals = site.devices.reduce(0) { $0 + $1.profile.points.count }

        // 1. The store: a year at 1 min.
        var clock = ContinuousClock.now
        let minutes = try importYear(site: site)
        let importS = seconds(ContinuousClock.now - clock)
        print(
            "store: \(minutes) minutes × \(site.seriesSchemas.count) groups (\(deviceSignals) device signals + site group) built in \(fmt(importS, 1)) s under \(work)"
        )

        // 2. Indicators over the year at 1 min.
        let reader = try StoreReader(directory: state)
        clock = ContinuousClock.now
        let input = try indicatorInput(site: site, reader: reader, tier: "1m", fromMS: yearStartMS, toMS: yearEndMS)
        let readMS = seconds(ContinuousClock.now - clock) * 1000
        let slotTotal = ([input.site] + input.devices).reduce(0) { $0 + $1.slots.count }
        print("indicator input: \(slotTotal) slots of 1 min (\(input.slotCount) per group) read from the store in \(fmt(readMS, 1)) ms")
        let tariff = BuiltInTariffs.calendar(id: "guangdong-2021")
        var report: IndicatorReport?
        var touchedMS: Int64 = 0
        var computeTimes: [Double] = []
        var computeCPUTimes: [Double] = []
        var referenceTimes: [Double] = []
        var touchTimes: [Double] = []
        var referenceValue = 0.0
        for _ in 0..<5 {
            var t = ContinuousClock.now
            let cpu = threadCPUMS()
            report = Indicators.compute(input, tariff: tariff)
            computeTimes.append(seconds(ContinuousClock.now - t) * 1000)
            computeCPUTimes.append(threadCPUMS() - cpu)
            t = ContinuousClock.now
            referenceValue = reference(input)
            referenceTimes.append(seconds(ContinuousClock.now - t) * 1000)
            t = ContinuousClock.now
            touchedMS = touchEverySummary(input)
            touchTimes.append(seconds(ContinuousClock.now - t) * 1000)
        }
        let computeMS = median(computeTimes)
        let referenceMS = median(referenceTimes)
        if let report {
            let shown = ["energy.charge", "energy.discharge", "efficiency"]
            let values = report.values.filter { v in shown.contains { v.id.contains($0) } }.prefix(4)
            print(
                "indicators: \(report.values.count) values; "
                    + values.map { "\($0.id)=\(fmt($0.value, 2))" }.joined(separator: " ")
                    + "; reference sum E_c+E_d=\(fmt(referenceValue, 1)) kWh")
        }
        print("  compute runs (ms): \(computeTimes.map { fmt($0, 1) }.joined(separator: " "))")
        print("  compute runs, thread CPU time (ms): \(computeCPUTimes.map { fmt($0, 1) }.joined(separator: " ")) (wall time above includes waiting for a core on a busy machine)")
        print("  reference runs (ms): \(referenceTimes.map { fmt($0, 2) }.joined(separator: " "))")
        print("  every summary's coveredMS summed, all groups (ms): \(touchTimes.map { fmt($0, 1) }.joined(separator: " ")) (the memory floor: completeness reads every summary; Σ = \(touchedMS))")

        // 2b. The same year streamed from the store a day at a time, as essctl kpi/check do
        // (store reads included), and checked against the in-memory report.
        clock = ContinuousClock.now
        let source = StoreIndicatorReader(reader: reader, tier: reader.tiers.first { $0.name == "1m" }!, meterDeviceID: nil)
        let shape = try source.shape(facts: site.site, fromMS: yearStartMS, toMS: yearEndMS, offsets: input.offsets)
        let streamed = try source.report(shape, tariff: tariff)
        let streamedMS = seconds(ContinuousClock.now - clock) * 1000
        let agrees = report.map { whole in
            zip(whole.values, streamed.values).allSatisfy { $0.id == $1.id && ($0.value == $1.value || ($0.value.isNaN && $1.value.isNaN)) }
                && whole.values.count == streamed.values.count
        } ?? false
        print("streamed from the store (1 day per read): \(fmt(streamedMS, 1)) ms; equals the in-memory report: \(agrees)")

        // 3. Export at 15 min, each window in a fresh child process (its own VmHWM).
        let month = try runChild(state: state, fromMS: yearStartMS, toMS: monthEndMS, out: work + "/bundle-month")
        let year = try runChild(state: state, fromMS: yearStartMS, toMS: yearEndMS, out: work + "/bundle-year")
        for (name, r) in [("1 month", month), ("1 year", year)] {
            print("  export \(name): \(r.intervals) intervals, \(fmt(r.seconds, 3)) s, VmHWM \(r.hwmKB / 1024) MiB, VmRSS at end \(r.rssKB / 1024) MiB (process baseline VmHWM \(r.baselineHWMKB / 1024) MiB)")
        }
        print("  peak RSS side by side: 1 month \(month.hwmKB / 1024) MiB | 1 year \(year.hwmKB / 1024) MiB")
        print("  at the end, anonymous (heap) | file-backed (mapped store files, libraries): 1 month \(month.anonKB / 1024) | \(month.fileKB / 1024) MiB; 1 year \(year.anonKB / 1024) | \(year.fileKB / 1024) MiB")

        // 3b. Import of a year with the real essctl: dry run and import, each in a child process.
        var imported: ImportBench.Result?
        if let essctl {
            let r = try ImportBench.run(essctl: essctl, work: work)
            ImportBench.printRuns(r)
            imported = r
        } else {
            print("  import: skipped (no --essctl PATH; scripts/bench-evidence.sh passes a release essctl)")
        }

        // 4. The table.
        let growthKB = year.hwmKB - month.hwmKB
        let exportGrowthYear = year.hwmKB - year.baselineHWMKB
        let exportGrowthMonth = month.hwmKB - month.baselineHWMKB
        print("")
        print("ess-evidence-bench (release, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        row("measure", "essd", "reference / note", "target", "ok")
        row(String(repeating: "-", count: 44), String(repeating: "-", count: 14), String(repeating: "-", count: 34), String(repeating: "-", count: 14), "--")
        row("Indicators.compute, 1 year @1 min (median 5)", "\(fmt(computeMS, 1)) ms", "energy-sum loop \(fmt(referenceMS, 2)) ms", "≤ 100 ms", computeMS <= 100 ? "yes" : "NO")
        row("  the same, thread CPU time (median 5)", "\(fmt(median(computeCPUTimes), 1)) ms", "load average \(loadAverage())", "", "")
        row("  reading every summary once (median 5)", "\(fmt(median(touchTimes), 1)) ms", "memory floor for completeness", "", "")
        row("  reading the year's slots from the store", "\(fmt(readMS, 1)) ms", "(not part of the target)", "-", "")
        row("  streamed: store read + accumulate, 1 day/read", "\(fmt(streamedMS, 1)) ms", agrees ? "same report as in memory" : "DIFFERS", "-", "")
        row("export 1 month @15 min", "\(fmt(month.seconds, 3)) s", "\(month.intervals) intervals", "-", "")
        row("export 1 year @15 min", "\(fmt(year.seconds, 3)) s", "\(year.intervals) intervals", "≤ 2 s", year.seconds <= 2 ? "yes" : "NO")
        row("peak RSS (VmHWM), export 1 month", "\(month.hwmKB / 1024) MiB", "+\(exportGrowthMonth / 1024) MiB over start", "-", "")
        row("peak RSS (VmHWM), export 1 year", "\(year.hwmKB / 1024) MiB", "+\(exportGrowthYear / 1024) MiB over start", "≈ month", "")
        let independent = growthKB <= max(16 * 1024, month.hwmKB / 4)
        row("peak growth 1 month → 1 year (12× window)", "\(growthKB / 1024) MiB", "\(growthKB) KiB", "independent", independent ? "yes" : "NO")
        row("  of which heap (RssAnon at end)", "\((year.anonKB - month.anonKB) / 1024) MiB", "1 month \(month.anonKB / 1024), 1 year \(year.anonKB / 1024) MiB", "", "")
        row("  of which mapped files (RssFile at end)", "\((year.fileKB - month.fileKB) / 1024) MiB", "1 month \(month.fileKB / 1024), 1 year \(year.fileKB / 1024) MiB", "", "")
        if let imported { ImportBench.report(imported, row: row) }
    }

    // MARK: the reference

    /// The same slots, the plainest loop: sum the energy fields of every energy group's slots.
    static func reference(_ input: IndicatorInput) -> Double {
        var sum = 0.0
        for group in input.energyGroups {
            for slot in group.slots where slot.startMS >= input.windowStartMS && slot.startMS < input.windowEndMS {
                if let e = slot.energy {
                    if e.integratedChargeKWh.isFinite { sum += e.integratedChargeKWh }
                    if e.integratedDischargeKWh.isFinite { sum += e.integratedDischargeKWh }
                }
            }
        }
        return sum
    }

    /// Every group's every slot's every summary read once (its covered time summed): what any
    /// computation that reports completeness per signal must at least read.
    static func touchEverySummary(_ input: IndicatorInput) -> Int64 {
        var sum: Int64 = 0
        for group in [input.site] + input.devices {
            group.slots.withUnsafeBufferPointer { slots in
                for k in slots.indices {
                    let n = slots[k].signals.count
                    for s in 0..<n { sum &+= slots[k].signals[s].coveredMS }
                }
            }
        }
        return sum
    }

    // MARK: export in a child process

    struct ChildResult {
        var intervals: Int
        var seconds: Double
        var hwmKB: Int
        var rssKB: Int
        var baselineHWMKB: Int
        /// At the end: anonymous (heap, stacks) and file-backed (the store's mapped tier files, libraries) resident memory.
        var anonKB: Int
        var fileKB: Int
    }

    static func runChild(state: String, fromMS: Int64, toMS: Int64, out: String) throws -> ChildResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.fileExists(atPath: process.executableURL!.path) {
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        }
        process.arguments = ["export-child", state, "\(fromMS)", "\(toMS)", out]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw BenchError("export child failed (\(process.terminationStatus)): \(text)")
        }
        var fields: [String: String] = [:]
        for part in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard let n = fields["intervals"].flatMap(Int.init), let s = fields["seconds"].flatMap(Double.init),
            let hwm = fields["hwm_kb"].flatMap(Int.init), let rss = fields["rss_kb"].flatMap(Int.init),
            let base = fields["baseline_hwm_kb"].flatMap(Int.init), let anon = fields["anon_kb"].flatMap(Int.init),
            let file = fields["file_kb"].flatMap(Int.init)
        else { throw BenchError("export child printed: \(text)") }
        return ChildResult(intervals: n, seconds: s, hwmKB: hwm, rssKB: rss, baselineHWMKB: base, anonKB: anon, fileKB: file)
    }

    static func exportChild(_ args: [String]) throws {
        guard args.count == 4, let fromMS = Int64(args[1]), let toMS = Int64(args[2]) else {
            throw BenchError("export-child <store-dir> <fromMS> <toMS> <out-dir>")
        }
        let site = makeSite(stateDirectory: args[0])
        let reader = try StoreReader(directory: args[0])
        let baseline = procStatus("VmHWM")
        let t = ContinuousClock.now
        let export = try EvidenceExporter.export(
            site: site, reader: reader, policy: BuiltInPolicies.gbt36549, fromMS: fromMS, toMS: toMS, intervalMS: 900_000,
            outDirectory: args[3], essdVersion: "bench", generatedAtMS: yearEndMS)
        let s = seconds(ContinuousClock.now - t)
        let rows = export.manifest.files.first { $0.name == EvidenceExporter.intervalsFile }?.rows ?? -1
        print("intervals=\(rows) seconds=\(s) hwm_kb=\(procStatus("VmHWM")) rss_kb=\(procStatus("VmRSS")) baseline_hwm_kb=\(baseline) anon_kb=\(procStatus("RssAnon")) file_kb=\(procStatus("RssFile"))")
    }

    /// A field of /proc/self/status in kB (0 where there is none).
    static func procStatus(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
        }
        return 0
    }

    // MARK: indicator input (as essctl's IndicatorInputBuilder reads it)

    static func indicatorInput(site: SiteConfiguration, reader: StoreReader, tier: String, fromMS: Int64, toMS: Int64) throws -> IndicatorInput {
        func series(_ schema: SeriesSchema) throws -> GroupSeries {
            var slots: [ConsolidatedSlot] = []
            for stored in try reader.slots(tier: tier, group: schema.groupID, fromMS: fromMS, toMS: toMS) {
                if let slot = stored.slot { slots.append(slot) }
            }
            return GroupSeries(schema: schema, slots: slots, tier: tier)
        }
        let siteSchema = reader.schemas.first { $0.groupID == "site" }!
        let deviceSchemas = reader.schemas.filter { $0.groupID != "site" }
        let offsets = UTCOffsetTable(timeZoneIdentifier: site.site.timeZone, fromUTCMS: fromMS, toUTCMS: toMS) ?? .chinaStandardTime
        let slotMS = reader.tiers.first { $0.name == tier }!.slotMS
        return IndicatorInput(
            windowStartMS: fromMS, windowEndMS: toMS, slotMS: slotMS, facts: site.site, site: try series(siteSchema),
            devices: try deviceSchemas.map(series), offsets: offsets)
    }

    // MARK: the site (16 device signals)

    static let tiers = [
        TierDefinition(name: "raw", slotMS: 0, retentionMS: dayMS),
        TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 400 * dayMS),
        TierDefinition(name: "15m", slotMS: 900_000, retentionMS: 400 * dayMS),
        TierDefinition(name: "1d", slotMS: dayMS, retentionMS: 1095 * dayMS),
    ]

    static func makeSite(stateDirectory: String) -> SiteConfiguration {
        func points(_ list: [(String, SignalRole)]) -> [PointDefinition] {
            list.enumerated().map { i, p in PointDefinition(name: p.0, role: p.1, address: 2 * i, type: .float32) }
        }
        let pcs = RegisterProfile(
            name: "bench-pcs",
            points: points([
                ("active_power", .activePowerKW), ("reactive_power", .reactivePowerKVAr),
                ("charge_energy_total", .chargeEnergyTotalKWh), ("discharge_energy_total", .dischargeEnergyTotalKWh),
                ("dc_voltage", .dcVoltageV), ("dc_current", .dcCurrentA), ("available", .available), ("fault", .fault),
                ("alarm_word", .alarmWord),
            ]))
        let bms = RegisterProfile(
            name: "bench-bms",
            points: points([
                ("soc", .socPercent), ("soh", .sohPercent), ("cell_temp_max", .cellTempMaxC), ("cell_temp_min", .cellTempMinC),
                ("cell_voltage_max", .cellVoltageMaxV), ("cell_voltage_min", .cellVoltageMinV), ("cycle_count", .cycleCount),
            ]))
        let facts = SiteFacts(
            id: "bench-year", name: "bench year plant", province: "guangdong", ratedPowerKW: 100, ratedEnergyKWh: 200,
            technologyRoute: "lithium_iron_phosphate", locationCategory: "industrial_plant", totalInvestmentCNY: 1_000_000,
            commissioningDate: "2024-06-30", timeZone: "Asia/Shanghai")
        return SiteConfiguration(
            site: facts, stateDirectory: stateDirectory,
            devices: [
                DeviceDefinition(id: "pcs1", transport: .tcp(host: "127.0.0.1", port: 1502), unitID: 1, profile: pcs, pollIntervalMS: 60_000),
                DeviceDefinition(
                    id: "bms1", transport: .tcp(host: "127.0.0.1", port: 1502), unitID: 2, profile: bms, pollIntervalMS: 60_000,
                    ratedEnergyKWh: 200),
            ],
            store: StoreSettings(tiers: tiers), daemon: DaemonSettings(metricsPort: nil))
    }

    /// Fills the store of `site` with the year. Returns the number of minutes sampled.
    static func importYear(site: SiteConfiguration) throws -> Int {
        let schemas = site.seriesSchemas
        let writer = try StoreWriter(
            directory: site.stateDirectory, siteID: site.site.id, schemas: schemas, tiers: site.store.tiers,
            pollIntervalsMS: site.seriesPollIntervalsMS, rawBudgetBytes: site.store.rawBudgetBytes,
            nowMS: yearEndMS, logger: Logger(label: "ess-evidence-bench"))
        var consolidators = schemas.map { SeriesConsolidator(schema: $0, tiers: site.store.tiers) }
        var aggregator = SiteAggregator(devices: site.devices, meterDeviceID: site.store.meterDeviceID, tiers: site.store.tiers)
        var writeError: (any Error)?
        func write(_ slot: ConsolidatedSlot) {
            do { _ = try writer.write(slot) } catch { writeError = error }
        }
        let groups = Dictionary(uniqueKeysWithValues: schemas.enumerated().map { ($1.groupID, $0) })
        let pcs = site.devices[0]
        let bms = site.devices[1]
        func index(_ device: DeviceDefinition, _ name: String) -> Int { device.profile.pointIndex(named: name)! }
        var plant = DailyCyclePlant(startMS: yearStartMS)
        var minutes = 0
        var heldBack = 0
        var t = yearStartMS
        while t < yearEndMS {
            defer { t += minuteMS }
            if (t - yearStartMS) / dayMS == outageDay { continue }
            minutes += 1
            let (p, soc) = plant.step(to: t)

            var pv = [Double](repeating: .nan, count: pcs.profile.points.count)
            var bv = [Double](repeating: .nan, count: bms.profile.points.count)
            let dcVoltage = 700 + soc
            pv[index(pcs, "active_power")] = p
            pv[index(pcs, "reactive_power")] = 0
            pv[index(pcs, "charge_energy_total")] = plant.chargeTotalKWh
            pv[index(pcs, "discharge_energy_total")] = plant.dischargeTotalKWh
            pv[index(pcs, "dc_voltage")] = dcVoltage
            pv[index(pcs, "dc_current")] = p * 1000 / dcVoltage
            pv[index(pcs, "available")] = 1
            pv[index(pcs, "fault")] = 0
            pv[index(pcs, "alarm_word")] = 0
            let warm = abs(p) / 10
            bv[index(bms, "soc")] = soc
            bv[index(bms, "soh")] = 98
            bv[index(bms, "cell_temp_max")] = 27 + warm
            bv[index(bms, "cell_temp_min")] = 24 + warm / 2
            bv[index(bms, "cell_voltage_max")] = 3.2 + soc / 1000 + 0.01
            bv[index(bms, "cell_voltage_min")] = 3.2 + soc / 1000
            bv[index(bms, "cycle_count")] = plant.cycles
            for scan in [
                Scan(deviceID: "pcs1", timestampMS: t, values: pv, qualities: .init(repeating: .ok, count: pv.count)),
                Scan(deviceID: "bms1", timestampMS: t, values: bv, qualities: .init(repeating: .ok, count: bv.count)),
            ] {
                if consolidators[groups[scan.deviceID]!].ingest(scan, emit: write) != .accepted { heldBack += 1 }
                aggregator.accept(scan)
            }
            let sample = aggregator.sample(atMS: t)
            consolidators[groups["site"]!].ingest(timestampMS: t, values: sample.values, qualities: sample.qualities, emit: write)
            if let writeError { throw writeError }
        }
        for g in consolidators.indices {
            consolidators[g].flush(untilMS: yearEndMS, emit: write)
            for slot in consolidators[g].openSlots(nowMS: yearEndMS) { write(slot) }
        }
        if let writeError { throw writeError }
        guard heldBack == 0 else { throw BenchError("\(heldBack) scans were not consolidated") }
        try writer.checkpoint(nowMS: yearEndMS)
        return minutes
    }

    // MARK: helpers

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    /// The 1-minute load average (other work on the machine slows wall-clock figures).
    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
    }

    /// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), ms.
    static func threadCPUMS() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    static func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    static func row(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print("\(pad(a, 44))  \(pad(b, 14))  \(pad(c, 34))  \(pad(d, 14))  \(e)")
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
