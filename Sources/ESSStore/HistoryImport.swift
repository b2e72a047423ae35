public import ESSCore
public import Logging

/// The time an import covers: its first and last accepted row, and where the last row's
/// sample interval ends (the consolidators are flushed up to there, as essd's shutdown does).
public struct HistoryImportWindow: Sendable, Hashable {
    public var firstMS: Int64
    public var lastMS: Int64
    public var endMS: Int64

    public init(firstMS: Int64, lastMS: Int64, endMS: Int64) {
        self.firstMS = firstMS
        self.lastMS = lastMS
        self.endMS = endMS
    }
}

/// What an import wrote.
public struct HistoryImportResult: Sendable, Hashable {
    /// Consolidated slots written, per tier.
    public var slotsWritten: [String: Int] = [:]
    /// Slots not stored because their row already holds a newer slot (older than the tier's
    /// retention, counted back from newer data), per tier.
    public var slotsBeyondRetention: [String: Int] = [:]
    /// Raw rows written (the raw tier keeps only the window's last raw-retention's worth).
    public var rawRows = 0
    /// Groups written: the fed devices, then "site".
    public var groups: [String] = []
    public var storeID = ""
}

/// Loads another system's history into the store through the path essd's store thread takes:
/// one `SeriesConsolidator` per group, the site group from a `SiteAggregator` over the fed
/// devices (or from the file's own site columns), `StoreWriter` for the slots, raw rows for the
/// window's last raw-retention's worth, and a checkpoint at the end. So counters, trapezoid
/// energy, gaps (never zero) and coverage come out exactly as with live data; a gap in the file
/// stays a gap.
///
/// Owns the writing side only: parsing and mapping rows is `HistoryRowMapper`'s (ESSCore);
/// reading the file and reporting is the caller's. Holds the store's writer lock while open, so
/// it refuses to start while essd writes the store. Without `force` it refuses to start when any
/// written group already has valid data in the window (`HistoryImportRefusal` says where).
/// With `force` the window's slots of the written groups are replaced by the file's (gaps
/// included); other groups' parts of those slots are kept. Slots are never written over a row
/// that holds a newer slot (a later lap of the ring).
public final class HistoryImporter {
    public let window: HistoryImportWindow
    /// The fed groups' schemas in `HistoryRow.values` order (heartbeats from the sample interval).
    public let feedSchemas: [SeriesSchema]
    private let writer: StoreWriter
    private var consolidators: [SeriesConsolidator]
    private var aggregator: SiteAggregator?
    private var siteConsolidator: SeriesConsolidator?
    private let siteFedDirectly: Int?
    private let rawFromMS: Int64
    /// The rows' sampling interval (nil: the site's own).
    private let sampleIntervalMS: Int64?
    private var result = HistoryImportResult()
    private var failure: StoreError?
    /// Rows since the tier files' pages were last given back.
    private var rowsSinceRelease = 0
    /// Every `releaseRows` rows the tier files' pages are given back from the process' resident
    /// memory (`StoreWriter.releaseResidentPages`), and once `syncBytes` are written they are
    /// synced first (`releaseWrittenPages`): memory stays flat in the file's length instead of
    /// growing with the pages written (issue 12, finding 11). Tests turn it off
    /// (`releasesPages`) to compare against an import that keeps every page.
    var releasesPages = true
    static let releaseRows = 64
    static let syncBytes = 2 << 20

    /// The schemas an import of `groups` feeds (device ids, or "site"), in that order, with
    /// heartbeats of 3 × `sampleIntervalMS` (as essd uses 3 × the poll interval); nil keeps the
    /// site's own heartbeats. Unknown groups are left out (the map reader refuses them first).
    public static func feedSchemas(site: SiteConfiguration, groups: [String], sampleIntervalMS: Int64?)
        -> [SeriesSchema]
    {
        let devices = importDevices(site: site, sampleIntervalMS: sampleIntervalMS)
        let siteSchema = SiteAggregator(
            devices: devices, meterDeviceID: site.store.meterDeviceID, tiers: site.store.tiers
        ).schema
        return groups.compactMap { group in
            if group == "site" { return siteSchema }
            return devices.first { $0.id == group }.map { SeriesSchema.device($0, tiers: site.store.tiers) }
        }
    }

    static func importDevices(site: SiteConfiguration, sampleIntervalMS: Int64?) -> [DeviceDefinition] {
        guard let interval = sampleIntervalMS, interval > 0 else { return site.devices }
        return site.devices.map { device in
            var copy = device
            copy.pollIntervalMS = Int(interval)
            for i in copy.profile.points.indices { copy.profile.points[i].pollMultiple = 1 }
            return copy
        }
    }

    /// The groups an import of `groups` writes: the fed devices, then "site" (derived from them
    /// when the file has no site columns of its own).
    public static func writtenGroups(_ groups: [String]) -> [String] {
        groups.filter { $0 != "site" } + ["site"]
    }

