public import ESSCore

/// A row that failed its checksum on every attempt: reported, and read as unknown.
public struct DamagedRow: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    /// Byte offset of the row in the file.
    public var offset: Int
    public var tier: String
    public var groupID: String?
    /// The slot start (consolidated) or raw sequence the row was read for.
    public var expected: Int64

    public var description: String {
        "damaged row in \(path) at byte \(offset) (tier \(tier)\(groupID.map { ", group \($0)" } ?? ""), expected \(expected)): read as unknown"
    }
}

/// One consolidated slot as read from a tier file.
public enum StoredSlot: Sendable, Hashable {
    /// The row holds this slot (its signals may still be unknown: no valid data).
    case stored(ConsolidatedSlot)
    /// The row was never written for this slot, or holds another lap's slot.
    case missing(startMS: Int64)
    /// The row failed its checksum: its values are unknown.
    case damaged(startMS: Int64, DamagedRow)

    public var startMS: Int64 {
        switch self {
        case .stored(let slot): slot.startMS
        case .missing(let start), .damaged(let start, _): start
        }
    }

    /// The stored slot, or nil when missing or damaged.
    public var slot: ConsolidatedSlot? {
        if case .stored(let slot) = self { return slot }
        return nil
    }
}

/// One raw row as read back.
public struct RawRow: Sendable, Hashable {
    public var timestampMS: Int64
    public var sequence: UInt64
    /// In schema order; NaN for signals the raw tier does not keep.
    public var values: [Double]
    /// In schema order; nil for signals the raw tier does not keep (or the row predates).
    public var qualities: [PointQuality?]
}

/// Raw rows of a range, with the rows that were damaged.
public struct RawRange: Sendable, Hashable {
    public var rows: [RawRow]
    public var damaged: [DamagedRow]
}

/// Reads a store another process writes: maps the tier files read-only and checks every row it
/// reads (slot number or sequence, then CRC, copied again up to 3 times when the CRC fails).
/// Takes no locks and never writes. Not thread-safe: one per thread.
public final class StoreReader {
    public let directory: String
    public let siteID: String
    public let storeID: String
    public let schemas: [SeriesSchema]
    public let tiers: [TierDefinition]
    public let plan: StorePlan
    public let createdAtMS: Int64

    let tierFiles: [TierFile]
    let tierIndex: [String: Int]
    let groupIndex: [String: Int]
    /// Every damaged row met so far (deduplicated by file and offset).
    public private(set) var damagedRows: [DamagedRow] = []
    private var damagedKeys = Set<String>()
    /// Head hints `verify()` found damaged (the rows were scanned instead).
    public internal(set) var damagedHints: [DamagedHint] = []
    /// Per group (schema order): raw rows quarantined (`events.jsonl`), left out of every read.
    let quarantinedRows: [[QuarantinedRows]]
    /// Per group: where a full scan found the newest row when the hint was not trusted (kept so
    /// the scan is not repeated by every read; reads walk forward from it).
    var scannedNewest: [Int: RawRecovery.Position] = [:]
    /// Damaged rows met since the last `beginCall()` (for the result of one query).
    var damagedInCall: [DamagedRow] = []

    /// How many times a row is copied again when its CRC fails before it is reported damaged.
    static let retries = 3
    /// The copy of the row a writer is changing (RowJournal.swift), nil when there is none.
    let rowJournal: RowJournal?

