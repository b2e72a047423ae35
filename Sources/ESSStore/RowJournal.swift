import ESSCore
import Logging
import Synchronization

/// The row journal (`rows.journal`): a copy of the one consolidated row the writer is changing
/// in place, taken before the change and dropped once the row's checksum is stored again.
///
/// A consolidated row holds several slots and every group's part of them, so adding a slot
/// rewrites a row that may hold checkpointed slots. A writer killed in the middle leaves the row
/// torn (its checksum fails) and those slots would be lost. The copy is what the row held before
/// the change: readers read it in place of the torn row, and the next writer puts it back at
/// open. It protects against the writer's death (kill -9, a crash), whose stores all reach the
/// page cache in program order; after a power loss, rows changed since the last checkpoint may
/// still be torn (then they are reported damaged, never read wrong). So the journal is never
/// synced: the page cache is what outlives the writer.
///
/// One entry, in a file of its own (not part of the tier file format):
///
///     0   UInt64  magic "ESSDRJ01"
///     8   UInt32  1 while it holds a copy, else 0
///     12  UInt32  CRC32C of bytes 16 ..< 32 + length
///     16  UInt32  index of the tier file in the plan
///     20  UInt32  length of the row (the tier's row bytes)
///     24  Int64   offset of the row in its tier file
///     32  the row's bytes
final class RowJournal {
    static let fileName = "rows.journal"
    static let magic = UInt64(littleEndian: 0x3130_4A52_4444_5345)  // "ESSDRJ01"
    static let headerBytes = 32

    let file: MappedFile

    init(file: MappedFile) { self.file = file }

    /// The journal's size for `plan`: a page or more, enough for its longest consolidated row.
    static func bytes(for plan: StorePlan) -> Int {
        let longest = plan.files.filter { !$0.tier.isRaw }.map(\.rowBytes).max() ?? 0
        return (headerBytes + longest + 4095) / 4096 * 4096
    }

    /// The writer's journal: opened, or created when missing or of another size (a layout change).
    static func openForWriting(directory: String, plan: StorePlan) throws(StoreError) -> RowJournal {
        let path = directory + "/" + fileName
        let bytes = bytes(for: plan)
        if try SystemCalls.sizeIfExists(path) == Int64(bytes) {
            return RowJournal(file: try MappedFile(path: path, writable: true))
        }
        try MappedFile.create(path: path, bytes: Int64(bytes), header: [])
        return RowJournal(file: try MappedFile(path: path, writable: true))
    }

    /// A reader's view, nil when there is no journal of the plan's size.
    static func openForReading(directory: String, plan: StorePlan) -> RowJournal? {
        let path = directory + "/" + fileName
        guard (try? SystemCalls.sizeIfExists(path)) == Int64(bytes(for: plan)),
            let mapped = try? MappedFile(path: path, writable: false)
        else { return nil }
        return RowJournal(file: mapped)
    }

    /// Copies the row at `offset` of tier file `index` into the journal; the row must not change
    /// before this returns.
    @inline(__always)
    func save(file index: Int, offset: Int, row: UnsafeRawPointer, length: Int) {
        let base = file.base
        base.storeBytes(of: UInt32(0), toByteOffset: 8, as: UInt32.self)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        base.storeBytes(of: Self.magic, as: UInt64.self)
        base.storeBytes(of: UInt32(index).littleEndian, toByteOffset: 16, as: UInt32.self)
        base.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 20, as: UInt32.self)
        base.storeBytes(of: Int64(offset).littleEndian, toByteOffset: 24, as: Int64.self)
        (base + Self.headerBytes).copyMemory(from: row, byteCount: length)
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(start: base + 16, count: 16 + length))
        base.storeBytes(of: crc.littleEndian, toByteOffset: 12, as: UInt32.self)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        base.storeBytes(of: UInt32(1).littleEndian, toByteOffset: 8, as: UInt32.self)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }

    /// Drops the copy: the row's change is complete.
    @inline(__always)
    func clear() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        file.base.storeBytes(of: UInt32(0), toByteOffset: 8, as: UInt32.self)
    }

    /// Copies the journal's row into `buffer` when the journal holds a complete copy of the row
    /// at `offset` of tier file `index` (a length of `buffer.count`). Copied first and checked on
    /// the copy, so a writer changing the journal meanwhile is seen as a failed check.
    func copy(file index: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let length = buffer.count
        guard Self.headerBytes + length <= file.bytes else { return false }
        var header = [UInt8](repeating: 0, count: Self.headerBytes)
        header.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: file.base, byteCount: Self.headerBytes) }
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        buffer.baseAddress!.copyMemory(from: file.base + Self.headerBytes, byteCount: length)
        return header.withUnsafeBytes { h in
            guard h.loadUnaligned(as: UInt64.self) == Self.magic,
                UInt32(littleEndian: h.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == 1,
                UInt32(littleEndian: h.loadUnaligned(fromByteOffset: 16, as: UInt32.self)) == UInt32(index),
                UInt32(littleEndian: h.loadUnaligned(fromByteOffset: 20, as: UInt32.self)) == UInt32(length),
                Int64(littleEndian: h.loadUnaligned(fromByteOffset: 24, as: Int64.self)) == Int64(offset)
            else { return false }
            var crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: h[16..<32]))
            crc = CRC32C.checksum(UnsafeRawBufferPointer(buffer), continuing: crc)
            guard crc == UInt32(littleEndian: h.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) else { return false }
            return RowCheck.checksum(UnsafeRawPointer(buffer.baseAddress!), crcOffset: RowCheck.consolidatedCRCOffset, bytes: length)
                == UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: RowCheck.consolidatedCRCOffset, as: UInt32.self))
        }
    }

    /// At the writer's open: puts a saved row back when its tier file holds it torn (the previous
    /// writer died while changing it), then drops the copy. Returns where it restored a row.
    func restore(into files: [TierFile], logger: Logger) -> (path: String, offset: Int)? {
        defer { clear() }
        let base = file.base
        guard base.loadUnaligned(as: UInt64.self) == Self.magic,
            UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == 1
        else { return nil }
        let index = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
        let offset = Int(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 24, as: Int64.self)))
        guard index < files.count, !files[index].plan.tier.isRaw else { return nil }
        let target = files[index]
        let length = target.plan.rowBytes
        guard offset >= target.plan.headerBytes, offset + length <= target.file.bytes,
            (offset - target.plan.headerBytes) % length == 0
        else { return nil }
        var copy = [UInt8](repeating: 0, count: length)
        let saved = copy.withUnsafeMutableBytes { self.copy(file: index, offset: offset, into: $0) }
        guard saved else { return nil }
        let row = target.file.base + offset
        let intact =
            RowCheck.checksum(row, crcOffset: RowCheck.consolidatedCRCOffset, bytes: length)
            == UInt32(littleEndian: row.loadUnaligned(fromByteOffset: RowCheck.consolidatedCRCOffset, as: UInt32.self))
        guard !intact else { return nil }  // the change was complete
        copy.withUnsafeBytes { row.copyMemory(from: $0.baseAddress!, byteCount: length) }
        target.file.markDirty(offset, length)
        logger.warning(
            "torn row restored from the row journal: the previous writer stopped while changing it",
            metadata: ["path": "\(target.path)", "offset": "\(offset)"])
        return (target.path, offset)
    }
}
