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
        let file = tierFiles[t]
        let slotMS = file.plan.tier.slotMS
        guard slot.startMS >= slotMS, slot.startMS % slotMS == 0, slot.startMS / slotMS <= Int64(UInt32.max) else {
            throw StoreError(
                .invalidArgument,
                "write: slot start \(slot.startMS) ms is not a positive multiple of tier '\(slot.tier)' slot length \(slotMS) ms within the format's range"
            )
        }
        guard slot.signals.count == schemas[g].signals.count else {
            throw StoreError(
                .invalidArgument,
                "write: group '\(slot.groupID)' has \(schemas[g].signals.count) signals, the slot carries \(slot.signals.count)"
            )
        }
        let number = UInt32(slot.startMS / slotMS)
        let offset = file.rowOffset(slotNumber: number)
        let row = file.file.base + offset
        let existing = UInt32(littleEndian: row.loadUnaligned(as: UInt32.self))
        let newest = max(newestSlot[t][g], existing)
        if number < newest {
            if !refusing[t][g] {
                logger.warning(
                    "clock stepped back: slot older than the stored one not written",
                    metadata: [
                        "tier": "\(slot.tier)", "group": "\(slot.groupID)", "slot_ms": "\(slot.startMS)",
                        "stored_ms": "\(Int64(newest) * slotMS)",
                    ])
                refusing[t][g] = true
            }
            return .refusedOlderThanStored(storedStartMS: Int64(newest) * slotMS)
        }
        refusing[t][g] = false
        let rowBytes = file.plan.rowBytes
        let intact =
            existing == number
            && RowCheck.checksum(row, crcOffset: RowCheck.consolidatedCRCOffset, bytes: rowBytes)
                == UInt32(littleEndian: row.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        if !intact {
            if existing == number {
                logger.warning(
                    "damaged row rewritten: other groups' parts of this slot become unknown",
                    metadata: ["path": "\(file.path)", "offset": "\(offset)", "slot_ms": "\(slot.startMS)"])
            }
            unknownRows[t].withUnsafeBytes { row.copyMemory(from: $0.baseAddress!, byteCount: rowBytes) }
            row.storeBytes(of: number.littleEndian, as: UInt32.self)
        }
        let layout = file.plan.groups[g]
        for (position, index) in layout.signalIndices.enumerated() {
            SlotCodec.encode(
                slot.signals[index], slotMS: slotMS, to: row + layout.offset + position * Layout.signalBytes)
        }
        if layout.hasEnergy {
            SlotCodec.encode(
                slot.energy ?? EnergySummary(), slotMS: slotMS,
                to: row + layout.offset + layout.signalIndices.count * Layout.signalBytes)
        }
        RowCheck.storeChecksum(row, crcOffset: RowCheck.consolidatedCRCOffset, bytes: rowBytes)
        file.file.markDirty(offset, rowBytes)
        newestSlot[t][g] = number
        return .written
    }

    /// Makes everything written so far durable: `msync(MS_SYNC)` of the written ranges and
    /// `fsync` of each tier file, then the `checkpoint` file (temp + rename + directory fsync).
    public func checkpoint(nowMS: Int64) throws(StoreError) {
        for file in tierFiles { try file.file.sync() }
        var record = CheckpointRecord(checkpointMS: nowMS, raw: [:], newestSlots: [:])
        for (g, schema) in schemas.enumerated() {
            record.raw[schema.groupID] = .init(sequence: rawCursors[g].sequence, timestampMS: rawCursors[g].timestampMS)
        }
        for (t, file) in tierFiles.enumerated() where !file.plan.tier.isRaw {
            var groups: [String: UInt32] = [:]
            for (g, schema) in schemas.enumerated() { groups[schema.groupID] = newestSlot[t][g] }
            record.newestSlots[file.plan.tier.name] = groups
        }
        try SystemCalls.replaceFile(
            directory + "/" + CheckpointRecord.fileName, with: record.encoded(), directory: directory)
        lastCheckpointMS = nowMS
    }
}
