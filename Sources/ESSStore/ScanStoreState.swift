import ESSCore
import Foundation
import Logging

/// The store thread's state, replaced on reconfiguration. Touched only by the store thread
/// (and by `init` and `reconfigure` before the thread runs).
final class OwnedBox: @unchecked Sendable {
    var state: OwnedState
    init(state: OwnedState) { self.state = state }
}

/// What only the store thread touches (and `init`, before the thread exists): the writer, the
/// consolidators and the site aggregator, and how they are rebuilt from the raw tier.
final class OwnedState: @unchecked Sendable {
    let writer: StoreWriter
    let site: SiteConfiguration
    var consolidators: [String: SeriesConsolidator] = [:]
    var siteAggregator: SiteAggregator
    var siteConsolidator: SeriesConsolidator
    let siteIntervalMS: Int64
    var lastSiteSampleMS: Int64 = 0
    let logger: Logger
    var holdingBack: Set<String> = []
    var destinations: [String: StoreWriter.SlotDestination] = [:]
    let clock: @Sendable () -> Int64

    init(
        writer: StoreWriter, site: SiteConfiguration, logger: Logger, clock: @escaping @Sendable () -> Int64
    ) {
        self.writer = writer
        self.site = site
        self.logger = logger
        self.clock = clock
        siteAggregator = SiteAggregator(
            devices: site.devices, meterDeviceID: site.store.meterDeviceID, tiers: site.store.tiers)
        siteConsolidator = SeriesConsolidator(schema: siteAggregator.schema, tiers: site.store.tiers)
        siteIntervalMS = site.seriesPollIntervalsMS["site"] ?? 1000
        resetConsolidation()
    }

    /// Fresh consolidators and site aggregator (nothing ingested yet).
    func resetConsolidation() {
        let tiers = site.store.tiers.filter { !$0.isRaw }
        var consolidators: [String: SeriesConsolidator] = [:]
        for schema in site.seriesSchemas where schema.groupID != "site" {
            consolidators[schema.groupID] = SeriesConsolidator(schema: schema, tiers: tiers)
        }
        self.consolidators = consolidators
        siteAggregator = SiteAggregator(
            devices: site.devices, meterDeviceID: site.store.meterDeviceID, tiers: site.store.tiers)
        siteConsolidator = SeriesConsolidator(schema: siteAggregator.schema, tiers: tiers)
        lastSiteSampleMS = 0
        holdingBack = []
    }

    /// Raw row, consolidation and (when due) a site sample for one scan.
    func store(_ scan: Scan) -> (slots: Int, held: Bool) {
        var slots = 0
        var held = false
        // A device removed by a reload may still deliver its last scan: not stored.
        guard consolidators[scan.deviceID] != nil || writer.schemas.contains(where: { $0.groupID == scan.deviceID })
        else {
            return (0, false)
        }
        do {
            if case .refusedClockStepBack(let last) = try writer.appendRaw(
                group: scan.deviceID, timestampMS: scan.timestampMS, values: scan.values, qualities: scan.qualities)
            {
                held = true
                noteHold(scan.deviceID, lastMS: last, atMS: scan.timestampMS)
            }
            // Mutated in place: a copy out of the dictionary would copy its open slots (copy on write).
            let destination = try self.destination(scan.deviceID)
            let outcome = consolidators[scan.deviceID]?.ingest(
                timestampMS: scan.timestampMS, values: scan.values, qualities: scan.qualities
            ) { slot in slots += write(slot, to: destination, group: scan.deviceID) }
            if case .heldBackClockStep = outcome { held = true }
            siteAggregator.accept(scan)
            let boundary = scan.timestampMS / siteIntervalMS * siteIntervalMS
            if boundary > lastSiteSampleMS {
                lastSiteSampleMS = boundary
                let sample = siteAggregator.sample(atMS: scan.timestampMS)
                try writer.appendRaw(
                    group: "site", timestampMS: sample.timestampMS, values: sample.values, qualities: sample.qualities)
                let destination = try self.destination("site")
                _ = siteConsolidator.ingest(
                    timestampMS: sample.timestampMS, values: sample.values, qualities: sample.qualities
                ) {
                    slots += write($0, to: destination, group: "site")
                }
            }
            if !held { holdingBack.remove(scan.deviceID) }
        } catch {
            logger.error("cannot store scan", metadata: ["device": "\(scan.deviceID)", "error": "\(error)"])
        }
        return (slots, held)
    }

    private func write(_ slot: ConsolidatedSlot) -> Int {
        do {
            if case .written = try writer.write(slot) { return 1 }
        } catch {
            logger.error(
                "cannot write slot",
                metadata: ["group": "\(slot.groupID)", "tier": "\(slot.tier)", "error": "\(error)"])
        }
        return 0
    }

    /// Where `group`'s consolidator writes its slots (resolved once per group).
    private func destination(_ group: String) throws(StoreError) -> StoreWriter.SlotDestination {
        if let known = destinations[group] { return known }
        let tiers = group == "site" ? siteConsolidator.tiers : consolidators[group]?.tiers ?? []
        let resolved = try writer.destination(group: group, tiers: tiers)
        destinations[group] = resolved
        return resolved
    }

