public import ESSCore
import Logging

/// What happened to a consolidated slot handed to `StoreWriter.write(_:)`.
public enum SlotWriteResult: Sendable, Hashable {
    case written
    /// Not written: the row (or this group in this tier) already holds a newer slot starting at
    /// `storedStartMS`. The wall clock stepped back; history is never overwritten.
    case refusedOlderThanStored(storedStartMS: Int64)
}

extension StoreWriter {
    /// Writes one group's part of the row of `slot.startMS` in `slot.tier`. When the row held an
    /// older slot (a previous lap, or never written), the other groups' parts become unknown.
    /// Writing the same slot again replaces this group's part (an open slot being updated).
    /// Refused when this group already wrote a newer slot in this tier, or the row holds a newer
    /// slot (see `SlotWriteResult`).
    @discardableResult
    public func write(_ slot: ConsolidatedSlot) throws(StoreError) -> SlotWriteResult {
        guard let t = tierFiles.firstIndex(where: { $0.plan.tier.name == slot.tier }), !tierFiles[t].plan.tier.isRaw
        else {
            throw StoreError(.invalidArgument, "write: '\(slot.tier)' is not a consolidated tier of this store")
        }
        guard let g = index(ofGroup: slot.groupID) else {
            throw StoreError(.invalidArgument, "write: unknown group '\(slot.groupID)'")
        }
        guard slot.signals.count == schemas[g].signals.count else {
            throw StoreError(
                .invalidArgument,
                "write: group '\(slot.groupID)' has \(schemas[g].signals.count) signals, the slot carries \(slot.signals.count)"
            )
        }
        return try slotTargets.withUnsafeBufferPointer { targets throws(StoreError) -> SlotWriteResult in
            try writeRow(targets.baseAddress! + (t * groupSlots + g), group: g, startMS: slot.startMS) { field, kept, slotMS in
                var field = field
                for index in kept {
                    SlotCodec.encode(slot.signals[index], slotMS: slotMS, to: field)
                    field += Layout.signalBytes
                }
                return field
            } energy: { field, slotMS in
                SlotCodec.encode(slot.energy ?? EnergySummary(), slotMS: slotMS, to: field)
            }
        }
    }

    /// Where the slots of one consolidator go: its group and, per tier of the consolidator, the
    /// store's row geometry for that group (or none). Made by `destination(group:tiers:)` so
    /// that `write(_:to:)` looks nothing up by name; valid while its writer lives.
    public struct SlotDestination: @unchecked Sendable {
        let group: Int
        let signalCount: Int
        /// Per consolidator tier.
        let targets: [SlotTarget]
    }

    /// One tier file's rows as one group writes them, flattened so that writing a slot looks
    /// nothing up. The pointers are the writer's (the mapping and its written range, the
    /// unknown row, the plan's signal indices, the group's slot cursor).
    struct SlotTarget {
        /// Index in `tierFiles`; -1 when the store lacks the tier (then nothing else is set).
        var file = -1
        var base: UnsafeMutableRawPointer? = nil
        var headerBytes = 0
        /// Rows in the ring (slots / `slotsPerRow`).
        var rows = 1
        var rowBytes = 0
        var slotsPerRow = 1
        var slotBytes = 0
        var slotMS: Int64 = 1
        var groupOffset = 0
        var kept: UnsafeBufferPointer<Int> = UnsafeBufferPointer(start: nil, count: 0)
        var hasEnergy = false
        var unknownRow: UnsafeRawPointer? = nil
        var dirty: UnsafeMutablePointer<Int>? = nil
        var cursor: UnsafeMutablePointer<SlotCursor>? = nil
    }

    /// The target of group `g` in tier file `t` (none for the raw tier).
    func slotTarget(tier t: Int, group g: Int) -> SlotTarget {
        let file = tierFiles[t]
        guard !file.plan.tier.isRaw else { return SlotTarget() }
        let layout = file.plan.groups[g]
        return SlotTarget(
            file: t, base: file.file.base, headerBytes: file.plan.headerBytes,
            rows: file.plan.capacity / file.plan.slotsPerRow, rowBytes: file.plan.rowBytes,
            slotsPerRow: file.plan.slotsPerRow, slotBytes: file.plan.slotBytes, slotMS: file.plan.tier.slotMS,
            groupOffset: layout.offset, kept: keptSignals[t][g], hasEnergy: layout.hasEnergy, unknownRow: UnsafeRawPointer(unknownRows[t]),
            dirty: file.file.dirty, cursor: slotCursors + (t * groupSlots + g))
    }

