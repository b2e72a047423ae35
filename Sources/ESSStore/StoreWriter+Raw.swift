public import ESSCore
import Logging

/// What happened to a raw row handed to `StoreWriter.appendRaw`.
public enum RawAppendResult: Sendable, Hashable {
    case written(sequence: UInt64)
    /// Not written: the group's last raw row is at `lastTimestampMS`, at or after this one (a
    /// group's rows are in strictly increasing time: two rows never share a timestamp). Raw
    /// rows are held until the clock passes the last stored time again.
    case refusedClockStepBack(lastTimestampMS: Int64)
}

/// What `StoreWriter.appendRaw(group:timestampsMS:values:qualities:)` did with a batch.
public struct RawBatchResult: Sendable, Hashable {
    /// Rows written.
    public var written = 0
    /// Rows not written: before the group's last raw row (the clock stepped back; see
    /// `RawAppendResult.refusedClockStepBack`).
    public var refusedClockStepBack = 0
    /// The group's last raw sequence after the batch (0: none written yet).
    public var lastSequence: UInt64 = 0

    public init(written: Int = 0, refusedClockStepBack: Int = 0, lastSequence: UInt64 = 0) {
        self.written = written
        self.refusedClockStepBack = refusedClockStepBack
        self.lastSequence = lastSequence
    }
}

/// A group's raw write position (see `StoreWriter.rawCursors`).
struct RawCursor {
    var sequence: UInt64 = 0
    var timestampMS: Int64 = .min
    var refusing = false
}

/// A group's raw region, flattened for the write loop (no per-row copies of the plan).
struct RawRegion {
    var offset: Int
    var rowBytes: Int
    var capacity: UInt64
    /// Schema indices of the signals the raw tier keeps, in row order.
    var signalIndices: [Int]

    init(_ layout: GroupLayout) {
        offset = layout.offset
        rowBytes = layout.bytes
        capacity = UInt64(layout.capacity)
        signalIndices = layout.signalIndices
    }

    @inline(__always)
    func rowOffset(sequence: UInt64) -> Int {
        offset + Layout.rawHeadBytes + Int(sequence % capacity) * rowBytes
    }
}

extension StoreWriter {
    /// Appends one scan of `group` to the raw tier: `values` and `qualities` in schema order
    /// (signals not kept in the raw tier are ignored). Refused when `timestampMS` is at or before
    /// the group's last raw row (see `RawAppendResult`). A store without a raw tier ignores it.
    @discardableResult
    public func appendRaw(
        group: String, timestampMS: Int64, values: [Double], qualities: [PointQuality]
    ) throws(StoreError) -> RawAppendResult {
        let g = try rawGroup(group, rows: 1, values: values.count, qualities: qualities.count, caller: "appendRaw")
        guard let rawFile else { return .written(sequence: 0) }
        let cursor = rawCursors + g
        if timestampMS <= cursor.pointee.timestampMS {
            noteRawStepBack(g, timestampMS: timestampMS)
            return .refusedClockStepBack(lastTimestampMS: cursor.pointee.timestampMS)
        }
        cursor.pointee.refusing = false
        let sequence = cursor.pointee.sequence + 1
        values.withUnsafeBufferPointer { v in
            qualities.withUnsafeBufferPointer { q in
                rawRegions.withUnsafeBufferPointer { regions in
                    writeRawRow(
                        rawFile, regions[g], sequence: sequence, timestampMS: timestampMS, v.baseAddress,
                        q.baseAddress)
                    writeRawHead(rawFile, regions[g], sequence: sequence, timestampMS: timestampMS)
                }
            }
        }
        cursor.pointee.sequence = sequence
        cursor.pointee.timestampMS = timestampMS
        return .written(sequence: sequence)
    }

