import ESSCore

/// The header of a tier file (a multiple of 4096 bytes, little-endian): what the rows after it
/// mean. Encodes a `TierFilePlan` and checks a file's header against the expected one.
///
/// | offset | field |
/// | --- | --- |
/// | 0 | magic "ESSDTIER" |
/// | 8 | format version UInt16, kind UInt8 (0 consolidated, 1 raw), slots per row UInt8 (raw: 1) |
/// | 12 | header bytes UInt32, row bytes UInt32, group count UInt32 |
/// | 24 | capacity UInt64, slot ms Int64, retention ms Int64, schema hash UInt64 |
/// | 56 | tier name: UInt8 length + 31 bytes |
/// | 88 | site id: UInt16 length + 256 bytes (to 346, then zero to 352) |
/// | 352 | per group: UInt16 id length, id, UInt32 signals kept, UInt8 energy, UInt8 0, UInt64 offset, UInt32 bytes, UInt64 capacity, Int64 poll ms |
/// | end − 4 | CRC32C of every byte before it |
enum TierHeader {
    static let magic: [UInt8] = Array("ESSDTIER".utf8)

    static func encode(_ file: TierFilePlan, plan: StorePlan) -> [UInt8] {
        var bytes = ByteWriter()
        bytes.append(magic)
        bytes.append(StorePlan.formatVersion)
        bytes.append(UInt8(file.tier.isRaw ? 1 : 0))
        bytes.append(UInt8(file.slotsPerRow))
        bytes.append(UInt32(file.headerBytes))
        bytes.append(UInt32(file.rowBytes))
        bytes.append(UInt32(file.groups.count))
        bytes.append(UInt64(file.capacity))
        bytes.append(file.tier.slotMS)
        bytes.append(file.tier.retentionMS)
        bytes.append(plan.schemaHash)
        let name = Array(file.tier.name.utf8)
        bytes.append(UInt8(name.count))
        bytes.append(name + [UInt8](repeating: 0, count: 31 - name.count))
        let site = Array(plan.siteID.utf8)
        bytes.append(UInt16(site.count))
        bytes.append(site + [UInt8](repeating: 0, count: 256 - site.count))
        bytes.append([UInt8](repeating: 0, count: Layout.headerFixedBytes - bytes.bytes.count))
        for group in file.groups {
            let id = Array(group.groupID.utf8)
            bytes.append(UInt16(id.count))
            bytes.append(id)
            bytes.append(UInt32(group.signalIndices.count))
            bytes.append(UInt8(group.hasEnergy ? 1 : 0))
            bytes.append(UInt8(0))
            bytes.append(UInt64(group.offset))
            bytes.append(UInt32(group.bytes))
            bytes.append(UInt64(group.capacity))
            bytes.append(group.pollIntervalMS)
        }
        bytes.append([UInt8](repeating: 0, count: file.headerBytes - 4 - bytes.bytes.count))
        bytes.append(CRC32C.checksum(bytes.bytes))
        return bytes.bytes
    }

    /// Checks the header at `address` is the one `expected` would write; throws a message naming
    /// the first difference.
    static func verify(
        _ address: UnsafeRawPointer, fileBytes: Int64, expected file: TierFilePlan, plan: StorePlan, path: String
    ) throws(StoreError) {
        let restore =
            "restore the file from a backup, or move the state directory aside to start a new store (its history stays in the moved directory)"
        guard fileBytes >= 64 else {
            throw StoreError(
                .wrongFileSize, "\(path) is \(fileBytes) bytes, too short to hold a tier header: \(restore)")
        }
        let found = UnsafeRawBufferPointer(start: address, count: 8)
        guard Array(found) == magic else {
            throw StoreError(
                .corruptFile,
                "\(path) does not start with ESSDTIER: not a tier file, or its header is damaged; \(restore)")
        }
        let version = UInt16(littleEndian: address.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        guard version == StorePlan.formatVersion else {
            throw StoreError(
                .unknownFormatVersion,
                "\(path) has format version \(version); this essd reads version \(StorePlan.formatVersion): use the essd release that wrote it, or move the state directory aside"
            )
        }
        let headerBytes = Int(UInt32(littleEndian: address.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        guard headerBytes >= Layout.pageBytes, headerBytes % Layout.pageBytes == 0, Int64(headerBytes) <= fileBytes
        else {
            throw StoreError(.corruptFile, "\(path): header length field \(headerBytes) is invalid; \(restore)")
        }
        let stored = UInt32(littleEndian: address.loadUnaligned(fromByteOffset: headerBytes - 4, as: UInt32.self))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(start: address, count: headerBytes - 4))
        guard stored == computed else {
            throw StoreError(
                .corruptFile,
                "\(path): header checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): the header is damaged; \(restore)"
            )
        }
        let expectedBytes = encode(file, plan: plan)
        let actual = Array(UnsafeRawBufferPointer(start: address, count: headerBytes))
        if actual != expectedBytes {
            throw StoreError(
                .corruptFile,
                "\(path): header does not match catalog.json (\(describeDifference(actual, expectedBytes))); the catalogue or the file was replaced: \(restore)"
            )
        }
        guard fileBytes == file.bytes else {
            throw StoreError(
                .wrongFileSize,
                "\(path) is \(fileBytes) bytes but its header and the catalogue say \(file.bytes): the file was truncated or extended; \(restore)"
            )
        }
    }

    private static func describeDifference(_ actual: [UInt8], _ expected: [UInt8]) -> String {
        let fields: [(Range<Int>, String)] = [
            (10..<11, "tier kind"), (11..<12, "slots per row"), (12..<16, "header length"), (16..<20, "row bytes"), (20..<24, "group count"), (24..<32, "capacity"),
            (32..<40, "slot length"), (40..<48, "retention"), (48..<56, "schema hash"), (56..<88, "tier name"),
            (88..<352, "site id"),
        ]
        for (range, name) in fields where range.upperBound <= min(actual.count, expected.count) {
            if actual[range] != expected[range] { return "\(name) differs" }
        }
        return "group layout differs"
    }

    static func hex(_ value: UInt32) -> String {
        let text = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - text.count)) + text
    }
}

/// Little-endian byte building for headers and the checkpoint file.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append(_ more: [UInt8]) { bytes += more }
    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}

/// Little-endian reading of a byte array; nil past the end.
struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard position + size <= bytes.count else { return nil }
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: T.self) }
        position += size
        return T(littleEndian: value)
    }

    mutating func read(count: Int) -> [UInt8]? {
        guard count >= 0, position + count <= bytes.count else { return nil }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }
}