    /// The destination of the slots of `group`'s consolidator, whose tiers are `tiers`
    /// (`SeriesConsolidator.tiers`). Tiers the store lacks are skipped by `write(_:to:)`.
    public func destination(group: String, tiers: [TierDefinition]) throws(StoreError) -> SlotDestination {
        guard let g = index(ofGroup: group) else {
            throw StoreError(.invalidArgument, "destination: unknown group '\(group)'")
        }
        let targets = tiers.map { tier -> SlotTarget in
            guard let t = tierFiles.firstIndex(where: { $0.plan.tier.name == tier.name && !$0.plan.tier.isRaw })
            else { return SlotTarget() }
            return slotTargets[t * groupSlots + g]
        }
        return SlotDestination(group: g, signalCount: schemas[g].signals.count, targets: targets)
    }

    /// Writes a slot handed out by the consolidator (`SeriesConsolidator.ingest(...onClose:)`)
    /// exactly as `write(_:)` writes its `ConsolidatedSlot`, encoding straight from the
    /// accumulators. A tier the store lacks is skipped (`.written`).
    @discardableResult
    public func write(_ slot: borrowing ClosedSlot, to destination: SlotDestination) throws(StoreError) -> SlotWriteResult {
        guard slot.signalCount == destination.signalCount else {
            throw StoreError(
                .invalidArgument,
                "write: group '\(schemas[destination.group].groupID)' has \(destination.signalCount) signals, the slot carries \(slot.signalCount)"
            )
        }
        return try destination.targets.withUnsafeBufferPointer { targets throws(StoreError) -> SlotWriteResult in
            let target = targets.baseAddress! + slot.tierIndex
            guard target.pointee.file >= 0 else { return .written }
            return try writeRow(target, group: destination.group, startMS: slot.startMS) { field, kept, slotMS in
                var field = field
                for index in kept {
                    SlotCodec.encode(slot.summary(ofSignal: index), slotMS: slotMS, to: field)
                    field += Layout.signalBytes
                }
                return field
            } energy: { field, slotMS in
                SlotCodec.encode(slot.energy ?? EnergySummary(), slotMS: slotMS, to: field)
            }
        }
    }