    /// Appends many scans of `group` at once, oldest first: `values` and `qualities` hold one
    /// row per timestamp in schema order (row-major, `timestampsMS.count × signals`). Each row is
    /// written (or refused as a clock step back) exactly as `appendRaw(group:timestampMS:values:qualities:)`
    /// would; the region's head hint is stored once per batch. For bulk paths (replay, imports).
    @discardableResult
    public func appendRaw(
        group: String, timestampsMS: [Int64], values: [Double], qualities: [PointQuality]
    ) throws(StoreError) -> RawBatchResult {
        let g = try rawGroup(
            group, rows: timestampsMS.count, values: values.count, qualities: qualities.count, caller: "appendRaw")
        guard let file = rawFile else { return RawBatchResult(written: timestampsMS.count) }
        let width = schemas[g].signals.count
        let region = rawRegions[g]
        var sequence = rawCursors[g].sequence
        var lastMS = rawCursors[g].timestampMS
        var result = RawBatchResult()
        let rowBytes = region.rowBytes
        let capacity = Int(region.capacity)
        let rowsBase = file.base + region.offset + Layout.rawHeadBytes
        timestampsMS.withUnsafeBufferPointer { ts in
            values.withUnsafeBufferPointer { v in
                qualities.withUnsafeBufferPointer { q in
                    region.signalIndices.withUnsafeBufferPointer { kept in
                        var row = 0
                        var ringIndex = Int((sequence &+ 1) % region.capacity)
                        // Runs of rows contiguous in the ring, at most `rawRunRows` (they stay
                        // in L1 between the field stores and the checksums).
                        while row < ts.count {
                            let room = Swift.min(capacity - ringIndex, Self.rawRunRows)
                            let runStart = rowsBase + ringIndex * rowBytes
                            var written = 0
                            while row < ts.count, written < room {
                                let filled = Self.fillRawRows(
                                    ts.baseAddress!, from: row, to: ts.count, width: width, v.baseAddress,
                                    q.baseAddress, kept, into: runStart + written * rowBytes, rowBytes: rowBytes,
                                    room: room - written, sequence: &sequence, lastMS: &lastMS)
                                written += filled
                                row += filled
                                // Stopped before a row older than the last one: refuse it.
                                if row < ts.count, written < room {
                                    noteRawStepBack(g, timestampMS: ts[row])
                                    result.refusedClockStepBack += 1
                                    row += 1
                                }
                            }
                            guard written > 0 else { break }
                            // The CRCs last, once the run's fields are all in place.
                            RowCheck.storeChecksums(
                                runStart, crcOffset: RowCheck.rawCRCOffset, rowBytes: rowBytes, count: written)
                            file.markDirty(runStart - file.base, written * rowBytes)
                            result.written += written
                            ringIndex += written
                            if ringIndex == capacity { ringIndex = 0 }
                        }
                    }
                }
            }
        }
        if result.written > 0 {
            writeRawHead(file, region, sequence: sequence, timestampMS: lastMS)
            rawCursors[g] = RawCursor(sequence: sequence, timestampMS: lastMS, refusing: false)
        }
        result.lastSequence = sequence
        return result
    }

    /// Rows the batched `appendRaw` writes before checksumming them (a few KiB: they stay in L1).
    static var rawRunRows: Int { 128 }

    /// Writes the fields (not the CRC) of rows `from..<to` of a batch into consecutive raw rows
    /// at `out`, at most `room`, stopping before the first row at or before `lastMS` (a clock step
    /// back, which the caller refuses). Returns how many it wrote. Plain arguments and locals
    /// only, so the loop keeps its state in registers.
    @inline(never)
    static func fillRawRows(
        _ ts: UnsafePointer<Int64>, from: Int, to: Int, width: Int, _ values: UnsafePointer<Double>?,
        _ qualities: UnsafePointer<PointQuality>?, _ kept: UnsafeBufferPointer<Int>, into out: UnsafeMutableRawPointer,
        rowBytes: Int, room: Int, sequence: inout UInt64, lastMS: inout Int64
    ) -> Int {
        var sequence64 = sequence
        var last = lastMS
        var row = from
        var written = 0
        let end = Swift.min(to, from + room)
        while row < end {
            let t = ts[row]
            if t <= last { break }
            sequence64 &+= 1
            let rowOut = out + written &* rowBytes
            rowOut.storeBytes(of: t.littleEndian, as: Int64.self)
            rowOut.storeBytes(of: UInt32(truncatingIfNeeded: sequence64).littleEndian, toByteOffset: 8, as: UInt32.self)
            // nil base addresses only for a group without signals (nothing is read then).
            var field = rowOut + Layout.rawPrefixBytes
            for index in kept {
                let at = row &* width &+ index
                field.storeBytes(of: values![at].bitPattern.littleEndian, as: UInt64.self)
                field.storeBytes(of: RawQualityCode.code(qualities![at]), toByteOffset: 8, as: UInt8.self)
                field += Layout.rawSignalBytes
            }
            last = t
            written &+= 1
            row &+= 1
        }
        sequence = sequence64
        lastMS = last
        return written
    }

