internal import CCRC32C

/// A mapped tier file with its planned layout: where each row is, and how rows are checked.
/// Shared by the writer, the reader and the migration; knows nothing of their policies.
final class TierFile {
    let plan: TierFilePlan
    let file: MappedFile
    let groupIndex: [String: Int]

    init(plan: TierFilePlan, file: MappedFile) {
        self.plan = plan
        self.file = file
        var index: [String: Int] = [:]
        for (position, group) in plan.groups.enumerated() { index[group.groupID] = position }
        groupIndex = index
    }

    var path: String { file.path }

    /// Consolidated: byte offset of the row holding `slotNumber`.
    func rowOffset(slotNumber: UInt32) -> Int { plan.rowOffset(slotNumber: slotNumber) }

    /// Raw: byte offset of the row of `sequence` in `group`'s region.
    func rawRowOffset(group: Int, sequence: UInt64) -> Int {
        let layout = plan.groups[group]
        return layout.offset + Layout.rawHeadBytes + Int(sequence % UInt64(layout.capacity)) * layout.bytes
    }
}

/// The CRC of a row and the state of a row copied out of a mapping.
enum RowCheck {
    /// Consolidated rows: UInt32 slot number, then the CRC. Raw rows: Int64 time, UInt32 sequence, then the CRC.
    static let consolidatedCRCOffset = 4
    static let rawCRCOffset = 12

    enum State: Equatable {
        /// Never written (key and CRC zero).
        case empty
        /// CRC matches (the key may still belong to another lap).
        case valid
        /// CRC mismatch on every attempt.
        case damaged
    }

    /// CRC32C of every byte of the row except the CRC field itself.
    @inline(__always)
    static func checksum(_ row: UnsafeRawPointer, crcOffset: Int, bytes: Int) -> UInt32 {
        if CRC32C.usesHardware {
            let head = ccrc32c_hardware_update(~0, row, crcOffset)
            return ~ccrc32c_hardware_update(head, row + crcOffset + 4, bytes - crcOffset - 4)
        }
        let head = CRC32C.checksum(UnsafeRawBufferPointer(start: row, count: crcOffset))
        return CRC32C.checksum(
            UnsafeRawBufferPointer(start: row + crcOffset + 4, count: bytes - crcOffset - 4), continuing: head)
    }

    static func storeChecksum(_ row: UnsafeMutableRawPointer, crcOffset: Int, bytes: Int) {
        let crc = checksum(row, crcOffset: crcOffset, bytes: bytes)
        row.storeBytes(of: crc.littleEndian, toByteOffset: crcOffset, as: UInt32.self)
    }

    /// `storeChecksum` of `count` rows laid `rowBytes` apart from `rows` (the CPU's instruction
    /// checksums four rows at once, their dependency chains interleaved).
    static func storeChecksums(_ rows: UnsafeMutableRawPointer, crcOffset: Int, rowBytes: Int, count: Int) {
        if CRC32C.usesHardware {
            ccrc32c_hardware_store_row_checksums(rows, rowBytes, count, crcOffset)
            return
        }
        for row in 0..<count { storeChecksum(rows + row * rowBytes, crcOffset: crcOffset, bytes: rowBytes) }
    }

    /// Copies the row at `source` into `buffer` and checks it, copying again up to `retries`
    /// times when the CRC fails (a writer in another process may be in the middle of the row).
    static func copy(
        from source: UnsafeRawPointer, into buffer: UnsafeMutableRawBufferPointer, crcOffset: Int, retries: Int
    ) -> State {
        let bytes = buffer.count
        for attempt in 0...retries {
            buffer.baseAddress!.copyMemory(from: source, byteCount: bytes)
            let row = UnsafeRawPointer(buffer.baseAddress!)
            let stored = UInt32(littleEndian: row.loadUnaligned(fromByteOffset: crcOffset, as: UInt32.self))
            var keyIsZero = true
            for offset in 0..<crcOffset where row.load(fromByteOffset: offset, as: UInt8.self) != 0 {
                keyIsZero = false
                break
            }
            if keyIsZero && stored == 0 { return .empty }
            if checksum(row, crcOffset: crcOffset, bytes: bytes) == stored { return .valid }
            if attempt < retries { SystemCalls.yield() }
        }
        return .damaged
    }
}
