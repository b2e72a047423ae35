import ESSCore
import ESSSimulator
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12, finding 11 ("How we will know"): importing a year of 1-min CSV with the real
/// `essctl import csv`, the dry run and the import each in a child process, their peak RSS side
/// by side; target: the import's within 10 % of the dry run's.
///
/// The file is a year of the same daily cycle as the evidence part (`DailyCyclePlant`): a PCS
/// with power, both energy counters and `available`, a BMS with SoC and the hottest cell, one
/// row a minute, rfc3339 times. Both are import-only devices (`transport = "none"`, profiles
/// of signals without registers). The site has the default tiers (raw 48 h, 1 min 400 days,
/// 15 min 10 years, 1 day 30 years), as a real site would.
enum ImportBench {
    struct Run {
        var name: String
        var status: Int32
        var seconds: Double
        /// Peak resident set of essctl, kB: wait4's ru_maxrss (the kernel's VmHWM at exit), as
        /// `ess-peak-rss` reports it.
        var peakRSSKB: Int
        var output: String
    }

    struct Result {
        var rows: Int
        var csvBytes: Int
        var dry: Run
        var real: Run
        /// A second dry run over the imported store (the existing-data check reads the whole window).
        var dryAgain: Run
        var storeBytes: Int64
    }

    static func run(essctl: String, work: String) throws -> Result {
        let dir = work + "/import"
        try FileManager.default.createDirectory(atPath: dir + "/profiles", withIntermediateDirectories: true)
        try siteText(dir: dir).write(toFile: dir + "/site.toml", atomically: true, encoding: .utf8)
        try pcsProfile.write(toFile: dir + "/profiles/bench-import-pcs.toml", atomically: true, encoding: .utf8)
        try bmsProfile.write(toFile: dir + "/profiles/bench-import-bms.toml", atomically: true, encoding: .utf8)
        try mapText.write(toFile: dir + "/map.toml", atomically: true, encoding: .utf8)
        let csv = dir + "/year.csv"
        let (rows, bytes) = try writeYear(to: csv)
        let arguments = ["import", "csv", csv, "--map", dir + "/map.toml", "--config", dir + "/site.toml"]
        let dry = try spawn(essctl, arguments + ["--dry-run"], name: "dry run", log: dir + "/dry.log")
        let real = try spawn(essctl, arguments, name: "import", log: dir + "/import.log")
        let again = try spawn(essctl, arguments + ["--dry-run"], name: "dry run again", log: dir + "/dry-again.log")
        for (run, expected) in [(dry, Int32(0)), (real, 0), (again, 73)] where run.status != expected {
            throw BenchError("essctl \(run.name) exited \(run.status), expected \(expected):\n\(run.output)")
        }
        var storeBytes: Int64 = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir + "/state")) ?? [] {
            var info = stat()
            if stat(dir + "/state/" + name, &info) == 0 { storeBytes += Int64(info.st_size) }
        }
        return Result(rows: rows, csvBytes: bytes, dry: dry, real: real, dryAgain: again, storeBytes: storeBytes)
    }

    /// Prints the section: each run, then the rows of the summary table.
    static func report(_ r: Result, row: (String, String, String, String, String) -> Void) {
        let ratio = Double(r.real.peakRSSKB) / Double(max(1, r.dry.peakRSSKB))
        let ok = ratio <= 1.10
        row(
            "essctl import csv, 1 year @1 min: dry run", mib(r.dry.peakRSSKB),
            "\(fmt(r.dry.seconds, 1)) s; \(r.rows) rows, \(r.csvBytes / 1_048_576) MiB CSV", "-", "")
        row(
            "essctl import csv, 1 year @1 min: import", mib(r.real.peakRSSKB),
            "\(fmt(r.real.seconds, 1)) s; store \(r.storeBytes / 1_048_576) MiB", "-", "")
        row(
            "  peak RSS import ÷ dry run", fmt(ratio, 3),
            "\(r.real.peakRSSKB) ÷ \(r.dry.peakRSSKB) KiB (ru_maxrss)", "≤ 1.10", ok ? "yes" : "NO")
        row(
            "  dry run over the imported store (exit 73)", mib(r.dryAgain.peakRSSKB),
            "its existing-data check reads the year", "-", "")
    }

    static func printRuns(_ r: Result) {
        for run in [r.dry, r.real, r.dryAgain] {
            print(
                "  essctl \(run.name): exit \(run.status), \(fmt(run.seconds, 2)) s, peak RSS \(mib(run.peakRSSKB)) (\(run.peakRSSKB) KiB)"
            )
        }
        let ratio = Double(r.real.peakRSSKB) / Double(max(1, r.dry.peakRSSKB))
        print(
            "  peak RSS side by side: dry run \(mib(r.dry.peakRSSKB)) | import \(mib(r.real.peakRSSKB)) | ratio \(fmt(ratio, 3)) (target ≤ 1.10: \(ratio <= 1.10 ? "met" : "NOT met"))"
        )
    }

    // MARK: the child process

    /// `ess-peak-rss`, built beside this benchmark: a tiny launcher whose wait4 gives essctl's
    /// own peak RSS. (From this process, which holds a year of slots, a spawned child's
    /// ru_maxrss would be at least this process' RSS: Linux carries the memory a process had
    /// before execve into it.)
    static var launcher: String {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("ess-peak-rss").path
    }

    /// Runs `path arguments` through `ess-peak-rss`, stdout and stderr to `log`.
    static func spawn(_ path: String, _ arguments: [String], name: String, log: String) throws -> Run {
        let launcher = Self.launcher
        guard FileManager.default.isExecutableFile(atPath: launcher) else {
            throw BenchError("\(launcher) is missing: build the ess-peak-rss product (scripts/bench-evidence.sh does)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([launcher, path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, launcher, &actions, nil, argv, environ)
        guard spawned == 0 else { throw BenchError("posix_spawn \(launcher): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw BenchError("waitpid: errno \(errno)") }
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        var fields: [String: String] = [:]
        let last = output.split(separator: "\n").last { $0.hasPrefix("peak_rss_kb=") } ?? ""
        for part in last.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard let peak = fields["peak_rss_kb"].flatMap(Int.init), let seconds = fields["seconds"].flatMap(Double.init),
            let code = fields["status"].flatMap(Int32.init)
        else { throw BenchError("ess-peak-rss printed no figures for essctl \(name):\n\(output)") }
        return Run(name: name, status: code, seconds: seconds, peakRSSKB: peak, output: output)
    }

    // MARK: the year and the files

    /// 2025-01-01T00:00:00+08:00, as the evidence part.
    static let startMS = EvidenceBench.yearStartMS

    /// Writes 365 days of 1-min rows; returns (rows, bytes).
    static func writeYear(to path: String) throws -> (Int, Int) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path)
        else { throw BenchError("cannot create \(path)") }
        defer { try? out.close() }
        var plant = DailyCyclePlant(startMS: startMS)
        var text = "time,P_kW,E_charge_kWh,E_discharge_kWh,available,SOC,T_cell_max\n"
        var rows = 0
        var bytes = 0
        var t = startMS
        let end = startMS + 365 * EvidenceBench.dayMS
        while t < end {
            let (p, soc) = plant.step(to: t)
            text += "\(HistoryRowMapper.utcText(t)),\(fmt(p, 3)),\(fmt(plant.chargeTotalKWh, 3)),"
            text += "\(fmt(plant.dischargeTotalKWh, 3)),1,\(fmt(soc, 2)),\(fmt(27 + abs(p) / 10, 1))\n"
            rows += 1
            t += EvidenceBench.minuteMS
            if text.utf8.count >= 1 << 20 {
                bytes += text.utf8.count
                out.write(Data(text.utf8))
                text = ""
            }
        }
        bytes += text.utf8.count
        out.write(Data(text.utf8))
        return (rows, bytes)
    }

    static func siteText(dir: String) -> String {
        """
        profile_directory = "profiles"

        [site]
        id = "bench-import"
        name = "bench import plant"
        province = "guangdong"
        rated_power_kw = 100.0
        rated_energy_kwh = 200.0
        technology_route = "lithium_iron_phosphate"
        location_category = "industrial_plant"
        total_investment_cny = 1000000.0
        commissioning_date = 2024-06-30
        time_zone = "Asia/Shanghai"

        [store]
        state_directory = "\(dir)/state"

        [metrics]
        enabled = false

        [defaults]
        poll_interval_ms = 60000

        [[device]]
        id = "pcs1"
        profile = "bench-import-pcs"
        transport = "none"

        [[device]]
        id = "bms1"
        profile = "bench-import-bms"
        transport = "none"
        rated_energy_kwh = 200.0

        """
    }

    /// Import-only profiles (`import_only = true`): signals without registers.
    static let pcsProfile = """
        [profile]
        name = "bench-import-pcs"
        import_only = true

        [[point]]
        name = "active_power"
        role = "active_power_kw"

        [[point]]
        name = "charge_energy_total"
        role = "charge_energy_total_kwh"

        [[point]]
        name = "discharge_energy_total"
        role = "discharge_energy_total_kwh"

        [[point]]
        name = "available"
        role = "available"

        """

    static let bmsProfile = """
        [profile]
        name = "bench-import-bms"
        import_only = true

        [[point]]
        name = "soc"
        role = "soc_percent"

        [[point]]
        name = "cell_temp_max"
        role = "cell_temp_max_c"

        """

    static let mapText = """
        sample_interval_seconds = 60

        [time]
        column = "time"
        format = "rfc3339"

        [[column]]
        column = "P_kW"
        group = "pcs1"
        signal = "active_power"

        [[column]]
        column = "E_charge_kWh"
        group = "pcs1"
        signal = "charge_energy_total"

        [[column]]
        column = "E_discharge_kWh"
        group = "pcs1"
        signal = "discharge_energy_total"

        [[column]]
        column = "available"
        group = "pcs1"
        signal = "available"

        [[column]]
        column = "SOC"
        group = "bms1"
        signal = "soc"

        [[column]]
        column = "T_cell_max"
        group = "bms1"
        signal = "cell_temp_max"

        """

    static func fmt(_ x: Double, _ digits: Int) -> String { EvidenceBench.fmt(x, digits) }

    /// KiB as "25.6 MiB".
    static func mib(_ kb: Int) -> String { fmt(Double(kb) / 1024, 1) + " MiB" }
}
