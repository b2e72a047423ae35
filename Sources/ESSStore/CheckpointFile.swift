/// The `checkpoint` file: when the last checkpoint was made, whether the writer stopped there,
/// each group's last raw sequence and timestamp, and the newest slot written per tier and group.
/// Binary, little-endian, CRC32C at the end; replaced atomically (temp + rename).
///
/// Version 2 (written now) adds, after the version: the store id (a checkpoint of another store
/// is ignored), the stop instant (`Int64.min`: not a stop), and how many lines of
/// `events.jsonl` the writer had applied. Version 1 is read with no store id, no stop and 0 lines.
public struct CheckpointRecord: Sendable, Hashable {
    public struct RawPosition: Sendable, Hashable {
        public var sequence: UInt64
        public var timestampMS: Int64
    }

    /// Wall-clock time passed to `checkpoint(nowMS:)`.
    public var checkpointMS: Int64
    /// The store it belongs to (nil: version 1).
    public var storeID: String? = nil
    /// Set when the writer stopped (`StoreWriter.stop(atMS:)`): the instant, the same as `checkpointMS`.
    public var stopMS: Int64? = nil
    /// Lines of `events.jsonl` applied when it was written (see `StoreWriter.applyPendingEvents`).
    public var eventLines = 0
    /// By group id.
    public var raw: [String: RawPosition]
    /// By tier name, then group id: the newest slot number written.
    public var newestSlots: [String: [String: UInt32]]

    static let fileName = "checkpoint"
    static let magic = Array("ESSDCKPT".utf8)

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.append(Self.magic)
        w.append(UInt16(2))
        w.appendString(storeID ?? "")
        w.append(checkpointMS)
        w.append(stopMS ?? .min)
        w.append(UInt32(clamping: eventLines))
        w.append(UInt32(raw.count))
        for (group, position) in raw.sorted(by: { $0.key < $1.key }) {
            w.appendString(group)
            w.append(position.sequence)
            w.append(position.timestampMS)
        }
        w.append(UInt32(newestSlots.count))
        for (tier, groups) in newestSlots.sorted(by: { $0.key < $1.key }) {
            w.appendString(tier)
            w.append(UInt32(groups.count))
            for (group, slot) in groups.sorted(by: { $0.key < $1.key }) {
                w.appendString(group)
                w.append(slot)
            }
        }
        w.append(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws(StoreError) -> CheckpointRecord {
        let bad = StoreError(
            .corruptFile,
            "\(path) is damaged (bad magic, length or checksum); delete it: the next checkpoint rewrites it, and only its hints are lost"
        )
        guard bytes.count >= 4,
            CRC32C.checksum(Array(bytes[0..<(bytes.count - 4)]))
                == UInt32(
                    littleEndian: bytes.withUnsafeBytes {
                        $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)
                    })
        else { throw bad }
        var r = ByteReader(Array(bytes[0..<(bytes.count - 4)]))
        guard r.read(count: 8) == magic, let version = r.read(UInt16.self), version == 1 || version == 2 else {
            throw bad
        }
        var storeID: String?
        if version == 2 {
            guard let id = r.readString() else { throw bad }
            storeID = id
        }
        guard let time = r.read(Int64.self) else { throw bad }
        var record = CheckpointRecord(checkpointMS: time, raw: [:], newestSlots: [:])
        record.storeID = storeID
        if version == 2 {
            guard let stop = r.read(Int64.self), let lines = r.read(UInt32.self) else { throw bad }
            record.stopMS = stop == .min ? nil : stop
            record.eventLines = Int(lines)
        }
        guard let rawCount = r.read(UInt32.self) else { throw bad }
        for _ in 0..<rawCount {
            guard let group = r.readString(), let sequence = r.read(UInt64.self), let timestamp = r.read(Int64.self)
            else {
                throw bad
            }
            record.raw[group] = RawPosition(sequence: sequence, timestampMS: timestamp)
        }
        guard let tierCount = r.read(UInt32.self) else { throw bad }
        for _ in 0..<tierCount {
            guard let tier = r.readString(), let count = r.read(UInt32.self) else { throw bad }
            var groups: [String: UInt32] = [:]
            for _ in 0..<count {
                guard let group = r.readString(), let slot = r.read(UInt32.self) else { throw bad }
                groups[group] = slot
            }
            record.newestSlots[tier] = groups
        }
        guard r.position == r.bytes.count else { throw bad }
        return record
    }

    static func read(directory: String) throws(StoreError) -> CheckpointRecord? {
        let path = directory + "/" + fileName
        guard let bytes = try SystemCalls.readWholeFile(path) else { return nil }
        return try decode(bytes, path: path)
    }
}

extension ByteWriter {
    mutating func appendString(_ text: String) {
        let utf8 = Array(text.utf8)
        append(UInt16(utf8.count))
        append(utf8)
    }
}

extension ByteReader {
    mutating func readString() -> String? {
        guard let count = read(UInt16.self), let bytes = read(count: Int(count)) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
