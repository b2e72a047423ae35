public import ESSCore
public import Logging

/// The one writer of a store: creates or opens the state directory, maps every tier file and
/// writes raw rows and consolidated slots into them; `checkpoint` makes them durable.
///
/// One per process and per state directory, owned by one task or thread (not `Sendable`, no
/// locks). It does not consolidate (that is `ESSCore`'s job) and does not decide when to
/// checkpoint (the caller does, e.g. every 5 s).
public final class StoreWriter {
    public let directory: String
    public let plan: StorePlan
    /// Random UUID made when the store was created.
    public let storeID: String
    /// True when this writer created the store (the directory held none): it holds no data yet.
    public let createdStore: Bool
    public let schemas: [SeriesSchema]

    let logger: Logger
    let tierFiles: [TierFile]
    let tierIndex: [String: Int]
    let rawTier: Int?
    let groupIndex: [String: Int]
    /// Per group: last raw sequence and timestamp written, and whether rows are being refused
    /// (clock stepped back; logs once per episode). Behind a pointer (freed in `deinit`) so the
    /// per-scan path pays no exclusivity checks or copies for it.
    let rawCursors: UnsafeMutablePointer<RawCursor>
    /// The raw tier's mapping (nil without a raw tier).
    let rawFile: MappedFile?
    /// Group ids in schema order, for a lookup without hashing when there are few groups.
    let groupIDs: [String]
    /// Per tier file and group (at `t * groupSlots + g`): newest slot number written (0: none)
    /// and whether the last write was refused (logs once per episode). Behind a pointer (freed
    /// in `deinit`) like `rawCursors`: the slot path pays no copy-on-write checks for it.
    let slotCursors: UnsafeMutablePointer<SlotCursor>
    /// Stride of `slotCursors` per tier file.
    let groupSlots: Int
    /// Per group: its raw region (empty without a raw tier).
    let rawRegions: [RawRegion]
    /// Per consolidated tier: a row with every group unknown (the slot number is set per use),
    /// in memory the writer owns (freed in `deinit`); nil for the raw tier.
    let unknownRows: [UnsafeMutableRawPointer?]
    /// Per tier file, per group: the plan's `signalIndices`, copied once to memory the writer
    /// owns (for `SlotTarget`); freed in `deinit`.
    let keptSignals: [[UnsafeBufferPointer<Int>]]
    /// Per tier file and group (at `t * groupSlots + g`): where the group's part of a row is
    /// (StoreWriter+Rows.swift); empty targets for the raw tier.
    private(set) var slotTargets: [SlotTarget] = []
    var lastCheckpointMS: Int64?
    /// From the checkpoint at open: the instant the previous writer stopped with `stop(atMS:)`
    /// (nil: it ended otherwise, or never wrote a version-2 checkpoint).
    public let previousStopMS: Int64?
    /// Lines of `events.jsonl`, all applied (the checkpoint records the count).
    var eventLines: Int
    /// Per group (schema order): its quarantined raw rows, oldest first.
    var quarantinedRows: [[QuarantinedRows]]
    /// The directory's writer lock (StoreDirectoryLock.swift): one writing process at a time.
    let lock: StoreDirectoryLock
    /// The copy of the consolidated row being changed in place (RowJournal.swift).
    let rowJournal: RowJournal

