import ESSCore
import Foundation
import Logging
import Testing

@testable import ESSStore

/// `HistoryImporter` on real temp directories: an imported gappy CSV gives exactly the slots
/// essd's own path (consolidators, site aggregator, writer) gives; existing data is refused
/// without `force` and replaced with it; an older window is back-filled; a store another
/// process writes is refused.
@Suite struct HistoryImportTests {
    /// 2025-03-01T00:00:00Z.
    static let t0: Int64 = 1_740_787_200_000
    static let minute: Int64 = 60_000
    static let day: Int64 = 86_400_000

    static func site(_ directory: String) -> SiteConfiguration {
        let pcs = RegisterProfile(
            name: "pcs",
            points: [
                PointDefinition(name: "p", role: .activePowerKW, address: 0),
                PointDefinition(name: "chg", role: .chargeEnergyTotalKWh, address: 1),
                PointDefinition(name: "dis", role: .dischargeEnergyTotalKWh, address: 2),
                PointDefinition(name: "avail", role: .available, address: 3),
            ])
        let bms = RegisterProfile(name: "bms", points: [PointDefinition(name: "soc", role: .socPercent, address: 0)])
        return SiteConfiguration(
            site: SiteFacts(
                id: "import-site", name: "import test", province: "guangdong", ratedPowerKW: 100, ratedEnergyKWh: 200,
                technologyRoute: "lithium_iron_phosphate", locationCategory: "industrial_plant", totalInvestmentCNY: 1,
                commissioningDate: "2024-01-01", timeZone: "Asia/Shanghai"),
            stateDirectory: directory,
            devices: [
                DeviceDefinition(
                    id: "pcs1", transport: .tcp(host: "127.0.0.1", port: 1502), profile: pcs, pollIntervalMS: 1000),
                DeviceDefinition(
                    id: "bms1", transport: .tcp(host: "127.0.0.1", port: 1502), unitID: 2, profile: bms,
                    pollIntervalMS: 1000,
                    ratedEnergyKWh: 200),
            ],
            store: StoreSettings(tiers: [
                TierDefinition(name: "raw", slotMS: 0, retentionMS: 6 * 3_600_000),
                TierDefinition(name: "15m", slotMS: 900_000, retentionMS: 40 * day),
                TierDefinition(name: "1d", slotMS: day, retentionMS: 40 * day),
            ]))
    }

    static let map = HistoryImportMap(
        headerLine: 1, timeColumn: .name("time"), timeFormat: .rfc3339,
        columns: [
            .init(column: .name("P_W"), group: "pcs1", signal: "p", scale: 0.001),
            .init(column: .name("chg"), group: "pcs1", signal: "chg"),
            .init(column: .name("dis"), group: "pcs1", signal: "dis"),
            .init(column: .name("avail"), group: "pcs1", signal: "avail"),
            .init(column: .name("soc"), group: "bms1", signal: "soc"),
        ])

