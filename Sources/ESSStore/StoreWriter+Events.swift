import ESSCore
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The writer's events (`events.jsonl`): its stop, an unclean end found at open, quarantines of
/// rows written under a wall clock that was then stepped back, and repaired head hints.
extension StoreWriter {
    /// Stops writing at `atMS` (essd's shutdown, after its last rows and slots): appends a
    /// `stopped` event, then a checkpoint that says so. A restart ends every hold there: the
    /// coverage of what was read before the stop never grows (`ScanStore` replays with it).
    public func stop(atMS: Int64) throws(StoreError) {
        try appendEvent(.stopped(atMS: atMS, clean: true))
        try checkpoint(nowMS: atMS, stopMS: atMS)
    }

    /// Records that the previous writer ended without `stop(atMS:)` (`previousStopMS` is nil):
    /// a `stopped` event, not clean, at the newest raw row of any group (when it really ended is
    /// unknown; nothing after that row was stored). Returns the instant; nil (and nothing
    /// recorded) when the store holds no raw row.
    @discardableResult
    public func recordUncleanEnd() throws(StoreError) -> Int64? {
        var newest = Int64.min
        for g in schemas.indices where rawCursors[g].sequence > 0 { newest = max(newest, rawCursors[g].timestampMS) }
        guard newest > .min else { return nil }
        try appendEvent(.stopped(atMS: newest, clean: false))
        return newest
    }

    /// Quarantines what was stored while the wall clock ran ahead and was then stepped back
    /// (the caller knows it from the monotonic clock): in every group, the newest raw rows whose
    /// time is at or after `fromMS`, the first wrong time (or, when it is not known, the true
    /// time now: a row after it comes from the future). They stay in the ring, marked: readers
    /// leave them out of every range and tier (`StoreReader.quarantinedRows` shows them). Every
    /// consolidated slot after the slot of the group's newest row before them is reset to "not
    /// written" (they were made from those rows), and storing resumes at once for any time
    /// after that row. `toMS` (the end of the wrong times) and `reason` go to the event.
    /// Durable on return (event, files, checkpoint); a crash on the way is finished at open.
    /// When no row lies at or after `fromMS`, nothing is written and no event recorded (the
    /// returned quarantine has no rows).
    ///
    /// The slot of that newest good row keeps what was written into it until it is written
    /// again: `ScanStore` rebuilds its open slots from the raw tier right after.
    @discardableResult
    public func quarantine(fromMS: Int64, toMS: Int64, reason: String, nowMS: Int64) throws(StoreError)
        -> StoreQuarantine
    {
        guard fromMS < toMS else {
            throw StoreError(.invalidArgument, "quarantine: fromMS \(fromMS) must be before toMS \(toMS)")
        }
        var rows: [String: QuarantinedRows] = [:]
        if let rawTier {
            for g in schemas.indices {
                if let run = quarantinableRun(tierFiles[rawTier], group: g, fromMS: fromMS) {
                    rows[schemas[g].groupID] = run
                }
            }
        }
        let quarantine = StoreQuarantine(fromMS: fromMS, toMS: toMS, notedMS: nowMS, reason: reason, rows: rows)
        // Nothing was stored at the wrong times (the scans were held, or none came): no event.
        guard !rows.isEmpty else { return quarantine }
        try appendEvent(.quarantined(quarantine))
        apply(quarantine)
        try checkpoint(nowMS: nowMS)
        logger.notice(
            "rows written under a wall clock that was stepped back are quarantined; storing resumes at the true time",
            metadata: [
                "from_ms": "\(fromMS)", "to_ms": "\(toMS)", "reason": "\(reason)",
                "rows": "\(rows.values.reduce(0) { $0 + Int($1.lastSequence - $1.firstSequence + 1) })",
            ])
        return quarantine
    }

    /// The newest rows of group `g` at or after `fromMS` (damaged rows among them included),
    /// and the time of the row before them.
    func quarantinableRun(_ file: TierFile, group g: Int, fromMS: Int64) -> QuarantinedRows? {
        let newest = rawCursors[g].sequence
        var buffer = [UInt8](repeating: 0, count: file.plan.groups[g].bytes)
        return buffer.withUnsafeMutableBytes { buffer -> QuarantinedRows? in
            var first: UInt64?
            var resume: Int64?
            var sequence = newest
            var steps = 0
            walk: while sequence > 0 && steps < file.plan.groups[g].capacity {
                if quarantinedRows[g].contains(where: { $0.contains(sequence) }) {
                    first = sequence
                } else {
                    switch RawRecovery.row(file, group: g, sequence: sequence, buffer: buffer) {
                    case .valid(let row) where row.timestampMS >= fromMS: first = sequence
                    case .valid(let row):
                        resume = row.timestampMS
                        break walk
                    case .damaged: if first != nil { first = sequence }
                    case .other: break walk
                    }
                }
                sequence -= 1
                steps += 1
            }
            guard let first else { return nil }
            return QuarantinedRows(firstSequence: first, lastSequence: newest, resumeAfterMS: resume)
        }
    }

    /// Applies a quarantine to the write positions and the consolidated tiers (idempotent
    /// while nothing was written after it: a crash before its checkpoint re-applies it at open).
    func apply(_ quarantine: StoreQuarantine) {
        for (g, schema) in schemas.enumerated() {
            guard let run = quarantine.rows[schema.groupID] else { continue }
            if !quarantinedRows[g].contains(run) { quarantinedRows[g].append(run) }
            if rawCursors[g].sequence <= run.lastSequence {
                rawCursors[g].timestampMS = run.resumeAfterMS ?? .min
                rawCursors[g].refusing = false
            }
            for (t, file) in tierFiles.enumerated() where !file.plan.tier.isRaw {
                let slotMS = file.plan.tier.slotMS
                let keep = UInt32(clamping: (run.resumeAfterMS ?? (quarantine.fromMS - slotMS)) / slotMS)
                let newest = newestSlot(t, g)
                guard newest > keep else { continue }
                let lowest = newest - min(newest - keep - 1, UInt32(clamping: file.plan.capacity - 1))
                for number in lowest...newest { resetPart(tier: t, group: g, slotNumber: number) }
                setNewestSlot(t, g, keep)
                slotCursors[t * groupSlots + g].refusing = false
            }
        }
    }