    private func write(_ slot: borrowing ClosedSlot, to destination: StoreWriter.SlotDestination, group: String) -> Int {
        do {
            if case .written = try writer.write(slot, to: destination) { return 1 }
        } catch {
            logger.error(
                "cannot write slot",
                metadata: ["group": "\(group)", "slot_ms": "\(slot.startMS)", "error": "\(error)"])
        }
        return 0
    }

    private func noteHold(_ group: String, lastMS: Int64, atMS: Int64) {
        if holdingBack.insert(group).inserted {
            logger.warning(
                "wall clock is behind the last stored time; holding samples until it passes it",
                metadata: ["group": "\(group)", "behind_ms": "\(lastMS - atMS)"])
        }
    }

    /// Writes every open slot as it stands (data up to the last poll is visible).
    func writeOpenSlots(nowMS: Int64) {
        for consolidator in consolidators.values {
            for slot in consolidator.openSlots(nowMS: nowMS) { _ = write(slot) }
        }
        for slot in siteConsolidator.openSlots(nowMS: nowMS) { _ = write(slot) }
    }

    /// Stops at `nowMS` (shutdown): every consolidator stops there (holds end, the slots that
    /// end by then are written), the open slots are written as they stand, and the writer
    /// records the stop (event and checkpoint), so a restart never extends what was read before.
    func stop(atMS nowMS: Int64) throws(StoreError) {
        var slots = 0
        for group in Array(consolidators.keys) {
            let destination = try self.destination(group)
            consolidators[group]?.stop(atMS: nowMS) { slots += write($0, to: destination, group: group) }
        }
        let destination = try self.destination("site")
        siteConsolidator.stop(atMS: nowMS) { slots += write($0, to: destination, group: "site") }
        writeOpenSlots(nowMS: nowMS)
        try writer.stop(atMS: nowMS)
    }

    /// Quarantines what was stored under a wall clock that was stepped back
    /// (`StoreWriter.quarantine`), then rebuilds the open slots from the raw tier without it:
    /// storing continues at once at the true time.
    func quarantine(fromMS: Int64, toMS: Int64, reason: String, directory: String) throws(StoreError) -> StoreQuarantine {
        let quarantine = try writer.quarantine(fromMS: fromMS, toMS: toMS, reason: reason, nowMS: clock())
        guard !quarantine.rows.isEmpty else { return quarantine }
        resetConsolidation()
        try replayOpenSlots(directory: directory)
        return quarantine
    }

    /// Rebuilds the open slots from the raw tier after a restart (or a quarantine): raw rows
    /// from the start of the longest tier's current slot (less the longest heartbeat, so holds
    /// and energy reaching into it are the same) are fed to the consolidators again, with every
    /// recorded stop in between (`StoreEvent.stopped`: holds end there), so each slot rebuilt
    /// is the one written before, byte for byte, until new samples fall in it. Slots closed
    /// while replaying are not written again; quarantined rows are left out (`StoreReader`).
    func replayOpenSlots(directory: String) throws(StoreError) {
        let longest = site.store.tiers.filter { !$0.isRaw }.map(\.slotMS).max() ?? 0
        guard longest > 0 else { return }
        let now = clock()
        let from = now / longest * longest
        let reader = try StoreReader(directory: directory)
        let stops = try reader.events().events.compactMap { event -> Int64? in
            if case .stopped(let at, _) = event { return at }
            return nil
        }.sorted()
        var replayed = 0
        for group in Array(consolidators.keys) + ["site"] {
            let schema = group == "site" ? siteConsolidator.schema : consolidators[group]!.schema
            let lookback = schema.signals.map(\.heartbeatMS).max() ?? 0
            let rows = try reader.raw(group: group, fromMS: from - lookback, toMS: now).rows
            guard let first = rows.first, let last = rows.last else { continue }
            var start = 0
            for stop in stops where stop >= first.timestampMS {
                var end = start
                while end < rows.count && rows[end].timestampMS <= stop { end += 1 }
                replay(group, rows[start..<end])
                if group == "site" {
                    siteConsolidator.stop(atMS: stop, onClose: { _ in })
                } else {
                    consolidators[group]?.stop(atMS: stop, onClose: { _ in })
                }
                start = end
            }
            replay(group, rows[start...])
            if group == "site" {
                lastSiteSampleMS = max(lastSiteSampleMS, last.timestampMS / siteIntervalMS * siteIntervalMS)
            }
            replayed += rows.count
        }
        if replayed > 0 { logger.info("resumed open slots from the raw tier", metadata: ["rows": "\(replayed)"]) }
    }

    /// Feeds raw rows to `group`'s consolidator in one batch (its bulk path); nothing written.
    private func replay(_ group: String, _ rows: ArraySlice<RawRow>) {
        guard !rows.isEmpty else { return }
        let timestamps = rows.map(\.timestampMS)
        let values = rows.flatMap(\.values)
        let qualities = rows.flatMap { $0.qualities.map { $0 ?? .communicationFailure } }
        if group == "site" {
            siteConsolidator.ingest(timestampsMS: timestamps, values: values, qualities: qualities, onClose: { _ in })
        } else {
            consolidators[group]?.ingest(timestampsMS: timestamps, values: values, qualities: qualities, onClose: { _ in })
        }
    }
}

/// Wall-clock milliseconds (UTC) for the store's checkpoints and replays.
enum PollClockForStore {
    static func wallMS() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