    /// `days` of 1-minute rows from `start`: charge, then discharge, with a 40-minute outage on
    /// each day, an empty power cell, a counter reset on day 2, and `powerScale` on the power.
    static func csv(start: Int64, days: Int, powerScale: Double = 1) -> String {
        var lines = ["time,P_W,chg,dis,avail,soc"]
        var chg = 1000.0
        var dis = 900.0
        for m in 0..<(days * 1440) {
            let minuteOfDay = m % 1440
            if (600..<640).contains(minuteOfDay) { continue }  // no rows: a gap, never zero
            let p: Double =
                (120..<360).contains(minuteOfDay) ? -40_000 : (840..<1080).contains(minuteOfDay) ? 36_000 : 0
            if p < 0 { chg += -p / 1000 / 60 } else { dis += p / 1000 / 60 }
            if m == 1440 + 700 { chg = 5 }  // a replaced meter: a reset, never negative energy
            let power = minuteOfDay == 100 ? "" : "\(p * powerScale)"
            let soc = 50 + Double(minuteOfDay % 300) / 10
            lines.append("\(HistoryRowMapper.utcText(start + Int64(m) * minute)),\(power),\(chg),\(dis),1,\(soc)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func rows(_ text: String, schemas: [SeriesSchema]) throws -> [HistoryRow] {
        var reader = CSVRecordReader()
        var mapper = HistoryRowMapper(map: map, groups: schemas, resolver: nil, notAfterMS: nil)
        var rows: [HistoryRow] = []
        var failure: (any Error)?
        let take: (CSVRecord) -> Void = { record in
            do {
                try mapper.map(record) { if case .row(let row) = $0 { rows.append(row) } }
            } catch { failure = error }
        }
        reader.feed(Array(text.utf8), emit: take)
        reader.finish(emit: take)
        if let failure { throw failure }
        try mapper.finish { if case .row(let row) = $0 { rows.append(row) } }
        #expect(mapper.tally.rowsRejected == 0, "\(mapper.tally.examples)")
        return rows
    }

    /// Imports `text` into the store of `site`; returns the result.
    @discardableResult
    static func importCSV(_ text: String, site: SiteConfiguration, force: Bool = false) throws -> HistoryImportResult {
        let schemas = HistoryImporter.feedSchemas(site: site, groups: map.groups, sampleIntervalMS: minute)
        let rows = try rows(text, schemas: schemas)
        let window = HistoryImportWindow(
            firstMS: rows.first!.timestampMS, lastMS: rows.last!.timestampMS, endMS: rows.last!.timestampMS + minute)
        let importer = try HistoryImporter(
            site: site, groups: map.groups, sampleIntervalMS: minute, window: window, force: force, nowMS: t0 + 10 * day
        )
        for row in rows { try importer.add(row) }
        return try importer.finish(nowMS: t0 + 10 * day)
    }

    static func temporary() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("essd-import-\(UUID().uuidString)").path
    }

    /// Every slot of every consolidated tier and group between `from` and `to`, as text (unknown
    /// statistics are NaN, which `==` never equals).
    static func slots(_ directory: String, from: Int64, to: Int64) throws -> [String: [String]] {
        let reader = try StoreReader(directory: directory)
        var all: [String: [String]] = [:]
        for tier in ["15m", "1d"] {
            for group in ["pcs1", "bms1", "site"] {
                all["\(tier)/\(group)"] = try reader.slots(tier: tier, group: group, fromMS: from, toMS: to).map {
                    "\($0)"
                }
            }
        }
        return all
    }

    static func stored(_ directory: String, tier: String, group: String, from: Int64, to: Int64) throws
        -> [ConsolidatedSlot]
    {
        try StoreReader(directory: directory).slots(tier: tier, group: group, fromMS: from, toMS: to).compactMap(\.slot)
    }

    @Test func aGappyCSVGivesTheSlotsOfEssdsOwnPath() throws {
        let imported = Self.temporary()
        let direct = Self.temporary()
        defer {
            try? FileManager.default.removeItem(atPath: imported)
            try? FileManager.default.removeItem(atPath: direct)
        }
        let text = Self.csv(start: Self.t0, days: 2)
        let result = try Self.importCSV(text, site: Self.site(imported))
        #expect(result.groups == ["pcs1", "bms1", "site"])
        #expect(result.slotsWritten["15m"] == 3 * 2 * 96 && result.slotsWritten["1d"] == 3 * 2, "\(result)")
        #expect(result.rawRows == 3 * 361, "the rows of the last 6 h (raw retention) per group: \(result.rawRows)")

        // The same samples through the consolidators, site aggregator and writer, as essd's store thread.
        let site = Self.site(direct)
        var devices = site.devices
        for i in devices.indices { devices[i].pollIntervalMS = 60_000 }
        let tiers = site.store.tiers.filter { !$0.isRaw }
        var consolidators = devices.map {
            SeriesConsolidator(schema: .device($0, tiers: site.store.tiers), tiers: tiers)
        }
        var aggregator = SiteAggregator(devices: devices, tiers: site.store.tiers)
        var siteConsolidator = SeriesConsolidator(schema: aggregator.schema, tiers: tiers)
        let writer = try StoreWriter(
            directory: direct, siteID: site.site.id, schemas: site.seriesSchemas, tiers: site.store.tiers,
            pollIntervalsMS: site.seriesPollIntervalsMS, nowMS: Self.t0,
            logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        var slots: [ConsolidatedSlot] = []
        let rows = try Self.rows(text, schemas: devices.map { SeriesSchema.device($0, tiers: site.store.tiers) })
        for row in rows {
            for (g, device) in devices.enumerated() {
                let scan = Scan(
                    deviceID: device.id, timestampMS: row.timestampMS, values: row.values[g],
                    qualities: row.qualities[g])
                consolidators[g].ingest(scan) { slots.append($0) }
                aggregator.accept(scan)
            }
            let sample = aggregator.sample(atMS: row.timestampMS)
            siteConsolidator.ingest(timestampMS: row.timestampMS, values: sample.values, qualities: sample.qualities) {
                slots.append($0)
            }
        }
        let end = rows.last!.timestampMS + Self.minute
        for g in consolidators.indices {
            consolidators[g].flush(untilMS: end) { slots.append($0) }
            slots += consolidators[g].openSlots(nowMS: end).filter { $0.startMS < end }
        }
        siteConsolidator.flush(untilMS: end) { slots.append($0) }
        slots += siteConsolidator.openSlots(nowMS: end).filter { $0.startMS < end }
        for slot in slots { #expect(try writer.write(slot) == .written) }
        try writer.checkpoint(nowMS: end)

        let got = try Self.slots(imported, from: Self.t0 - Self.day, to: Self.t0 + 3 * Self.day)
        let expected = try Self.slots(direct, from: Self.t0 - Self.day, to: Self.t0 + 3 * Self.day)
        #expect(got.keys.sorted() == expected.keys.sorted())
        for key in expected.keys.sorted() {
            let diff = zip(got[key]!, expected[key]!).first { $0 != $1 }
            #expect(
                got[key]!.count == expected[key]!.count && diff == nil,
                "\(key): \(diff.map { "\($0.0)\nexpected \($0.1)" } ?? "")")
        }

        // The outage stays a gap: unknown slots, and unaccounted energy time, never zero energy.
        let pcs15 = try Self.stored(imported, tier: "15m", group: "pcs1", from: Self.t0, to: Self.t0 + 2 * Self.day)
        let outage = pcs15.filter {
            $0.startMS >= Self.t0 + 615 * Self.minute && $0.startMS < Self.t0 + 630 * Self.minute
        }
        #expect(outage.count == 1)
        #expect(outage.allSatisfy { $0.signals[0].count == 0 && $0.energy!.unaccountedMS > 0 })
        let days = try Self.stored(imported, tier: "1d", group: "pcs1", from: Self.t0, to: Self.t0 + 3 * Self.day)
        #expect(days.map(\.startMS) == [Self.t0, Self.t0 + Self.day], "nothing at or after the window's end")
        let day1 = try #require(days.first { $0.startMS == Self.t0 })
        #expect(abs(day1.energy!.integratedChargeKWh - 160) < 0.01, "4 h × 40 kW: \(day1.energy!)")
        #expect(abs(day1.energy!.counterChargeKWh - 160) < 0.01)
        let day2 = try #require(days.first { $0.startMS == Self.t0 + Self.day })
        #expect(day2.energy!.counterResets == 1 && day2.energy!.counterChargeKWh >= 0)
    }

    /// Resident memory of this process' mappings of files in `directory` (smaps' Rss), KiB.
    static func residentKB(under directory: String) throws -> Int {
        // /proc files have no size: read to the end rather than by the size stat gives.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var total = 0
        var inside = false
        for line in smaps.split(separator: "\n") {
            let first = line.prefix { $0 != " " }
            if first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                inside = line.contains(directory + "/")  // a mapping's header line
            } else if inside, line.hasPrefix("Rss:") {
                total += Int(line.dropFirst(4).split(separator: " ").first ?? "") ?? 0
            }
        }
        return total
    }

    /// Issue 12, finding 11: an import's memory is flat in the file's length. 60 days at 1 min
    /// write ~16 MiB of 1-min rows; the pages are given back every 64 rows (and synced first
    /// every 2 MiB), so the tier files' resident size stays small (without it: every page
    /// written), and the store holds exactly what an import that keeps every page writes.
    @Test func anImportGivesItsWrittenPagesBack() throws {
        let released = Self.temporary()
        let kept = Self.temporary()
        defer {
            try? FileManager.default.removeItem(atPath: released)
            try? FileManager.default.removeItem(atPath: kept)
        }
        func site(_ directory: String) -> SiteConfiguration {
            var site = Self.site(directory)
            site.store.tiers.insert(TierDefinition(name: "1m", slotMS: Self.minute, retentionMS: 90 * Self.day), at: 1)
            return site
        }
        let text = Self.csv(start: Self.t0, days: 60)
        var residentKB: [Int] = []
        for (directory, releases) in [(released, true), (kept, false)] {
            let site = site(directory)
            let schemas = HistoryImporter.feedSchemas(site: site, groups: Self.map.groups, sampleIntervalMS: Self.minute)
            let rows = try Self.rows(text, schemas: schemas)
            let window = HistoryImportWindow(
                firstMS: rows.first!.timestampMS, lastMS: rows.last!.timestampMS,
                endMS: rows.last!.timestampMS + Self.minute)
            let importer = try HistoryImporter(
                site: site, groups: Self.map.groups, sampleIntervalMS: Self.minute, window: window, force: false,
                nowMS: Self.t0 + 90 * Self.day)
            importer.releasesPages = releases
            for row in rows { try importer.add(row) }
            residentKB.append(try Self.residentKB(under: directory))
            _ = try importer.finish(nowMS: Self.t0 + 90 * Self.day)
        }
        let oneMinute = try FileManager.default.attributesOfItem(atPath: released + "/1m.tier")[.size] as! Int
        #expect(oneMinute > 16 << 20, "the 1-min tier file: \(oneMinute) bytes")
        #expect(residentKB[0] < 1024, "resident tier pages with release: \(residentKB[0]) KiB")
        #expect(residentKB[1] > 12 * 1024, "without: every page written stays resident (\(residentKB[1]) KiB)")
        let got = try Self.slots(released, from: Self.t0, to: Self.t0 + 61 * Self.day)
        let expected = try Self.slots(kept, from: Self.t0, to: Self.t0 + 61 * Self.day)
        #expect(got == expected)
        let reader = try StoreReader(directory: released)
        let oneMinuteSlots = try reader.slots(tier: "1m", group: "pcs1", fromMS: Self.t0, toMS: Self.t0 + 60 * Self.day)
        let keptSlots = try StoreReader(directory: kept).slots(
            tier: "1m", group: "pcs1", fromMS: Self.t0, toMS: Self.t0 + 60 * Self.day)
        #expect(oneMinuteSlots.map { "\($0)" } == keptSlots.map { "\($0)" })
        #expect(
            oneMinuteSlots.compactMap(\.slot).filter { $0.signals[1].count > 0 }.count == 60 * (1440 - 40),
            "a charge-counter sample in every minute but the daily 40-minute outage")
    }