    /// Marks group `g`'s part of slot `number` "not written" when its row is intact and holds
    /// that slot; a row left with no part written becomes empty (key and CRC zero).
    func resetPart(tier t: Int, group g: Int, slotNumber number: UInt32) {
        let plan = tierFiles[t].plan
        let offset = plan.rowOffset(slotNumber: number)
        let row = tierFiles[t].file.base + offset
        guard UInt32(littleEndian: row.loadUnaligned(as: UInt32.self)) == plan.rowKey(slotNumber: number),
            RowCheck.checksum(row, crcOffset: RowCheck.consolidatedCRCOffset, bytes: plan.rowBytes)
                == UInt32(littleEndian: row.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
            let unknown = unknownRows[t]
        else { return }
        rowJournal.save(file: t, offset: offset, row: row, length: plan.rowBytes)
        defer { rowJournal.clear() }
        let layout = plan.groups[g]
        let part = row + plan.partOffset(slotNumber: number, group: layout)
        for position in layout.signalIndices.indices {
            SlotCodec.encodeNotWritten(to: part + position * Layout.signalBytes)
        }
        if layout.hasEnergy {
            SlotCodec.encodeNotWrittenEnergy(to: part + layout.signalIndices.count * Layout.signalBytes)
        }
        let prefix = Layout.rowPrefixBytes
        if memcmp(row + prefix, unknown + prefix, plan.rowBytes - prefix) == 0 {
            row.storeBytes(of: UInt64(0), as: UInt64.self)
        } else {
            RowCheck.storeChecksum(row, crcOffset: RowCheck.consolidatedCRCOffset, bytes: plan.rowBytes)
        }
        tierFiles[t].file.markDirty(offset, plan.rowBytes)
    }

    /// At open: applies the events after the last `applied` lines (a quarantine interrupted
    /// before its checkpoint), then checkpoints when there were any.
    func applyPendingEvents(_ events: StoreEventLog.Contents, applied: Int, nowMS: Int64) throws(StoreError) {
        var pending = false
        for (line, event) in events.events where line >= applied {
            guard case .quarantined(let quarantine) = event else { continue }
            logger.notice(
                "finishing a quarantine interrupted before its checkpoint",
                metadata: ["from_ms": "\(quarantine.fromMS)", "to_ms": "\(quarantine.toMS)"])
            apply(quarantine)
            pending = true
        }
        if pending { try checkpoint(nowMS: max(nowMS, lastCheckpointMS ?? .min)) }
    }

    /// At open: a head hint recovery did not trust is replaced (the rows were scanned), logged,
    /// and kept as an event for `essctl store health`. Readers see the new hint at once (the
    /// mapping is shared); the next checkpoint makes it durable.
    func repairHint(group g: Int, reason: String, nowMS: Int64) throws(StoreError) {
        guard let rawFile else { return }
        let region = rawRegions[g]
        let hint = DamagedHint(path: rawFile.path, offset: region.offset, groupID: schemas[g].groupID, reason: reason)
        logger.warning(
            "raw head hint damaged: scanned the rows instead, and rewrote the hint",
            metadata: [
                "path": "\(hint.path)", "offset": "\(hint.offset)", "group": "\(hint.groupID)", "reason": "\(reason)",
                "continue_after": "\(rawCursors[g].sequence)",
            ])
        try appendEvent(.hintRepaired(hint, continuedAfter: rawCursors[g].sequence, notedMS: nowMS))
        if rawCursors[g].sequence > 0 {
            writeRawHead(rawFile, region, sequence: rawCursors[g].sequence, timestampMS: rawCursors[g].timestampMS)
        } else {
            (rawFile.base + region.offset).initializeMemory(as: UInt8.self, repeating: 0, count: Layout.rawHeadBytes)
            rawFile.markDirty(region.offset, Layout.rawHeadBytes)
        }
    }

    /// Records imported history (after its slots are written): an `imported` event, durable on
    /// return; the next checkpoint counts it.
    public func recordImport(_ record: StoreImport) throws(StoreError) { try appendEvent(.imported(record)) }

    /// Records what a reader of the history should know about essd's run: a start, a reload,
    /// a wall-clock step (`started`, `reconfigured`, `clockStepped` only). Durable on return.
    public func record(_ event: StoreEvent) throws(StoreError) {
        switch event {
        case .started, .reconfigured, .clockStepped: try appendEvent(event)
        default: preconditionFailure("record(_:) takes run events only; \(event) has its own method")
        }
    }

    func appendEvent(_ event: StoreEvent) throws(StoreError) {
        try StoreEventLog.append(event, directory: directory)
        eventLines += 1
    }

    /// Per group (schema order), the quarantined rows the events name.
    static func quarantines(in events: StoreEventLog.Contents, schemas: [SeriesSchema]) -> [[QuarantinedRows]] {
        var result = [[QuarantinedRows]](repeating: [], count: schemas.count)
        for (_, event) in events.events {
            guard case .quarantined(let quarantine) = event else { continue }
            for (g, schema) in schemas.enumerated() {
                if let run = quarantine.rows[schema.groupID] { result[g].append(run) }
            }
        }
        return result
    }
}
