import ArgumentParser
import ESSConfig
import ESSCore
import ESSStore
import ESSDaemon
import Foundation

/// essctl: questions to essd and its store, from the shell.
@main
struct Essctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "essctl",
        abstract: "Query and check an essd site: configuration, store.",
        subcommands: [ConfigCommand.self, StoreCommand.self, StatusCommand.self, DevicesCommand.self, LatestCommand.self, SeriesCommand.self, KpiCommand.self, CheckCommand.self, ExportCommand.self, VerifyCommand.self, ImportCommand.self])
}

/// Options every command that reads the site shares.
/// The window and tier that `essctl kpi` and `essctl check` evaluate.
struct IndicatorWindowOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Start of the window (inclusive).")
    var from: String = "-1d"

    @Option(name: .long, parsing: .unconditional, help: "End of the window (exclusive).")
    var to: String = "now"

    @Option(name: .long, help: "Tier to read: 1m or 15m (default: by window length).")
    var tier: String?
}

struct SiteOptions: ParsableArguments {
    @Option(name: .long, help: "Site configuration file.")
    var config: String = "/etc/essd/essd.toml"

    @Flag(name: .long, help: "Machine-readable JSON instead of a table.")
    var json = false

    @Option(
        name: .customLong("state-directory"),
        help: "The store's directory when essd runs with --state-directory (default: the configuration's state_directory).")
    var stateDirectory: String?

    /// The site file, with `--state-directory` in place of its `state_directory` (as essd applies it).
    func loadSite() throws -> SiteConfiguration {
        var site: SiteConfiguration
        do {
            site = try ConfigurationLoader.loadSite(path: config)
        } catch {
            throw CommandFailure(message: "\(error)", exitCode: 78)
        }
        if let stateDirectory { site.stateDirectory = stateDirectory }
        return site
    }
}

/// A failure with its message and exit status (78 = configuration, 74 = I/O).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32
    var description: String { message }
}

