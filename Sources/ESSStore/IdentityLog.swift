import Foundation

/// One observation of a device's identity text (serial number, firmware version, model …):
/// the first time essd read it, or the first time it read a different text.
public struct IdentityRecord: Sendable, Hashable, Codable {
    public var deviceID: String
    /// The profile point's name (e.g. `serial_number`, `firmware_version`).
    public var point: String
    public var text: String
    /// When it was read, ms since 1970 UTC.
    public var observedMS: Int64

    public init(deviceID: String, point: String, text: String, observedMS: Int64) {
        self.deviceID = deviceID
        self.point = point
        self.text = text
        self.observedMS = observedMS
    }

    enum CodingKeys: String, CodingKey {
        case deviceID = "device"
        case point
        case text
        case observedMS = "observed_ms"
    }
}

/// The store's record of device identity texts: `identity.jsonl` in the state directory, one
/// JSON object per line, appended (and `fsync`ed) only when a text is first seen or changes, so
/// it stays small and keeps the history of firmware changes for an auditor. The tier files keep
/// numbers only; this file is where serial numbers and firmware versions live.
///
/// Owns the file's format and its reading; not thread-safe (one writer, `IdentityRecorder` in
/// ESSDaemon, serialises its appends).
public enum IdentityLog {
    public static let fileName = "identity.jsonl"

    /// Appends `records` as lines and `fsync`s. Creates the file (0644) when missing.
    public static func append(_ records: [IdentityRecord], directory: String) throws(StoreError) {
        guard !records.isEmpty else { return }
        let path = directory + "/" + fileName
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: [UInt8] = []
        for record in records {
            // Plain strings and an integer: encoding cannot fail.
            bytes += Array((try? encoder.encode(record)) ?? Data()) + [0x0A]
        }
        try SystemCalls.appendLines(bytes, path: path)
    }

    /// What the file holds, oldest first, and the lines it could not read (a line cut short by a
    /// crash while appending is the only expected one). Empty when the file does not exist.
    public static func read(directory: String) throws(StoreError) -> (records: [IdentityRecord], unreadableLines: [Int]) {
        guard let bytes = try SystemCalls.readWholeFile(directory + "/" + fileName) else { return ([], []) }
        var records: [IdentityRecord] = []
        var unreadable: [Int] = []
        let decoder = JSONDecoder()
        for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            if let record = try? decoder.decode(IdentityRecord.self, from: Data(line)) {
                records.append(record)
            } else {
                unreadable.append(index + 1)
            }
        }
        return (records, unreadable)
    }

    /// The newest text of every device's identity points: `[deviceID: [point: record]]`.
    public static func latest(_ records: [IdentityRecord]) -> [String: [String: IdentityRecord]] {
        var result: [String: [String: IdentityRecord]] = [:]
        for record in records {
            if let known = result[record.deviceID]?[record.point], known.observedMS > record.observedMS { continue }
            result[record.deviceID, default: [:]][record.point] = record
        }
        return result
    }
}