    /// Opens the store for writing (creating it when there is none) and checks the window.
    /// Throws `StoreError` of kind `.inUse` while essd (or another import) holds the store, and
    /// `HistoryImportRefusal` when existing valid data would be overwritten without `force`.
    public init(
        site: SiteConfiguration, groups: [String], sampleIntervalMS: Int64?, window: HistoryImportWindow, force: Bool,
        nowMS: Int64, logger: Logger = Logger(label: "essd.import", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        self.window = window
        self.sampleIntervalMS = sampleIntervalMS
        let writer = try StoreWriter(
            directory: site.stateDirectory, siteID: site.site.id, schemas: site.seriesSchemas, tiers: site.store.tiers,
            pollIntervalsMS: site.seriesPollIntervalsMS, rawBudgetBytes: site.store.rawBudgetBytes, nowMS: nowMS,
            logger: logger)
        let written = Self.writtenGroups(groups)
        // A store this import just created holds nothing: no need to read the window's zeros.
        if !force, !writer.createdStore {
            let existing = try Self.existingHistory(directory: site.stateDirectory, groups: written, window: window)
            if !existing.isEmpty { throw HistoryImportRefusal(directory: site.stateDirectory, existing: existing) }
        }
        self.writer = writer
        writer.adviseBulkWrite()
        feedSchemas = Self.feedSchemas(site: site, groups: groups, sampleIntervalMS: sampleIntervalMS)
        let tiers = site.store.tiers.filter { !$0.isRaw }
        consolidators = feedSchemas.map { SeriesConsolidator(schema: $0, tiers: tiers) }
        siteFedDirectly = feedSchemas.firstIndex { $0.groupID == "site" }
        if siteFedDirectly == nil {
            let devices = Self.importDevices(site: site, sampleIntervalMS: sampleIntervalMS)
            let aggregator = SiteAggregator(
                devices: devices, meterDeviceID: site.store.meterDeviceID, tiers: site.store.tiers)
            self.aggregator = aggregator
            siteConsolidator = SeriesConsolidator(schema: aggregator.schema, tiers: tiers)
        }
        let rawRetention = writer.plan.files.first { $0.tier.isRaw }?.retentionMS ?? 0
        rawFromMS = window.lastMS - rawRetention
        result.groups = written
        result.storeID = writer.storeID
    }

    /// Stores one row (rows come in time order, as `HistoryRowMapper` delivers them).
    public func add(_ row: HistoryRow) throws(StoreError) {
        let t = row.timestampMS
        let raw = t >= rawFromMS
        for (g, schema) in feedSchemas.enumerated() {
            if raw { try appendRaw(schema.groupID, t, row.values[g], row.qualities[g]) }
            consolidators[g].ingest(timestampMS: t, values: row.values[g], qualities: row.qualities[g], emit: write)
            aggregator?.accept(
                Scan(deviceID: schema.groupID, timestampMS: t, values: row.values[g], qualities: row.qualities[g]))
        }
        if let aggregator, siteConsolidator != nil {
            let sample = aggregator.sample(atMS: t)
            if raw { try appendRaw("site", t, sample.values, sample.qualities) }
            siteConsolidator!.ingest(timestampMS: t, values: sample.values, qualities: sample.qualities, emit: write)
        }
        if let failure { throw failure }
        rowsSinceRelease += 1
        if releasesPages, rowsSinceRelease >= Self.releaseRows {
            rowsSinceRelease = 0
            if writer.unsyncedBytes >= Self.syncBytes {
                try writer.releaseWrittenPages()
            } else {
                writer.releaseResidentPages()
            }
        }
    }

    /// Closes the window as essd's shutdown does (everything up to `window.endMS`, the open
    /// slots as they stand), records the import (an `imported` event naming `source`, the
    /// window and the sampling interval, for completeness by samples), then checkpoints.
    public func finish(nowMS: Int64, source: String = "") throws(StoreError) -> HistoryImportResult {
        // Slots starting at the window's end hold nothing of the file: not written, so data
        // already stored after the window is never touched.
        let end = window.endMS
        for g in consolidators.indices {
            consolidators[g].flush(untilMS: end, emit: write)
            for slot in consolidators[g].openSlots(nowMS: end) where slot.startMS < end { write(slot) }
        }
        if siteConsolidator != nil {
            siteConsolidator!.flush(untilMS: end, emit: write)
            for slot in siteConsolidator!.openSlots(nowMS: end) where slot.startMS < end { write(slot) }
        }
        if let failure { throw failure }
        if let interval = sampleIntervalMS, interval > 0 {
            try writer.recordImport(
                StoreImport(
                    groups: result.groups, fromMS: window.firstMS, toMS: end, intervalMS: interval, source: source,
                    notedMS: nowMS))
        }
        try writer.checkpoint(nowMS: nowMS)
        return result
    }

    private func appendRaw(_ group: String, _ t: Int64, _ values: [Double], _ qualities: [PointQuality])
        throws(StoreError)
    {
        if case .written = try writer.appendRaw(group: group, timestampMS: t, values: values, qualities: qualities) {
            result.rawRows += 1
        }
    }

    private func write(_ slot: ConsolidatedSlot) {
        guard failure == nil else { return }
        do {
            switch try writer.writeImported(slot) {
            case .written: result.slotsWritten[slot.tier, default: 0] += 1
            case .refusedOlderThanStored: result.slotsBeyondRetention[slot.tier, default: 0] += 1
            }
        } catch {
            failure = error
        }
    }
}

extension StoreWriter {
    /// Writes an imported (older) slot: like `write(_:)`, but a newer slot this group wrote in
    /// another row of the tier does not stop it; a row holding a newer slot still does (the
    /// ring's later lap is never overwritten). The group's newest slot stays the newest.
    func writeImported(_ slot: ConsolidatedSlot) throws(StoreError) -> SlotWriteResult {
        guard let t = plan.files.firstIndex(where: { $0.tier.name == slot.tier }),
            let g = schemas.firstIndex(where: { $0.groupID == slot.groupID })
        else { return try write(slot) }
        let newest = newestSlot(t, g)
        setNewestSlot(t, g, 0)
        defer { setNewestSlot(t, g, max(newest, newestSlot(t, g))) }
        return try write(slot)
    }
}
