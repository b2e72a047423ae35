/// The 64-byte head at the start of each raw region: the writer's hint of the last sequence it
/// wrote and that row's time, so that opening a store finds the newest row without reading the
/// region. Checksummed: bytes 16–19 hold the CRC32C of the head's other 60 bytes and of the
/// region's offset in the file (a head copied to another region does not pass).
///
/// Owns the head's bytes only; what is trusted is `RawRecovery`'s decision.
enum RawHead {
    static let crcOffset = 16

    enum State: Equatable {
        /// Never written (all zero).
        case empty
        /// Checksum passes.
        case valid(sequence: UInt64, timestampMS: Int64)
        /// Written by an essd before the checksum (bytes 16–63 zero): a hint to cross-check.
        case unchecked(sequence: UInt64, timestampMS: Int64)
        /// Checksum fails.
        case damaged
    }

    static func checksum(_ head: UnsafeRawPointer, regionOffset: Int) -> UInt32 {
        let crc = RowCheck.checksum(head, crcOffset: crcOffset, bytes: Layout.rawHeadBytes)
        return withUnsafeBytes(of: UInt64(regionOffset).littleEndian) { CRC32C.checksum($0, continuing: crc) }
    }

    /// Stores the hint and its checksum (the writer; bytes 20–63 stay zero).
    @inline(__always)
    static func store(_ base: UnsafeMutableRawPointer, regionOffset: Int, sequence: UInt64, timestampMS: Int64) {
        let head = base + regionOffset
        head.storeBytes(of: sequence.littleEndian, as: UInt64.self)
        head.storeBytes(of: timestampMS.littleEndian, toByteOffset: 8, as: Int64.self)
        head.storeBytes(of: checksum(head, regionOffset: regionOffset).littleEndian, toByteOffset: crcOffset, as: UInt32.self)
    }

    static func read(_ base: UnsafeRawPointer, regionOffset: Int) -> State {
        var copy = [UInt8](repeating: 0, count: Layout.rawHeadBytes)
        copy.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: base + regionOffset, byteCount: Layout.rawHeadBytes) }
        return copy.withUnsafeBytes { head -> State in
            let sequence = UInt64(littleEndian: head.loadUnaligned(as: UInt64.self))
            let time = Int64(littleEndian: head.loadUnaligned(fromByteOffset: 8, as: Int64.self))
            let stored = UInt32(littleEndian: head.loadUnaligned(fromByteOffset: crcOffset, as: UInt32.self))
            let restZero = head[crcOffset...].allSatisfy { $0 == 0 }
            if restZero && sequence == 0 && time == 0 { return .empty }
            if stored == checksum(head.baseAddress!, regionOffset: regionOffset) { return .valid(sequence: sequence, timestampMS: time) }
            if restZero && sequence > 0 { return .unchecked(sequence: sequence, timestampMS: time) }
            return .damaged
        }
    }
}

/// A raw region's head hint that recovery did not trust, and why: reported by
/// `StoreReader.verify()` and `health()`; the writer replaces it (logged, and an event).
public struct DamagedHint: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    /// Byte offset of the head (the region's start) in the file.
    public var offset: Int
    public var groupID: String
    public var reason: String

    public var description: String {
        "damaged raw head hint in \(path) at byte \(offset) (group \(groupID)): \(reason); the rows were scanned instead"
    }
}

/// Finds the newest raw row of a group, trusting the region's head hint only as far as the rows
/// confirm it: a hint whose checksum passes and whose row holds that sequence and time (or is
/// damaged: the hint, written after it, vouches that it was written) is the start of a forward
/// walk over rows written after it; anything else (checksum fails, the row holds another
/// sequence or time, the row is empty) is reported as a damaged hint and every row of the
/// region is read instead. So no row is ever overwritten because of a hint. Shared by the
/// writer (where to continue), the reader (where the newest row is) and the migration.
enum RawRecovery {
    struct Position: Equatable {
        var sequence: UInt64
        var timestampMS: Int64
    }

    struct Result {
        /// The last sequence written and its time (nil: the region is empty).
        var last: Position?
        /// Why the hint was not trusted (nil: it was, or the region is empty).
        var damagedHint: String?
    }

    /// What the row of `sequence` holds.
    enum RowState {
        case valid(Position)
        case damaged
        /// Empty, or an intact row of another sequence (another lap).
        case other
    }