    /// Opens the store in `directory`; refuses when the catalogue, a header or a file size is wrong.
    public init(directory: String) throws(StoreError) {
        guard let catalog = try Catalog.read(directory: directory) else {
            throw StoreError(
                .notFound, "\(directory) holds no store (no \(Catalog.fileName)): check the state directory path")
        }
        let schemas = try catalog.schemas(path: directory + "/" + Catalog.fileName)
        let tiers = catalog.tierDefinitions
        let plan = try StoreWriter.plan(
            siteID: catalog.siteID, schemas: schemas, tiers: tiers, rawBudgetBytes: catalog.rawBudgetBytes,
            pollIntervalsMS: catalog.pollIntervalsMS)
        try catalog.checkSizes(against: plan, path: directory + "/" + Catalog.fileName)
        var files: [TierFile] = []
        for file in plan.files {
            let path = directory + "/" + file.fileName
            let mapped = try MappedFile(path: path, writable: false)
            try TierHeader.verify(mapped.base, fileBytes: Int64(mapped.bytes), expected: file, plan: plan, path: path)
            files.append(TierFile(plan: file, file: mapped))
        }
        self.directory = directory
        siteID = catalog.siteID
        storeID = catalog.storeID
        createdAtMS = catalog.createdAtMS
        self.schemas = schemas
        self.tiers = tiers
        self.plan = plan
        tierFiles = files
        var tierIndex: [String: Int] = [:]
        for (index, file) in files.enumerated() { tierIndex[file.plan.tier.name] = index }
        self.tierIndex = tierIndex
        var groupIndex: [String: Int] = [:]
        for (index, schema) in schemas.enumerated() { groupIndex[schema.groupID] = index }
        self.groupIndex = groupIndex
        quarantinedRows = StoreWriter.quarantines(in: try StoreEventLog.read(directory: directory), schemas: schemas)
        rowJournal = RowJournal.openForReading(directory: directory, plan: plan)
    }

    /// When the consolidated row at `offset` of tier `t` failed its check: copies into `buffer`
    /// the row journal's copy of it, if the journal holds one (a writer stopped, or is, in the
    /// middle of changing the row: the copy is what it held before). True when it did.
    func journalCopy(tier t: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        rowJournal?.copy(file: t, offset: offset, into: buffer) ?? false
    }

    func group(_ id: String) throws(StoreError) -> Int {
        guard let g = groupIndex[id] else {
            throw StoreError(.invalidArgument, "unknown group '\(id)'; the store holds \(groupIndex.keys.sorted())")
        }
        return g
    }

    func tier(_ name: String) throws(StoreError) -> Int {
        guard let t = tierIndex[name] else {
            throw StoreError(.invalidArgument, "unknown tier '\(name)'; the store holds \(tierIndex.keys.sorted())")
        }
        return t
    }

    func beginCall() { damagedInCall.removeAll() }

    func record(_ row: DamagedRow) {
        damagedInCall.append(row)
        if damagedKeys.insert("\(row.path)#\(row.offset)").inserted { damagedRows.append(row) }
    }

    // MARK: consolidated rows

