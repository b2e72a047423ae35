import ArgumentParser
import ESSConfig
import ESSCore
import ESSStore
import Foundation

/// `essctl import csv FILE --map MAPFILE`: load another system's history into the store.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Load history from another system into the store.", subcommands: [CSV.self])

    struct CSV: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "csv",
            abstract: "Import a CSV export (e.g. a SCADA history) into the store, as if essd had recorded it.",
            discussion: """
                The map file says which column holds the time and in what format, and which device (or the site) \
                and signal each other column feeds, with an optional scale (format: docs/evidence.md, "Importing \
                history"). The file is read twice: first checked (nothing is written when the map or header does \
                not fit), then imported through essd's own consolidation. Rows that cannot be read are skipped and \
                reported with their line, column and reason. essd must be stopped while importing. \
                Exit codes: 0 imported (rejected rows are reported), 65 the header does not fit the map or no row \
                can be imported, 66 the file cannot be read, 73 the store already has data in the window (use \
                --force to replace it), 74 the store cannot be written, 75 essd or another import holds the store, \
                78 the site or map file is invalid.
                """)

        @Argument(help: "The CSV file to import.")
        var file: String

        @Option(name: .long, help: "The import map file (TOML).")
        var map: String

        @OptionGroup var options: SiteOptions

        @Flag(name: .long, help: "Replace data the store already has in the file's window (gaps included).")
        var force = false

        @Flag(name: .customLong("dry-run"), help: "Check the file and the store and report; write nothing.")
        var dryRun = false

        func run() throws {
            try reporting {
                let site = try options.loadSite()
                let importMap: HistoryImportMap
                do throws(ConfigurationError) {
                    importMap = try ConfigurationLoader.loadImportMap(path: map, site: site)
                } catch {
                    throw CommandFailure(
                        message: "\(error)\n\(map): \(error.issues.count) problem(s); nothing was imported",
                        exitCode: 78)
                }
                let resolver = ConfigurationLoader.localTimeResolver(timeZone: site.site.timeZone)
                if importMap.timeFormat == .local, resolver == nil {
                    throw CommandFailure(
                        message:
                            "the site's time_zone \"\(site.site.timeZone)\" is unknown; local times cannot be read",
                        exitCode: 78)
                }
                let nowMS = Int64(Date().timeIntervalSince1970 * 1000)
                let groups = importMap.groups
                let mapperSchemas = HistoryImporter.feedSchemas(site: site, groups: groups, sampleIntervalMS: nil)

                // Pass 1: check every row; nothing is written. Times are the rows' stamps until the
                // row interval (and so the shift of end-stamped rows) is known.
                var checked = try Self.pass(
                    file: file, map: importMap, schemas: mapperSchemas, resolver: resolver, nowMS: nowMS,
                    stampShiftMS: 0
                ) { _ in }
                guard checked.firstMS != nil else {
                    report(checked, map: importMap, interval: nil, result: nil, existing: nil, writerPID: nil)
                    throw CommandFailure(message: "\(file): no row can be imported; nothing was written", exitCode: 65)
                }
                let intervalSource: String
                let intervalMS: Int64
                if let given = importMap.sampleIntervalMS {
                    (intervalMS, intervalSource) = (given, "map")
                } else if let typical = checked.typicalSpacingMS {
                    (intervalMS, intervalSource) = (typical, "most common spacing of the rows")
                } else {
                    let polls = site.devices.filter { groups.contains($0.id) }.map { Int64($0.pollIntervalMS) }
                    (intervalMS, intervalSource) = (polls.min() ?? 1000, "the devices' poll interval (one row only)")
                }
                let shiftMS = importMap.stampShiftMS(rowIntervalMS: intervalMS)
                checked.moveTimes(byMS: -shiftMS)
                let (firstMS, lastMS) = (checked.firstMS!, checked.lastMS!)
                let window = HistoryImportWindow(firstMS: firstMS, lastMS: lastMS, endMS: lastMS + intervalMS)
                let interval = (intervalMS, intervalSource)

                if dryRun {
                    let existing: [ExistingHistory]
                    do {
                        existing = try HistoryImporter.existingHistory(
                            directory: site.stateDirectory, groups: HistoryImporter.writtenGroups(groups),
                            window: window)
                    } catch {
                        throw CommandFailure(message: "cannot read the store: \(error)", exitCode: 74)
                    }
                    let holder = HistoryImporter.writerPID(directory: site.stateDirectory)
                    report(checked, map: importMap, interval: interval, result: nil, existing: existing, writerPID: holder)
                    // The exit status the real run would have, so scripts can check first.
                    if holder != nil { throw ExitCode(75) }
                    if !existing.isEmpty && !force { throw ExitCode(73) }
                    return
                }

                let importer: HistoryImporter
                do {
                    importer = try HistoryImporter(
                        site: site, groups: groups, sampleIntervalMS: intervalMS, window: window, force: force,
                        nowMS: nowMS)
                } catch let refusal as HistoryImportRefusal {
                    throw CommandFailure(message: refusal.description, exitCode: 73)
                } catch let error as StoreError where error.kind == .inUse {
                    throw CommandFailure(message: "\(error); nothing was imported", exitCode: 75)
                } catch {
                    throw CommandFailure(message: "cannot open the store: \(error); nothing was imported", exitCode: 74)
                }
                // Pass 2: the same rows, into the store.
                var storeError: (any Error)?
                let imported = try Self.pass(
                    file: file, map: importMap, schemas: importer.feedSchemas, resolver: resolver, nowMS: nowMS,
                    stampShiftMS: shiftMS
                ) { row in
                    guard storeError == nil else { return }
                    do { try importer.add(row) } catch { storeError = error }
                }
                let result: HistoryImportResult
                do {
                    if let storeError { throw storeError }
                    result = try importer.finish(nowMS: nowMS, source: file)
                } catch {
                    throw CommandFailure(
                        message:
                            "writing the store failed: \(error); rows before the failure may be stored, run again with --force",
                        exitCode: 74)
                }
                if imported.rowsAccepted != checked.rowsAccepted {
                    FileHandle.standardError.write(
                        Data(
                            "essctl: warning: \(file) changed while it was imported (\(checked.rowsAccepted) rows checked, \(imported.rowsAccepted) imported)\n"
                                .utf8))
                }
                report(imported, map: importMap, interval: interval, result: result, existing: nil, writerPID: nil)
            }
        }

        /// Reads `file` once, mapping every record (samples `stampShiftMS` before their stamps);
        /// calls `row` for each accepted row.
        static func pass(
            file: String, map: HistoryImportMap, schemas: [SeriesSchema], resolver: LocalTimeResolver?, nowMS: Int64,
            stampShiftMS: Int64, row: (HistoryRow) -> Void
        ) throws -> HistoryImportTally {
            guard let handle = FileHandle(forReadingAtPath: file) else {
                let reason =
                    FileManager.default.fileExists(atPath: file) ? "cannot be read (permissions?)" : "does not exist"
                throw CommandFailure(message: "\(file) \(reason); nothing was imported", exitCode: 66)
            }
            defer { try? handle.close() }
            var reader = CSVRecordReader(delimiter: map.delimiter)
            var mapper = HistoryRowMapper(
                map: map, groups: schemas, resolver: resolver, notAfterMS: nowMS, stampShiftMS: stampShiftMS)
            var headerError: HistoryHeaderError?
            func take(_ record: CSVRecord) {
                guard headerError == nil else { return }
                do {
                    try mapper.map(record) { if case .row(let accepted) = $0 { row(accepted) } }
                } catch {
                    headerError = error
                }
            }
            while true {
                let chunk: Data
                do {
                    chunk = try handle.read(upToCount: 1 << 20) ?? Data()
                } catch {
                    throw CommandFailure(message: "\(file): read failed: \(error)", exitCode: 66)
                }
                if chunk.isEmpty { break }
                chunk.withUnsafeBytes { reader.feed($0, emit: take) }
                if headerError != nil { break }
            }
            if headerError == nil { reader.finish(emit: take) }
            if headerError == nil {
                do { try mapper.finish { if case .row(let accepted) = $0 { row(accepted) } } } catch { headerError = error }
            }
            if let headerError {
                throw CommandFailure(message: "\(file):\(headerError); nothing was imported", exitCode: 65)
            }
            return mapper.tally
        }

        func report(
            _ tally: HistoryImportTally, map importMap: HistoryImportMap, interval: (ms: Int64, source: String)?,
            result: HistoryImportResult?, existing: [ExistingHistory]?, writerPID: Int32??
        ) {
            let reasons = tally.rejected.keys.sorted()
            if options.json {
                var object: [String: Any] = [
                    "file": file, "map": map, "dry_run": dryRun, "rows_read": tally.rowsRead,
                    "rows_imported": result == nil ? 0 : tally.rowsAccepted, "rows_accepted": tally.rowsAccepted,
                    "rows_rejected": tally.rowsRejected,
                    "rejected": Dictionary(uniqueKeysWithValues: reasons.map { ($0.rawValue, tally.rejected[$0]!) }),
                    "examples": tally.examples.map { example -> [String: Any] in
                        var e: [String: Any] = [
                            "line": example.line, "reason": example.reason.rawValue, "message": example.message,
                        ]
                        if let column = example.column { e["column"] = column }
                        return e
                    },
                    "unknown_columns": tally.unknownColumns,
                ]
                if let first = tally.firstMS, let last = tally.lastMS {
                    object["first_utc"] = HistoryRowMapper.utcText(first)
                    object["last_utc"] = HistoryRowMapper.utcText(last)
                }
                object["stamped_at"] = importMap.stampedAt.rawValue
                if let interval {
                    object["sample_interval_ms"] = interval.ms
                    object["sample_interval_source"] = interval.source
                    object["stamp_shift_ms"] = importMap.stampShiftMS(rowIntervalMS: interval.ms)
                }
                if let result {
                    object["store_id"] = result.storeID
                    object["groups"] = result.groups
                    object["slots_written"] = result.slotsWritten
                    object["slots_beyond_retention"] = result.slotsBeyondRetention
                    object["raw_rows"] = result.rawRows
                }
                if let existing {
                    object["existing"] = existing.map {
                        [
                            "tier": $0.tier, "group": $0.group, "slots": $0.slots,
                            "from_utc": HistoryRowMapper.utcText($0.fromMS),
                            "to_utc": HistoryRowMapper.utcText($0.toMS),
                        ] as [String: Any]
                    }
                }
                if let writerPID { object["writer_pid"] = writerPID.map { Int($0) } ?? NSNull() }
                if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                    print(String(decoding: data, as: UTF8.self))
                }
                return
            }
            let verb = result != nil ? "imported" : dryRun ? "importable" : "imported"
            print(
                "\(file): \(tally.rowsRead) rows read, \(result == nil && !dryRun ? 0 : tally.rowsAccepted) \(verb), \(tally.rowsRejected) rejected"
            )
            if let first = tally.firstMS, let last = tally.lastMS {
                print("time: \(HistoryRowMapper.utcText(first)) to \(HistoryRowMapper.utcText(last))")
            }
            if let interval {
                print("sample interval: \(Format.duration(ms: interval.ms)) (\(interval.source)); heartbeat 3 × that")
                if importMap.stampedAt == .end {
                    print(
                        "rows are stamped at the end of their interval: each sample is taken \(Format.duration(ms: interval.ms)) before its stamp"
                    )
                }
            }
            if !reasons.isEmpty {
                print("rejected: " + reasons.map { "\(tally.rejected[$0]!) \($0.rawValue)" }.joined(separator: ", "))
                for example in tally.examples { print("  \(file):\(example)") }
            }
            if !tally.unknownColumns.isEmpty {
                print(
                    "not imported (columns the map does not name): "
                        + tally.unknownColumns.map { "\"\($0)\"" }.joined(separator: ", ")
                        + "; list them in ignore = [...] to silence this")
            }
            if let result {
                let tiers = result.slotsWritten.keys.sorted {
                    (result.slotsWritten[$0]!, $0) < (result.slotsWritten[$1]!, $1)
                }
                print(
                    "written: groups \(result.groups.joined(separator: ", ")); slots "
                        + tiers.map { "\($0) \(result.slotsWritten[$0]!)" }.joined(separator: ", ")
                        + "; raw rows \(result.rawRows); store \(result.storeID)")
                if !result.slotsBeyondRetention.isEmpty {
                    print(
                        "not stored (older than the tier's retention behind newer data): "
                            + result.slotsBeyondRetention.keys.sorted().map {
                                "\($0) \(result.slotsBeyondRetention[$0]!)"
                            }
                            .joined(separator: ", "))
                }
            }
            if let existing {
                if existing.isEmpty {
                    print("store: no data in the window; an import would write nothing over existing data")
                } else {
                    print("store: already has data in the window (an import needs --force to replace it):")
                    for entry in existing { print("  \(entry)") }
                }
            }
            if let writerPID, let pid = writerPID {
                print("store: in use by process \(pid): stop essd before importing")
            }
        }
    }
}