    static func row(_ file: TierFile, group: Int, sequence: UInt64, buffer: UnsafeMutableRawBufferPointer) -> RowState {
        guard sequence > 0 else { return .other }
        let source = file.file.base + file.rawRowOffset(group: group, sequence: sequence)
        switch RowCheck.copy(from: source, into: buffer, crcOffset: RowCheck.rawCRCOffset, retries: 0) {
        case .empty: return .other
        case .damaged: return .damaged
        case .valid:
            let stored = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            guard stored == UInt32(truncatingIfNeeded: sequence) else { return .other }
            return .valid(
                Position(
                    sequence: sequence, timestampMS: Int64(littleEndian: buffer.loadUnaligned(as: Int64.self))))
        }
    }

    /// `sequenceBase`: a sequence known to be near the newest (the checkpoint's), for the high
    /// 32 bits a full scan cannot read from the rows (they keep the low 32); 0 when unknown.
    static func recover(in file: TierFile, group: Int, sequenceBase: UInt64 = 0) -> Result {
        let layout = file.plan.groups[group]
        var buffer = [UInt8](repeating: 0, count: layout.bytes)
        return buffer.withUnsafeMutableBytes { buffer -> Result in
            let reason: String
            let head = RawHead.read(file.file.base, regionOffset: layout.offset)
            switch head {
            case .empty:
                // Never written, unless rows say otherwise (a head zeroed by damage).
                if regionLooksEmpty(file, group: group, buffer: buffer) { return Result(last: nil, damagedHint: nil) }
                reason = "the head is zero but the region holds rows"
            case .valid(let sequence, let time), .unchecked(let sequence, let time):
                let checked = head == .valid(sequence: sequence, timestampMS: time)
                switch row(file, group: group, sequence: sequence, buffer: buffer) {
                case .valid(let found) where found.timestampMS == time:
                    return Result(last: forward(from: found, file, group: group, buffer: buffer), damagedHint: nil)
                case .damaged where checked:
                    let hinted = Position(sequence: sequence, timestampMS: time)
                    return Result(last: forward(from: hinted, file, group: group, buffer: buffer), damagedHint: nil)
                case .valid(let found):
                    reason = "it names sequence \(sequence) at \(time) ms, but that row holds time \(found.timestampMS) ms"
                case .damaged:
                    reason = "it has no checksum (older essd) and names sequence \(sequence), whose row is damaged"
                case .other:
                    reason = "it names sequence \(sequence), but that row holds another sequence or nothing"
                }
            case .damaged:
                reason = "its checksum fails (a write cut short by a crash, or damage)"
            }
            return Result(last: scan(file, group: group, sequenceBase: sequenceBase, buffer: buffer), damagedHint: reason)
        }
    }

    /// Rows written after `start`, in sequence (the hint lags a batch, or the last row).
    static func forward(
        from start: Position, _ file: TierFile, group: Int, buffer: UnsafeMutableRawBufferPointer
    ) -> Position {
        var last = start
        var steps = 0
        while steps < file.plan.groups[group].capacity, last.sequence < UInt64.max,
            case .valid(let next) = row(file, group: group, sequence: last.sequence + 1, buffer: buffer)
        {
            last = next
            steps += 1
        }
        return last
    }

    /// Whether the first rows of the region are all zero (a region never written).
    static func regionLooksEmpty(_ file: TierFile, group: Int, buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let layout = file.plan.groups[group]
        for index in 0..<min(layout.capacity, 4) {
            let source = file.file.base + layout.offset + Layout.rawHeadBytes + index * layout.bytes
            if RowCheck.copy(from: source, into: buffer, crcOffset: RowCheck.rawCRCOffset, retries: 0) != .empty {
                return false
            }
        }
        return true
    }

    /// Reads every row of the region: the newest is the intact row with the highest sequence
    /// that fits its place in the ring (`sequence % capacity`).
    static func scan(_ file: TierFile, group: Int, sequenceBase: UInt64, buffer: UnsafeMutableRawBufferPointer)
        -> Position?
    {
        let layout = file.plan.groups[group]
        let capacity = UInt64(layout.capacity)
        let high = sequenceBase >> 32
        var newest: Position?
        for index in 0..<layout.capacity {
            let source = file.file.base + layout.offset + Layout.rawHeadBytes + index * layout.bytes
            guard RowCheck.copy(from: source, into: buffer, crcOffset: RowCheck.rawCRCOffset, retries: 0) == .valid
            else { continue }
            let low = UInt64(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
            let candidates = [high, high + 1] + (high > 0 ? [high - 1] : [])
            guard let sequence = candidates.map({ $0 << 32 | low }).first(where: { $0 > 0 && $0 % capacity == UInt64(index) })
            else { continue }
            if sequence > newest?.sequence ?? 0 {
                newest = Position(
                    sequence: sequence, timestampMS: Int64(littleEndian: buffer.loadUnaligned(as: Int64.self)))
            }
        }
        return newest
    }
}