    /// Reads the row holding slot `number` of tier `t` into `buffer`: valid (and holding this
    /// slot), missing or damaged.
    /// `copied`, when given, remembers the row in `buffer` across calls: the next slot of the
    /// same row is read from that copy (one copy and CRC per row of several slots).
    func readRow(
        tier t: Int, number: UInt32, groupID: String?, into buffer: UnsafeMutableRawBufferPointer,
        copied: UnsafeMutablePointer<CopiedRow>? = nil
    ) -> RowRead {
        let file = tierFiles[t]
        let offset = file.rowOffset(slotNumber: number)
        let row = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<file.plan.rowBytes])
        let state: RowCheck.State
        if let copied, copied.pointee.tier == t, copied.pointee.offset == offset {
            state = copied.pointee.state
        } else {
            var copiedState = RowCheck.copy(
                from: file.file.base + offset, into: row, crcOffset: RowCheck.consolidatedCRCOffset,
                retries: Self.retries)
            if copiedState == .damaged && journalCopy(tier: t, offset: offset, into: row) { copiedState = .valid }
            state = copiedState
            copied?.pointee = CopiedRow(tier: t, offset: offset, state: state)
        }
        switch state {
        case .empty: return .missing
        case .damaged:
            let row = DamagedRow(
                path: file.path, offset: offset, tier: file.plan.tier.name, groupID: groupID,
                expected: Int64(number) * file.plan.tier.slotMS)
            record(row)
            return .damaged(row)
        case .valid:
            let stored = UInt32(littleEndian: buffer.loadUnaligned(as: UInt32.self))
            return stored == file.plan.rowKey(slotNumber: number) ? .valid : .missing
        }
    }

    /// The row `readRow` copied last: its tier, offset in the file and state.
    struct CopiedRow {
        var tier = -1
        var offset = -1
        var state = RowCheck.State.empty
    }

    enum RowRead {
        case valid
        case missing
        case damaged(DamagedRow)
    }

    /// Whether group `g`'s part of slot `startMS` in a valid row in `buffer` was never written
    /// (the row holds the slot for other groups, or other slots of the row only): every field
    /// of the part holds the "not written" mark (a part migrated with a signal added has the
    /// mark in that signal's field only).
    func isNotWritten(tier t: Int, group g: Int, startMS: Int64, row: UnsafeRawPointer) -> Bool {
        let plan = tierFiles[t].plan
        let layout = plan.groups[g]
        guard !layout.signalIndices.isEmpty || layout.hasEnergy else { return false }
        let part = row + plan.partOffset(slotNumber: UInt32(startMS / plan.tier.slotMS), group: layout)
        for position in layout.signalIndices.indices where !SlotCodec.isNotWritten(part + position * Layout.signalBytes) {
            return false
        }
        return !layout.hasEnergy
            || SlotCodec.isNotWrittenEnergy(part + layout.signalIndices.count * Layout.signalBytes)
    }

    /// Decodes group `g`'s part of slot `startMS` of a valid row in `buffer` as a full-schema slot.
    func decode(tier t: Int, group g: Int, startMS: Int64, row: UnsafeRawPointer) -> ConsolidatedSlot {
        let file = tierFiles[t]
        let layout = file.plan.groups[g]
        let slotMS = file.plan.tier.slotMS
        let part = row + file.plan.partOffset(slotNumber: UInt32(startMS / slotMS), group: layout)
        var signals = [SlotSummary](repeating: .unknown, count: schemas[g].signals.count)
        for (position, index) in layout.signalIndices.enumerated() {
            signals[index] = SlotCodec.decode(part + position * Layout.signalBytes, slotMS: slotMS)
        }
        let energy =
            layout.hasEnergy
            ? SlotCodec.decodeEnergy(part + layout.signalIndices.count * Layout.signalBytes, slotMS: slotMS)
            : nil
        return ConsolidatedSlot(
            groupID: schemas[g].groupID, tier: file.plan.tier.name, startMS: startMS, signals: signals, energy: energy)
    }

    /// Gives back the tier files' pages read so far from this process' resident memory (they
    /// stay in the page cache, so reading them again is cheap). Long reads, such as a year's
    /// export, call it between chunks so that memory does not grow with the window.
    public func releaseResidentPages() {
        for tierFile in tierFiles { tierFile.file.releaseResidentPages() }
    }

    /// Every slot of `tier` whose start lies in `fromMS..<toMS` (rounded down to the slot), in time order.
    public func slots(tier: String, group: String, fromMS: Int64, toMS: Int64) throws(StoreError) -> [StoredSlot] {
        let t = try self.tier(tier)
        let g = try self.group(group)
        let file = tierFiles[t]
        guard !file.plan.tier.isRaw else {
            throw StoreError(.invalidArgument, "slots: '\(tier)' is the raw tier; use raw(group:fromMS:toMS:)")
        }
        let slotMS = file.plan.tier.slotMS
        var result: [StoredSlot] = []
        var buffer = [UInt8](repeating: 0, count: file.plan.rowBytes)
        let first = max(1, Self.floorDiv(fromMS, slotMS))
        let last = Self.floorDiv(toMS - 1, slotMS)
        guard first <= last else { return [] }
        var copied = CopiedRow()
        buffer.withUnsafeMutableBytes { buffer in
            for number in first...last {
                let start = number * slotMS
                guard number <= Int64(UInt32.max) else { break }
                switch readRow(tier: t, number: UInt32(number), groupID: group, into: buffer, copied: &copied) {
                case .missing: result.append(.missing(startMS: start))
                case .damaged(let row): result.append(.damaged(startMS: start, row))
                case .valid:
                    let row = UnsafeRawPointer(buffer.baseAddress!)
                    if isNotWritten(tier: t, group: g, startMS: start, row: row) {
                        result.append(.missing(startMS: start))
                    } else {
                        result.append(.stored(decode(tier: t, group: g, startMS: start, row: row)))
                    }
                }
            }
        }
        return result
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}