    @Test func existingDataIsRefusedWithoutForceAndReplacedWithIt() throws {
        let directory = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let site = Self.site(directory)
        try Self.importCSV(Self.csv(start: Self.t0, days: 1), site: site)
        let before = try Self.slots(directory, from: Self.t0, to: Self.t0 + Self.day)

        // The same window again: refused, saying which tier and group hold data, nothing written.
        do {
            try Self.importCSV(Self.csv(start: Self.t0, days: 1, powerScale: 2), site: site)
            Issue.record("a second import over the same day was not refused")
        } catch let refusal as HistoryImportRefusal {
            #expect(
                Set(refusal.existing.map { "\($0.tier)/\($0.group)" }) == [
                    "15m/pcs1", "15m/bms1", "15m/site", "1d/pcs1", "1d/bms1", "1d/site",
                ])
            let pcs15 = try #require(refusal.existing.first { $0.tier == "15m" && $0.group == "pcs1" })
            #expect(
                pcs15.fromMS == Self.t0 && pcs15.toMS == Self.t0 + Self.day && pcs15.slots == 96 - 1,
                "one outage slot has no data")
            #expect(refusal.description.contains("--force") && refusal.description.contains("tier 15m, group pcs1"))
        }
        #expect(try Self.slots(directory, from: Self.t0, to: Self.t0 + Self.day) == before)

        // With --force the file's data replaces it.
        try Self.importCSV(Self.csv(start: Self.t0, days: 1, powerScale: 2), site: site, force: true)
        let reader = try StoreReader(directory: directory)
        let dayTotal = try #require(
            try reader.slots(tier: "1d", group: "pcs1", fromMS: Self.t0, toMS: Self.t0 + 1).first?.slot)
        #expect(abs(dayTotal.energy!.integratedChargeKWh - 320) < 0.01, "twice the power: \(dayTotal.energy!)")
    }

    @Test func anOlderWindowIsBackFilledWithoutForce() throws {
        let directory = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let site = Self.site(directory)
        try Self.importCSV(Self.csv(start: Self.t0 + Self.day, days: 1), site: site)
        let result = try Self.importCSV(Self.csv(start: Self.t0, days: 1), site: site)
        #expect(result.slotsWritten["1d"] == 3 && result.slotsBeyondRetention.isEmpty, "\(result)")
        let reader = try StoreReader(directory: directory)
        let days = try reader.slots(tier: "1d", group: "pcs1", fromMS: Self.t0, toMS: Self.t0 + 2 * Self.day)
            .compactMap(\.slot)
        #expect(days.map(\.startMS) == [Self.t0, Self.t0 + Self.day])
        #expect(days.allSatisfy { abs($0.energy!.integratedChargeKWh - 160) < 0.01 })
    }

    @Test func aStoreAnotherProcessWritesIsRefused() throws {
        let directory = Self.temporary()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // flock(1) holds the writer lock as essd's StoreWriter would.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["-o", "\(directory)/writer.lock", "sleep", "3"]
        try holder.run()
        defer {
            holder.terminate()
            holder.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(5)
        while HistoryImporter.writerPID(directory: directory) == nil, Date() < deadline { usleep(20_000) }
        #expect(HistoryImporter.writerPID(directory: directory) != nil)
        do {
            try Self.importCSV(Self.csv(start: Self.t0, days: 1), site: Self.site(directory))
            Issue.record("imported while another process holds the store")
        } catch let error as StoreError {
            #expect(error.kind == .inUse)
            #expect(error.message.contains("Stop essd first"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/catalog.json"), "nothing was created")
    }
}
