public import ESSCore

/// The sizes of a store, computed from the configuration before anything is written: one
/// entry per tier file. `essctl store plan` prints it; `StoreWriter` creates exactly these sizes.
public struct StorePlan: Sendable, Hashable {
    /// Version of the on-disk format this plan describes.
    public static let formatVersion: UInt16 = 4

    public var siteID: String
    /// Hash of every group's layout (signal names, roles, tier membership, energy sources).
    public var schemaHash: UInt64
    /// Byte budget of the raw tier file, when the raw retention follows from it.
    public var rawBudgetBytes: Int64?
    public var files: [TierFilePlan]

    /// Sum of every tier file's size.
    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.bytes } }

    public func file(named tier: String) -> TierFilePlan? { files.first { $0.tier.name == tier } }
}

/// One tier file: its header, rows and the retention it actually achieves.
public struct TierFilePlan: Sendable, Hashable {
    public var tier: TierDefinition
    /// "<tier>.tier".
    public var fileName: String
    /// A multiple of 4096 (one page unless the group table needs more).
    public var headerBytes: Int
    /// Consolidated: bytes of one row (`slotsPerRow` consecutive slots of the whole site after
    /// the 8-byte prefix). Raw: sum of one row of every group.
    public var rowBytes: Int
    /// Consolidated: slots in one row (1, 2, 4 or 8; see `Layout.slotsPerRow`). Raw: 1.
    public var slotsPerRow: Int
    /// Consolidated: slots in the ring (a multiple of `slotsPerRow`). Raw: rows of all groups together.
    public var capacity: Int
    /// Size of the file.
    public var bytes: Int64
    /// Retention the capacity gives (raw: the shortest over the groups).
    public var retentionMS: Int64
    /// Where each group lives in a row (consolidated) or in the file (raw), in schema order.
    public var groups: [GroupLayout]

    /// Consolidated: bytes of one slot of the whole site inside a row.
    public var slotBytes: Int { (rowBytes - Layout.rowPrefixBytes) / slotsPerRow }

    /// Consolidated: the first slot number of the row holding slot `number` (the row's key).
    @inline(__always)
    func rowKey(slotNumber number: UInt32) -> UInt32 { number - number % UInt32(slotsPerRow) }

    /// Consolidated: byte offset in the file of the row holding slot `number`.
    @inline(__always)
    func rowOffset(slotNumber number: UInt32) -> Int {
        headerBytes + Int(number) / slotsPerRow % (capacity / slotsPerRow) * rowBytes
    }

    /// Consolidated: byte offset, inside its row, of slot `number`'s part of `group`.
    @inline(__always)
    func partOffset(slotNumber number: UInt32, group: GroupLayout) -> Int {
        group.offset + Int(number) % slotsPerRow * slotBytes
    }
}

/// Where one group is stored inside a tier file.
public struct GroupLayout: Sendable, Hashable {
    public var groupID: String
    /// Indices (in schema order) of the signals kept in this tier.
    public var signalIndices: [Int]
    /// Whether the group's part of a consolidated row has the 24 energy bytes.
    public var hasEnergy: Bool
    /// Consolidated: byte offset of the group's part of a row's first slot (add `slotBytes` per
    /// further slot of the row). Raw: offset of its region in the file.
    public var offset: Int
    /// Consolidated: bytes of the group's part of a row. Raw: bytes of one of its rows.
    public var bytes: Int
    /// Raw only: rows in the group's region (0 for consolidated tiers).
    public var capacity: Int
    /// Raw only: the group's poll interval.
    public var pollIntervalMS: Int64
}

/// Byte sizes of the format, shared by the plan, the writer and the reader.
enum Layout {
    static let pageBytes = 4096
    /// Consolidated row: UInt32 slot number (of the row's first slot), UInt32 CRC32C.
    static let rowPrefixBytes = 8
    /// Most slots one consolidated row holds.
    static let maxSlotsPerRow = 8

    /// Slots per consolidated row for slots of `slotBytes`: the smallest power of two (at most
    /// `maxSlotsPerRow`) for which the 8-byte row prefix costs at most 1/14 of the slots' bytes,
    /// i.e. at most 1 byte per 14-byte signal: 8 for one signal, 4 for two or three, 2 for four
    /// to seven, 1 from eight. A slot then takes at most 15 bytes per signal.
    static func slotsPerRow(slotBytes: Int) -> Int {
        var slots = 1
        while slots < maxSlotsPerRow && rowPrefixBytes * 14 > slotBytes * slots { slots *= 2 }
        return slots
    }
    /// Format 2: 14 (format 1 had 16; see `SlotCodec`).
    static let signalBytes = 14
    static let energyBytes = 24
    /// Raw row: Int64 timestamp, UInt32 sequence, UInt32 CRC32C, then 9 bytes per signal.
    static let rawPrefixBytes = 16
    static let rawSignalBytes = 9
    /// Each raw region starts with a 64-byte head (hint of the last sequence written).
    static let rawHeadBytes = 64
    static let headerFixedBytes = 352
    static let headerEntryFixedBytes = 36