    /// The index of `group`, after checking the sizes of what came with it.
    @inline(__always)
    private func rawGroup(_ group: String, rows: Int, values: Int, qualities: Int, caller: String) throws(StoreError)
        -> Int
    {
        guard let g = index(ofGroup: group) else {
            throw StoreError(
                .invalidArgument, "\(caller): unknown group '\(group)'; the store knows \(groupIndex.keys.sorted())")
        }
        let signalCount = schemas[g].signals.count
        guard values == rows * signalCount, qualities == rows * signalCount else {
            throw StoreError(
                .invalidArgument,
                "\(caller): group '\(group)' has \(signalCount) signals, got \(values) values and \(qualities) qualities for \(rows) row(s)"
            )
        }
        return g
    }

    /// `groupIndex[group]`, by comparing ids when there are few groups (cheaper than hashing
    /// short strings on every scan).
    @inline(__always)
    func index(ofGroup group: String) -> Int? {
        if groupIDs.count <= 16 {
            return groupIDs.withUnsafeBufferPointer { ids in
                for i in ids.indices where ids[i] == group { return i }
                return nil
            }
        }
        return groupIndex[group]
    }

    private func noteRawStepBack(_ g: Int, timestampMS: Int64) {
        guard !rawCursors[g].refusing else { return }
        logger.warning(
            "clock stepped back: raw rows held until time passes the last stored one",
            metadata: [
                "group": "\(schemas[g].groupID)", "timestamp_ms": "\(timestampMS)",
                "last_ms": "\(rawCursors[g].timestampMS)",
            ])
        rawCursors[g].refusing = true
    }

    /// One raw row: the fields, then the CRC last.
    @inline(__always)
    private func writeRawRow(
        _ file: MappedFile, _ region: RawRegion, sequence: UInt64, timestampMS: Int64, _ values: UnsafePointer<Double>?,
        _ qualities: UnsafePointer<PointQuality>?
    ) {
        let offset = region.rowOffset(sequence: sequence)
        let row = file.base + offset
        var field = row + Layout.rawPrefixBytes
        for index in region.signalIndices {
            field.storeBytes(of: values![index].bitPattern.littleEndian, as: UInt64.self)
            field.storeBytes(of: RawQualityCode.code(qualities![index]), toByteOffset: 8, as: UInt8.self)
            field += Layout.rawSignalBytes
        }
        row.storeBytes(of: timestampMS.littleEndian, as: Int64.self)
        row.storeBytes(of: UInt32(truncatingIfNeeded: sequence).littleEndian, toByteOffset: 8, as: UInt32.self)
        // One call into C for both parts of the row (the CRC field sits between them).
        RowCheck.storeChecksums(row, crcOffset: RowCheck.rawCRCOffset, rowBytes: region.rowBytes, count: 1)
        file.markDirty(offset, region.rowBytes)
    }

    /// The region's head: a hint of the last sequence written and its time, checksummed (`RawHead`).
    @inline(__always)
    func writeRawHead(_ file: MappedFile, _ region: RawRegion, sequence: UInt64, timestampMS: Int64) {
        RawHead.store(file.base, regionOffset: region.offset, sequence: sequence, timestampMS: timestampMS)
        file.markDirty(region.offset, Layout.rawHeadBytes)
    }
}