extension ParsableCommand {
    /// Runs `body`, printing a `CommandFailure` to stderr and exiting with its status.
    func reporting(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("essctl: \(failure.message)\n".utf8))
            throw ExitCode(failure.exitCode)
        }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Configuration files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a site file and its profiles like essd does; exit 0 when valid, 78 when not.")

        @Argument(help: "Site configuration file.")
        var file: String

        @Flag(name: .long, help: "Machine-readable JSON instead of text (same exit status).")
        var json = false

        /// `--json`: valid or not, what the site holds, and every problem with its place.
        struct Output: Encodable {
            struct Problem: Encodable {
                var file: String
                var line: Int?
                var key: String
                var message: String
                var text: String
            }
            var file: String
            var valid: Bool
            var site_id: String?
            var devices: Int?
            var points: Int?
            var problems: [Problem]
        }

        func run() throws {
            let site: SiteConfiguration
            do {
                site = try SiteCheck.load(path: file)
            } catch {
                if json {
                    try printJSON(
                        Output(
                            file: file, valid: false, site_id: nil, devices: nil, points: nil,
                            problems: error.issues.map {
                                Output.Problem(file: $0.file, line: $0.line > 0 ? $0.line : nil, key: $0.key, message: $0.message, text: "\($0)")
                            }))
                } else {
                    FileHandle.standardError.write(Data("\(error)\n\(file): \(error.issues.count) problem(s)\n".utf8))
                }
                throw ExitCode(78)
            }
            let points = site.devices.reduce(0) { $0 + $1.profile.points.count }
            if json {
                return try printJSON(
                    Output(file: file, valid: true, site_id: site.site.id, devices: site.devices.count, points: points, problems: []))
            }
            print("\(file): valid: site \(site.site.id), \(site.devices.count) devices, \(points) points")
        }
    }
}

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "The store's files.", subcommands: [Plan.self, Health.self])

    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the size of every tier file the configuration makes, before anything is written.")

        @OptionGroup var options: SiteOptions

        func run() throws {
            try reporting {
                let site = try options.loadSite()
                let plan: StorePlan
                do {
                    plan = try StoreWriter.plan(
                        siteID: site.site.id, schemas: site.seriesSchemas, tiers: site.store.tiers,
                        rawBudgetBytes: site.store.rawBudgetBytes, pollIntervalsMS: site.seriesPollIntervalsMS)
                } catch {
                    throw CommandFailure(message: "\(error)", exitCode: 78)
                }
                if options.json {
                    let files: [[String: Any]] = plan.files.map {
                        [
                            "tier": $0.tier.name, "file": $0.fileName, "slot_ms": $0.tier.slotMS,
                            "rows": $0.capacity / $0.slotsPerRow, "slots": $0.capacity,
                            "slots_per_row": $0.slotsPerRow, "row_bytes": $0.rowBytes, "bytes": $0.bytes,
                            "retention_ms": $0.retentionMS,
                        ]
                    }
                    let object: [String: Any] = [
                        "site": plan.siteID, "directory": site.stateDirectory, "total_bytes": plan.totalBytes, "files": files,
                    ]
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                    return
                }
                print("store plan for site \(plan.siteID) in \(site.stateDirectory)")
                let rows = plan.files.map { file in
                    [
                        file.fileName, file.tier.isRaw ? "poll" : Format.duration(ms: file.tier.slotMS), "\(file.capacity)",
                        "\(file.slotsPerRow)", "\(file.rowBytes)", Format.bytes(file.bytes),
                        Format.duration(ms: file.retentionMS),
                    ]
                }
                // Raw: one row per scan of each group (ROW BYTES: one row of every group together).
                print(
                    Format.table(
                        header: ["FILE", "SLOT", "SLOTS", "PER ROW", "ROW BYTES", "SIZE", "RETENTION"], rows: rows))
                print("total \(Format.bytes(plan.totalBytes)) (\(plan.totalBytes) bytes); the files are created at full size")
            }
        }
    }

    struct Health: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every row of the store files (read-only; works while essd runs).")

        @OptionGroup var options: SiteOptions

        func run() throws {
            try reporting {
                let site = try options.loadSite()
                do {
                    let reader = try StoreReader(directory: site.stateDirectory)
                    let damaged = reader.verify()
                    let health = try reader.health()
                    let unhealthy = !damaged.isEmpty || !health.damagedHints.isEmpty || !health.damagedEventLines.isEmpty
                    if options.json {
                        try printJSON(
                            HealthOutput(
                                store_id: health.storeID, site_id: health.siteID, last_checkpoint_ms: health.lastCheckpointMS,
                                healthy: !unhealthy, damaged_rows: damaged.map(\.description),
                                damaged_hints: health.damagedHints.map(\.description), damaged_event_lines: health.damagedEventLines,
                                events: health.events.map(Format.event)))
                        if unhealthy { throw ExitCode(1) }
                        return
                    }
                    print("store \(health.storeID) for site \(health.siteID)")
                    print("last checkpoint: \(health.lastCheckpointMS.map { Format.utc(ms: $0) } ?? "none")")
                    print("damaged rows: \(damaged.count)")
                    for row in damaged.prefix(20) { print("  \(row)") }
                    print("damaged hints: \(health.damagedHints.count)")
                    for hint in health.damagedHints { print("  \(hint)") }
                    if !health.damagedEventLines.isEmpty {
                        print("damaged lines in events.jsonl: \(health.damagedEventLines.map(String.init).joined(separator: ", "))")
                    }
                    print("events: \(health.events.count)")
                    for event in health.events.suffix(20) { print("  \(Format.event(event))") }
                    if unhealthy { throw ExitCode(1) }
                } catch let error as StoreError {
                    throw CommandFailure(message: "\(error)", exitCode: 74)
                }
            }
        }
    }
}

/// `essctl store health --json`: every damaged row, hint and event line, and the events, as
/// the text lines prints them. `last_checkpoint_ms` is absent before the first checkpoint.
struct HealthOutput: Encodable {
    var store_id: String
    var site_id: String
    var last_checkpoint_ms: Int64?
    var healthy: Bool
    var damaged_rows: [String]
    var damaged_hints: [String]
    var damaged_event_lines: [Int]
    var events: [String]
}