    static func headerBytes(groupIDs: [String]) -> Int {
        let entries = groupIDs.reduce(0) { $0 + headerEntryFixedBytes + $1.utf8.count }
        return (headerFixedBytes + entries + 4 + pageBytes - 1) / pageBytes * pageBytes
    }
}

extension StoreWriter {
    /// The sizes the store will have for this configuration; nothing is written.
    ///
    /// Consolidated tiers keep `ceil(retentionMS / slotMS)` slots. The raw tier keeps, per
    /// group, `ceil(retentionMS / pollIntervalMS)` rows, or, when `rawBudgetBytes` is given, the
    /// budget (whole raw file) is split between groups in proportion to the bytes per ms each
    /// writes, so they all keep about the same time; the raw tier's `retentionMS` is then ignored.
    public static func plan(
        siteID: String, schemas: [SeriesSchema], tiers: [TierDefinition], rawBudgetBytes: Int64? = nil,
        pollIntervalsMS: [String: Int64]
    ) throws(StoreError) -> StorePlan {
        try PlanValidation.check(siteID: siteID, schemas: schemas, tiers: tiers, pollIntervalsMS: pollIntervalsMS)
        let headerBytes = Layout.headerBytes(groupIDs: schemas.map(\.groupID))
        var files: [TierFilePlan] = []
        for tier in tiers {
            let kept = schemas.map { schema in
                schema.signals.indices.filter { schema.signals[$0].tiers.contains(tier.name) }
            }
            if tier.isRaw {
                files.append(
                    try rawPlan(
                        tier: tier, schemas: schemas, kept: kept, headerBytes: headerBytes, budget: rawBudgetBytes,
                        pollIntervalsMS: pollIntervalsMS))
                continue
            }
            var groups: [GroupLayout] = []
            var offset = Layout.rowPrefixBytes
            for (index, schema) in schemas.enumerated() {
                let bytes = kept[index].count * Layout.signalBytes + (schema.energy.hasEnergy ? Layout.energyBytes : 0)
                groups.append(
                    GroupLayout(
                        groupID: schema.groupID, signalIndices: kept[index], hasEnergy: schema.energy.hasEnergy,
                        offset: offset, bytes: bytes, capacity: 0, pollIntervalMS: 0))
                offset += bytes
            }
            let slotBytes = offset - Layout.rowPrefixBytes
            let slotsPerRow = Layout.slotsPerRow(slotBytes: slotBytes)
            let rowBytes = Layout.rowPrefixBytes + slotsPerRow * slotBytes
            let slots = (tier.retentionMS + tier.slotMS - 1) / tier.slotMS
            let rows = Int((slots + Int64(slotsPerRow) - 1) / Int64(slotsPerRow))
            files.append(
                TierFilePlan(
                    tier: tier, fileName: "\(tier.name).tier", headerBytes: headerBytes, rowBytes: rowBytes,
                    slotsPerRow: slotsPerRow, capacity: rows * slotsPerRow,
                    bytes: Int64(headerBytes) + Int64(rows) * Int64(rowBytes),
                    retentionMS: Int64(rows * slotsPerRow) * tier.slotMS, groups: groups))
        }
        return StorePlan(
            siteID: siteID, schemaHash: SchemaHash.of(schemas), rawBudgetBytes: rawBudgetBytes, files: files)
    }

