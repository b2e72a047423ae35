import ESSCore

/// Valid data a store already holds for one group in one tier inside an import's window.
public struct ExistingHistory: Sendable, Hashable, CustomStringConvertible {
    public var tier: String
    public var group: String
    /// Start of the first and end of the last slot with valid data.
    public var fromMS: Int64
    public var toMS: Int64
    /// Slots with valid data.
    public var slots: Int

    public var description: String {
        "tier \(tier), group \(group): \(slots) slot(s) with data from \(HistoryRowMapper.utcText(fromMS)) to \(HistoryRowMapper.utcText(toMS))"
    }
}

/// An import refused because the store already has valid data in its window.
public struct HistoryImportRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public var directory: String
    public var existing: [ExistingHistory]

    public var description: String {
        var lines = ["the store in \(directory) already has data in the import's window; nothing was written:"]
        lines += existing.map { "  \($0)" }
        lines.append(
            "to replace it with the file's data (gaps included) run again with --force; to keep it, import only rows outside these times"
        )
        return lines.joined(separator: "\n")
    }
}

extension HistoryImporter {
    /// Where the store in `directory` already has valid data (a signal with samples or covered
    /// time, or energy) for `groups` in the slots `window` touches; empty when there is no store.
    public static func existingHistory(
        directory: String, groups: [String], window: HistoryImportWindow
    ) throws(StoreError) -> [ExistingHistory] {
        let reader: StoreReader
        do {
            reader = try StoreReader(directory: directory)
        } catch  where error.kind == .notFound {
            return []
        }
        var found: [ExistingHistory] = []
        let to = max(window.endMS, window.lastMS + 1)
        for tier in reader.plan.files.map(\.tier) where !tier.isRaw {
            for group in groups where reader.schemas.contains(where: { $0.groupID == group }) {
                var entry: ExistingHistory?
                // `slotsPerRead` slots at a time, the pages read given back after each: memory does
                // not grow with the window (a year of a fresh 1-min tier is 200 MB of zeros).
                let chunkMS = tier.slotMS * Self.slotsPerRead
                var from = window.firstMS / tier.slotMS * tier.slotMS
                while from < to {
                    let chunk = try reader.slots(
                        tier: tier.name, group: group, fromMS: from, toMS: min(to, from + chunkMS))
                    for stored in chunk {
                        guard let slot = stored.slot, Self.hasData(slot) else { continue }
                        if entry == nil {
                            entry = ExistingHistory(
                                tier: tier.name, group: group, fromMS: slot.startMS, toMS: 0, slots: 0)
                        }
                        entry!.toMS = slot.startMS + tier.slotMS
                        entry!.slots += 1
                    }
                    reader.releaseResidentPages()
                    from += chunkMS
                }
                if let entry { found.append(entry) }
            }
        }
        return found
    }

    /// The process id of a writer holding the store in `directory` (essd, another import), or
    /// nil when none does. Takes nothing: for `--dry-run` reports.
    public static func writerPID(directory: String) -> Int32? {
        StoreDirectoryLock.otherHolder(directory: directory)
    }

    /// Slots `existingHistory` reads at once (a day of 1-min slots).
    static let slotsPerRead: Int64 = 1440

    static func hasData(_ slot: ConsolidatedSlot) -> Bool {
        if slot.signals.contains(where: { $0.count > 0 || $0.coveredMS > 0 }) { return true }
        guard let e = slot.energy else { return false }
        return e.integratedMS > 0 || !e.counterChargeKWh.isNaN || !e.counterDischargeKWh.isNaN
    }
}