    /// Writes group `g`'s part of slot `startMS` in its row of `target`'s tier: `signals` encodes
    /// the kept signals from the group's first field and returns where they end, `energy` the
    /// energy bytes there (when the group keeps them). When the row held older slots (or is
    /// damaged) every part of it becomes "not written" first; the checksum is stored last.
    @inline(__always)
    private func writeRow(
        _ target: UnsafePointer<SlotTarget>, group g: Int, startMS: Int64,
        signals: (UnsafeMutableRawPointer, UnsafeBufferPointer<Int>, Int64) -> UnsafeMutableRawPointer,
        energy: (UnsafeMutableRawPointer, Int64) -> Void
    ) throws(StoreError) -> SlotWriteResult {
        let t = target.pointee.file
        let slotMS = target.pointee.slotMS
        guard startMS >= slotMS, startMS % slotMS == 0, startMS / slotMS <= Int64(UInt32.max) else {
            throw StoreError(
                .invalidArgument,
                "write: slot start \(startMS) ms is not a positive multiple of tier '\(tierFiles[t].plan.tier.name)' slot length \(slotMS) ms within the format's range"
            )
        }
        let number = UInt32(startMS / slotMS)
        let rowBytes = target.pointee.rowBytes
        let slotsPerRow = target.pointee.slotsPerRow
        let key = number - number % UInt32(slotsPerRow)
        let offset = target.pointee.headerBytes + Int(number) / slotsPerRow % target.pointee.rows * rowBytes
        let row = target.pointee.base! + offset
        let existing = UInt32(littleEndian: row.loadUnaligned(as: UInt32.self))
        let cursor = target.pointee.cursor!
        let newest = max(cursor.pointee.newest, existing)
        if number < newest {
            if !cursor.pointee.refusing {
                logger.warning(
                    "clock stepped back: slot older than the stored one not written",
                    metadata: [
                        "tier": "\(tierFiles[t].plan.tier.name)", "group": "\(schemas[g].groupID)",
                        "slot_ms": "\(startMS)", "stored_ms": "\(Int64(newest) * slotMS)",
                    ])
                cursor.pointee.refusing = true
            }
            return .refusedOlderThanStored(storedStartMS: Int64(newest) * slotMS)
        }
        cursor.pointee.refusing = false
        let intact =
            existing == key
            && RowCheck.checksum(row, crcOffset: RowCheck.consolidatedCRCOffset, bytes: rowBytes)
                == UInt32(littleEndian: row.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        if intact {
            // The row holds slots (perhaps checkpointed ones): keep a copy until it is whole again.
            rowJournal.save(file: t, offset: offset, row: row, length: rowBytes)
        } else {
            if existing == key {
                logger.warning(
                    "damaged row rewritten: its other slots and groups' parts are lost (read as not stored)",
                    metadata: ["path": "\(tierFiles[t].path)", "offset": "\(offset)", "slot_ms": "\(startMS)"])
            }
            row.copyMemory(from: target.pointee.unknownRow!, byteCount: rowBytes)
            row.storeBytes(of: key.littleEndian, as: UInt32.self)
        }
        let part = row + target.pointee.groupOffset + Int(number) % slotsPerRow * target.pointee.slotBytes
        let energyField = signals(part, target.pointee.kept, slotMS)
        if target.pointee.hasEnergy { energy(energyField, slotMS) }
        RowCheck.storeChecksum(row, crcOffset: RowCheck.consolidatedCRCOffset, bytes: rowBytes)
        if intact { rowJournal.clear() }
        MappedFile.markDirty(target.pointee.dirty!, offset, rowBytes)
        cursor.pointee.newest = number
        return .written
    }

    /// Makes everything written so far durable: `msync(MS_SYNC)` of the written ranges and
    /// `fsync` of each tier file, then the `checkpoint` file (temp + rename + directory fsync).
    public func checkpoint(nowMS: Int64) throws(StoreError) { try checkpoint(nowMS: nowMS, stopMS: nil) }

    /// Bytes written through the tier files' mappings since they were last synced (each file's
    /// written range, summed): a bound on the written pages this process holds resident.
    public var unsyncedBytes: Int { tierFiles.reduce(0) { $0 + $1.file.unsyncedBytes } }

    /// For long bulk writes (an import of a year): drops the tier files' pages from this
    /// process' resident memory (`madvise(MADV_DONTNEED)`; `MappedFile.releaseResidentPages`):
    /// they stay in the page cache, written ones dirty until synced, so nothing is lost and
    /// durability is unchanged (what a checkpoint covers, and after `kill -9` the page cache).
    /// The resident set then stays bounded by what is written between two calls, not by the file.
    public func releaseResidentPages() {
        for file in tierFiles { file.file.releaseResidentPages() }
    }

    /// For long bulk writes: the tier files' pages come into the page cache one small page at a
    /// time (`madvise(MADV_RANDOM)`: no read-ahead, which makes large folios that the kernel maps
    /// whole), so that `releaseResidentPages()` keeps the resident set small. Pages already in
    /// the page cache (read by another process) keep their size.
    public func adviseBulkWrite() {
        for file in tierFiles { file.file.adviseRandomAccess() }
    }

    /// `releaseResidentPages()` after making every tier file durable as a checkpoint does
    /// (`msync(MS_SYNC)` of the written range, `fsync`; the `checkpoint` file with the raw cursors
    /// and newest slots is left to the next `checkpoint(nowMS:)`): the pages dropped are clean.
    /// A bulk writer calls it every few MiB, so that dirty pages do not pile up for the end.
    public func releaseWrittenPages() throws(StoreError) {
        for file in tierFiles { try file.file.sync() }
        releaseResidentPages()
    }

    /// `checkpoint(nowMS:)`; `stopMS` marks it as the writer's stop (`stop(atMS:)`).
    func checkpoint(nowMS: Int64, stopMS: Int64?) throws(StoreError) {
        for file in tierFiles { try file.file.sync() }
        var record = CheckpointRecord(
            checkpointMS: nowMS, storeID: storeID, stopMS: stopMS, eventLines: eventLines, raw: [:], newestSlots: [:])
        for (g, schema) in schemas.enumerated() {
            record.raw[schema.groupID] = .init(sequence: rawCursors[g].sequence, timestampMS: rawCursors[g].timestampMS)
        }
        for (t, file) in tierFiles.enumerated() where !file.plan.tier.isRaw {
            var groups: [String: UInt32] = [:]
            for (g, schema) in schemas.enumerated() { groups[schema.groupID] = newestSlot(t, g) }
            record.newestSlots[file.plan.tier.name] = groups
        }
        try SystemCalls.replaceFile(
            directory + "/" + CheckpointRecord.fileName, with: record.encoded(), directory: directory)
        lastCheckpointMS = nowMS
    }
}