    private static func rawPlan(
        tier: TierDefinition, schemas: [SeriesSchema], kept: [[Int]], headerBytes: Int, budget: Int64?,
        pollIntervalsMS: [String: Int64]
    ) throws(StoreError) -> TierFilePlan {
        let rowBytes = kept.map { Layout.rawPrefixBytes + $0.count * Layout.rawSignalBytes }
        let polls = schemas.map { pollIntervalsMS[$0.groupID] ?? 1 }
        var capacities: [Int]
        if let budget {
            // Bytes left for rows after the header, the region heads and up to 63 bytes of alignment each.
            let overhead = Int64(headerBytes) + Int64(schemas.count) * Int64(Layout.rawHeadBytes + 63)
            let bytesPerMS = zip(rowBytes, polls).reduce(0.0) { $0 + Double($1.0) / Double($1.1) }
            guard budget > overhead, bytesPerMS > 0 else {
                throw StoreError(
                    .invalidConfiguration,
                    "raw byte budget \(budget) is too small: the header and group heads alone take \(overhead) bytes; raise raw_budget_bytes"
                )
            }
            let retentionMS = Double(budget - overhead) / bytesPerMS
            capacities = polls.map { max(1, Int(retentionMS / Double($0))) }
            // Rounding can never exceed the budget: shrink the largest consumer until it fits.
            while Int64(overhead) + zip(capacities, rowBytes).reduce(0, { $0 + Int64($1.0 * $1.1) }) > budget,
                let worst = capacities.indices.max(by: { capacities[$0] * rowBytes[$0] < capacities[$1] * rowBytes[$1] }
                ),
                capacities[worst] > 1
            {
                capacities[worst] -= 1
            }
        } else {
            capacities = polls.map { Int((tier.retentionMS + $0 - 1) / $0) }
        }
        var groups: [GroupLayout] = []
        var offset = headerBytes
        for (index, schema) in schemas.enumerated() {
            offset = (offset + 63) / 64 * 64
            groups.append(
                GroupLayout(
                    groupID: schema.groupID, signalIndices: kept[index], hasEnergy: false, offset: offset,
                    bytes: rowBytes[index], capacity: capacities[index], pollIntervalMS: polls[index]))
            offset += Layout.rawHeadBytes + capacities[index] * rowBytes[index]
        }
        let achieved = zip(capacities, polls).map { Int64($0.0) * $0.1 }.min() ?? tier.retentionMS
        return TierFilePlan(
            tier: tier, fileName: "\(tier.name).tier", headerBytes: headerBytes, rowBytes: rowBytes.reduce(0, +),
            slotsPerRow: 1, capacity: capacities.reduce(0, +), bytes: Int64(offset), retentionMS: achieved, groups: groups)
    }
}

/// Checks a configuration can be stored; one place for every rule.
enum PlanValidation {
    static func check(
        siteID: String, schemas: [SeriesSchema], tiers: [TierDefinition], pollIntervalsMS: [String: Int64]
    ) throws(StoreError) {
        func fail(_ text: String) -> StoreError { StoreError(.invalidConfiguration, text) }
        guard StoreNameLimits.siteIDBytes.contains(siteID.utf8.count) else { throw fail("site id must be 1 to 256 bytes long") }
        var tierNames = Set<String>()
        for tier in tiers {
            let allowed = tier.name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
                    || $0 == "-"
            }
            guard allowed, StoreNameLimits.tierNameBytes.contains(tier.name.utf8.count) else {
                throw fail("tier name '\(tier.name)' must be 1 to 31 letters, digits, '_' or '-' (it names a file)")
            }
            guard tierNames.insert(tier.name).inserted else { throw fail("tier '\(tier.name)' is defined twice") }
            guard tier.retentionMS > 0 else { throw fail("tier '\(tier.name)' needs a positive retention") }
            guard tier.isRaw || tier.slotMS >= 1000 else {
                throw fail("tier '\(tier.name)': slot length \(tier.slotMS) ms is below the 1 s minimum")
            }
        }
        guard tiers.filter(\.isRaw).count <= 1 else { throw fail("only one raw tier (slot 0) is allowed") }
        let hasRaw = tiers.contains(where: \.isRaw)
        var groupIDs = Set<String>()
        for schema in schemas {
            guard StoreNameLimits.groupIDBytes.contains(schema.groupID.utf8.count) else {
                throw fail("group id '\(schema.groupID)' must be 1 to 255 bytes long")
            }
            guard groupIDs.insert(schema.groupID).inserted else {
                throw fail("group '\(schema.groupID)' appears twice")
            }
            if hasRaw {
                guard let poll = pollIntervalsMS[schema.groupID], poll > 0 else {
                    throw fail("group '\(schema.groupID)' has no poll interval: the raw tier's size depends on it")
                }
            }
            var names = Set<String>()
            for signal in schema.signals {
                guard names.insert(signal.name).inserted else {
                    throw fail("group '\(schema.groupID)': signal '\(signal.name)' appears twice")
                }
                for tier in signal.tiers where !tierNames.contains(tier) {
                    throw fail("group '\(schema.groupID)': signal '\(signal.name)' names unknown tier '\(tier)'")
                }
            }
        }
    }
}

/// FNV-1a 64 of a canonical text of the layout-relevant parts of the schemas.
enum SchemaHash {
    static func of(_ schemas: [SeriesSchema]) -> UInt64 {
        var text = ""
        for schema in schemas {
            let e = schema.energy
            text += "g=\(schema.groupID);e=\(e.activePower ?? -1),\(e.chargeCounter ?? -1),\(e.dischargeCounter ?? -1);"
            for signal in schema.signals {
                text += "s=\(signal.name):\(signal.role.rawValue):\(signal.tiers.sorted().joined(separator: ","));"
            }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