    /// Opens the store in `directory`, creating it when there is none.
    ///
    /// An existing store must be for the same site and tiers; when the schemas only add signals
    /// or groups, the files are migrated to the new layout keeping every row. Signals or groups
    /// that disappear are refused unless `allowDroppingSignals` (their history is then deleted).
    public init(
        directory: String, siteID: String, schemas: [SeriesSchema], tiers: [TierDefinition],
        pollIntervalsMS: [String: Int64], rawBudgetBytes: Int64? = nil, allowDroppingSignals: Bool = false,
        nowMS: Int64, logger: Logger
    ) throws(StoreError) {
        let plan = try Self.plan(
            siteID: siteID, schemas: schemas, tiers: tiers, rawBudgetBytes: rawBudgetBytes,
            pollIntervalsMS: pollIntervalsMS)
        try SystemCalls.makeDirectory(directory)
        let lock = try StoreDirectoryLock(directory: directory)
        try StoreMigration.finishInterrupted(directory: directory, tierNames: tiers.map(\.name), logger: logger)
        let catalog: Catalog
        var created = false
        if let stored = try Catalog.read(directory: directory) {
            let storedSchemas = try stored.schemas(path: directory + "/" + Catalog.fileName)
            let change = try Compatibility.compare(
                stored: stored, storedSchemas: storedSchemas, siteID: siteID, schemas: schemas, tiers: tiers,
                rawBudgetBytes: rawBudgetBytes, allowDroppingSignals: allowDroppingSignals, directory: directory)
            let storedPlan = try Self.plan(
                siteID: stored.siteID, schemas: storedSchemas, tiers: stored.tierDefinitions,
                rawBudgetBytes: stored.rawBudgetBytes, pollIntervalsMS: stored.pollIntervalsMS)
            try stored.checkSizes(against: storedPlan, path: directory + "/" + Catalog.fileName)
            let updated = Catalog(
                plan: plan, schemas: schemas, tiers: tiers, pollIntervalsMS: pollIntervalsMS, storeID: stored.storeID,
                createdAtMS: stored.createdAtMS)
            if storedPlan != plan {
                logger.notice(
                    "store layout changes: migrating tier files",
                    metadata: ["directory": "\(directory)", "change": "\(change)"])
                try StoreMigration.migrate(
                    directory: directory, from: storedPlan, oldSchemas: storedSchemas, to: plan, newSchemas: schemas,
                    catalog: updated, logger: logger)
            } else if updated != stored {
                try updated.write(directory: directory)
            }
            catalog = updated
        } else {
            catalog = Catalog(
                plan: plan, schemas: schemas, tiers: tiers, pollIntervalsMS: pollIntervalsMS, storeID: nil,
                createdAtMS: nowMS)
            try Self.create(directory: directory, plan: plan, catalog: catalog, logger: logger)
            created = true
        }
        createdStore = created
        var files: [TierFile] = []
        for file in plan.files {
            let path = directory + "/" + file.fileName
            let mapped = try MappedFile(path: path, writable: true)
            try TierHeader.verify(mapped.base, fileBytes: Int64(mapped.bytes), expected: file, plan: plan, path: path)
            files.append(TierFile(plan: file, file: mapped))
        }
        // A row the previous writer left torn goes back to what it held before the change.
        let journal = try RowJournal.openForWriting(directory: directory, plan: plan)
        _ = journal.restore(into: files, logger: logger)
        self.rowJournal = journal
        self.directory = directory
        self.lock = lock
        self.plan = plan
        self.storeID = catalog.storeID
        self.schemas = schemas
        self.logger = logger
        self.tierFiles = files
        var tierIndex: [String: Int] = [:]
        for (index, file) in files.enumerated() { tierIndex[file.plan.tier.name] = index }
        self.tierIndex = tierIndex
        rawTier = files.firstIndex { $0.plan.tier.isRaw }
        rawRegions = rawTier.map { files[$0].plan.groups.map(RawRegion.init) } ?? []
        rawFile = rawTier.map { files[$0].file }
        groupIDs = schemas.map(\.groupID)
        var groupIndex: [String: Int] = [:]
        for (index, schema) in schemas.enumerated() { groupIndex[schema.groupID] = index }
        self.groupIndex = groupIndex
        unknownRows = files.map { file in
            let row = Self.unknownRow(file.plan)
            guard !row.isEmpty else { return nil }
            let copy = UnsafeMutableRawPointer.allocate(byteCount: row.count, alignment: 8)
            row.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: row.count) }
            return copy
        }
        keptSignals = files.map { file in
            file.plan.groups.map { layout in
                let copy = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(1, layout.signalIndices.count))
                _ = copy.initialize(from: layout.signalIndices)
                return UnsafeBufferPointer(start: copy.baseAddress, count: layout.signalIndices.count)
            }
        }
        var checkpoint = try? CheckpointRecord.read(directory: directory)
        if let id = checkpoint?.storeID, id != catalog.storeID {
            logger.warning(
                "checkpoint file belongs to another store (a copied state directory?): ignored",
                metadata: ["directory": "\(directory)", "checkpoint_store_id": "\(id)", "store_id": "\(catalog.storeID)"])
            checkpoint = nil
        }
        lastCheckpointMS = checkpoint?.checkpointMS
        previousStopMS = checkpoint?.stopMS
        let events = try StoreEventLog.read(directory: directory)
        eventLines = events.lineCount
        quarantinedRows = Self.quarantines(in: events, schemas: schemas)
        rawCursors = .allocate(capacity: max(1, schemas.count))
        rawCursors.initialize(repeating: RawCursor(), count: max(1, schemas.count))
        groupSlots = max(1, schemas.count)
        slotCursors = .allocate(capacity: max(1, files.count) * groupSlots)
        slotCursors.initialize(repeating: SlotCursor(), count: max(1, files.count) * groupSlots)
        for (t, file) in files.enumerated() {
            for (g, schema) in schemas.enumerated() {
                slotCursors[t * groupSlots + g].newest = checkpoint?.newestSlots[file.plan.tier.name]?[schema.groupID] ?? 0
            }
        }
        var damagedHints: [(group: Int, reason: String)] = []
        if let rawTier {
            for (group, schema) in schemas.enumerated() {
                let base = checkpoint?.raw[schema.groupID]
                let found = RawRecovery.recover(in: files[rawTier], group: group, sequenceBase: base?.sequence ?? 0)
                var last = found.last
                // Checkpointed rows were durable: their sequences are never used again.
                if let base, base.sequence > last?.sequence ?? 0 {
                    last = RawRecovery.Position(sequence: base.sequence, timestampMS: base.timestampMS)
                }
                rawCursors[group].sequence = last?.sequence ?? 0
                rawCursors[group].timestampMS = last?.timestampMS ?? .min
                // Rows quarantined last: storing resumes after the newest row before them.
                if let sequence = last?.sequence, let range = quarantinedRows[group].last(where: { $0.contains(sequence) }) {
                    rawCursors[group].timestampMS = range.resumeAfterMS ?? .min
                }
                if let reason = found.damagedHint { damagedHints.append((group, reason)) }
            }
        }
        var targets: [SlotTarget] = []
        for t in files.indices {
            for g in 0..<groupSlots { targets.append(g < schemas.count ? slotTarget(tier: t, group: g) : SlotTarget()) }
        }
        slotTargets = targets
        try applyPendingEvents(events, applied: checkpoint?.eventLines ?? 0, nowMS: nowMS)
        for (group, reason) in damagedHints { try repairHint(group: group, reason: reason, nowMS: nowMS) }
        logger.info(
            "store open",
            metadata: [
                "directory": "\(directory)", "store_id": "\(storeID)", "bytes": "\(plan.totalBytes)",
                "checkpoint_ms": "\(lastCheckpointMS.map(String.init) ?? "none")",
            ])
    }

    /// Creates every tier file at its full size (header first), then the catalogue last: a
    /// directory without `catalog.json` holds no store, whatever else is in it.
    static func create(directory: String, plan: StorePlan, catalog: Catalog, logger: Logger) throws(StoreError) {
        try SystemCalls.removeIfExists(directory + "/" + CheckpointRecord.fileName)
        try SystemCalls.removeIfExists(directory + "/" + StoreEventLog.fileName)
        for file in plan.files {
            try MappedFile.create(
                path: directory + "/" + file.fileName, bytes: file.bytes, header: TierHeader.encode(file, plan: plan))
        }
        try SystemCalls.fsyncDirectory(directory)
        try catalog.write(directory: directory)
        logger.notice(
            "store created",
            metadata: ["directory": "\(directory)", "store_id": "\(catalog.storeID)", "bytes": "\(plan.totalBytes)"])
    }

    /// A row of `file` whose every slot and group part is "not written" (see `SlotCodec`); its
    /// prefix (slot number, CRC) is zero.
    static func unknownRow(_ file: TierFilePlan) -> [UInt8] {
        guard !file.tier.isRaw else { return [] }
        var row = [UInt8](repeating: 0, count: file.rowBytes)
        row.withUnsafeMutableBytes { buffer in
            for slot in 0..<file.slotsPerRow {
                let base = buffer.baseAddress! + slot * file.slotBytes
                for group in file.groups {
                    for position in group.signalIndices.indices {
                        SlotCodec.encodeNotWritten(to: base + group.offset + position * Layout.signalBytes)
                    }
                    if group.hasEnergy {
                        SlotCodec.encodeNotWrittenEnergy(
                            to: base + group.offset + group.signalIndices.count * Layout.signalBytes)
                    }
                }
            }
        }
        return row
    }

    /// Time of the last checkpoint (from the `checkpoint` file at open, then from `checkpoint(nowMS:)`).
    public var lastCheckpoint: Int64? { lastCheckpointMS }

    /// Newest slot number group `g` wrote in tier file `t` (0: none).
    @inline(__always)
    func newestSlot(_ t: Int, _ g: Int) -> UInt32 { slotCursors[t * groupSlots + g].newest }

    @inline(__always)
    func setNewestSlot(_ t: Int, _ g: Int, _ number: UInt32) { slotCursors[t * groupSlots + g].newest = number }

    deinit {
        rawCursors.deallocate()
        slotCursors.deallocate()
        for row in unknownRows { row?.deallocate() }
        for perGroup in keptSignals { for kept in perGroup { UnsafeMutableRawPointer(mutating: kept.baseAddress)?.deallocate() } }
    }
}

/// A group's consolidated write position in one tier (see `StoreWriter.slotCursors`).
struct SlotCursor {
    var newest: UInt32 = 0
    var refusing = false
}
