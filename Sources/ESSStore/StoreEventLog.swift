#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Raw rows quarantined in one group: sequences `firstSequence...lastSequence`, and the time of
/// the group's newest row before them (nil: none), where storing resumed.
public struct QuarantinedRows: Sendable, Hashable, Codable {
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    public var resumeAfterMS: Int64?

    public init(firstSequence: UInt64, lastSequence: UInt64, resumeAfterMS: Int64?) {
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.resumeAfterMS = resumeAfterMS
    }

    enum CodingKeys: String, CodingKey {
        case firstSequence = "first_sequence"
        case lastSequence = "last_sequence"
        case resumeAfterMS = "resume_after_ms"
    }

    public func contains(_ sequence: UInt64) -> Bool { (firstSequence...lastSequence).contains(sequence) }
}

/// What `StoreWriter.quarantine(fromMS:toMS:reason:nowMS:)` set aside: rows stored while the
/// wall clock read `fromMS..<toMS` and was then stepped back.
public struct StoreQuarantine: Sendable, Hashable {
    public var fromMS: Int64
    public var toMS: Int64
    /// The (corrected) wall-clock time the quarantine was made.
    public var notedMS: Int64
    public var reason: String
    /// By group id; groups with no row at or after `fromMS` are absent.
    public var rows: [String: QuarantinedRows]
}

/// History imported from another system's export (`essctl import csv`): the groups it fed,
/// the time its rows span, and the interval they were sampled at (for completeness by samples,
/// which expects the configured poll interval elsewhere).
public struct StoreImport: Sendable, Hashable {
    public var groups: [String]
    /// [fromMS, toMS): the first row's time to the last row's time plus one interval.
    public var fromMS: Int64
    public var toMS: Int64
    public var intervalMS: Int64
    /// The source file, as given to the import.
    public var source: String
    public var notedMS: Int64

    public init(groups: [String], fromMS: Int64, toMS: Int64, intervalMS: Int64, source: String, notedMS: Int64) {
        self.groups = groups
        self.fromMS = fromMS
        self.toMS = toMS
        self.intervalMS = intervalMS
        self.source = source
        self.notedMS = notedMS
    }
}

/// Something a reader of the history must know about, kept in `events.jsonl`.
public enum StoreEvent: Sendable, Hashable {
    /// essd stopped at `atMS` (`clean`: its store said so at shutdown; not clean: it ended
    /// without saying, e.g. `kill -9` or power loss, at or after its newest raw row, the time
    /// given). Coverage ends there: a restart never holds a sample across it.
    case stopped(atMS: Int64, clean: Bool)
    /// Rows written under a wall clock that was later stepped back: kept, not read as data.
    case quarantined(StoreQuarantine)
    /// A raw region's head hint failed its checks; the writer scanned the rows and continued
    /// after `continuedAfter` (the newest row's sequence), then replaced the hint.
    case hintRepaired(DamagedHint, continuedAfter: UInt64, notedMS: Int64)
    /// History was imported (after its slots and checkpoint were written).
    case imported(StoreImport)
    /// essd opened the store to store what it polls (a start or restart) at `atMS`.
    case started(atMS: Int64)
    /// A reload (SIGHUP) applied a new configuration at `atMS`; `groups`: the series groups after it.
    case reconfigured(atMS: Int64, groups: [String])
    /// essd saw the wall clock step by `stepMS` (negative: back) at `atMS` (the true time after it).
    case clockStepped(atMS: Int64, stepMS: Int64)
}

/// The store's event log: `events.jsonl` in the state directory, one line per event, appended
/// and `fsync`ed: `{"crc32c":"<8 hex>","event":{...}}`, the CRC-32C over the exact bytes of the
/// inner object, so a damaged line is found and reported instead of read wrong. A line cut short
/// by a crash is reported and skipped; the next append starts a new line.
///
/// Owns the file's format; not thread-safe (the one writer appends).
enum StoreEventLog {
    static let fileName = "events.jsonl"

    /// What the file holds.
    struct Contents {
        /// With the index, among the file's non-empty lines, of the line each is on.
        var events: [(line: Int, event: StoreEvent)] = []
        /// 1-based line numbers that failed their checksum or did not decode.
        var damagedLines: [Int] = []
        /// Non-empty lines, damaged ones included (a checkpoint counts the lines it has applied).
        var lineCount = 0
    }

    struct Record: Codable {
        var kind: String
        var atMS: Int64?
        var clean: Bool?
        var fromMS: Int64?
        var toMS: Int64?
        var notedMS: Int64?
        var reason: String?
        var rows: [String: QuarantinedRows]?
        var path: String?
        var offset: Int?
        var group: String?
        var sequence: UInt64?
        var groups: [String]?
        var intervalMS: Int64?
        var stepMS: Int64?

        enum CodingKeys: String, CodingKey {
            case kind, clean, reason, rows, path, offset, group, sequence, groups
            case intervalMS = "interval_ms"
            case stepMS = "step_ms"
            case atMS = "at_ms"
            case fromMS = "from_ms"
            case toMS = "to_ms"
            case notedMS = "noted_ms"
        }

        init(kind: String) { self.kind = kind }

        init(_ event: StoreEvent) {
            switch event {
            case .stopped(let at, let clean):
                kind = "stopped"
                atMS = at
                self.clean = clean
            case .quarantined(let q):
                kind = "quarantined"
                fromMS = q.fromMS
                toMS = q.toMS
                notedMS = q.notedMS
                reason = q.reason
                rows = q.rows
            case .hintRepaired(let hint, let after, let noted):
                kind = "hint_repaired"
                path = hint.path
                offset = hint.offset
                group = hint.groupID
                reason = hint.reason
                sequence = after
                notedMS = noted
            case .imported(let i):
                kind = "imported"
                groups = i.groups
                fromMS = i.fromMS
                toMS = i.toMS
                intervalMS = i.intervalMS
                path = i.source
                notedMS = i.notedMS
            case .started(let at):
                kind = "started"
                atMS = at
            case .reconfigured(let at, let list):
                kind = "reconfigured"
                atMS = at
                groups = list
            case .clockStepped(let at, let step):
                kind = "clock_stepped"
                atMS = at
                stepMS = step
            }
        }

        var event: StoreEvent? {
            switch kind {
            case "stopped":
                guard let atMS, let clean else { return nil }
                return .stopped(atMS: atMS, clean: clean)
            case "quarantined":
                guard let fromMS, let toMS, let notedMS, let reason, let rows,
                    rows.values.allSatisfy({ $0.firstSequence > 0 && $0.firstSequence <= $0.lastSequence })
                else { return nil }
                return .quarantined(StoreQuarantine(fromMS: fromMS, toMS: toMS, notedMS: notedMS, reason: reason, rows: rows))
            case "hint_repaired":
                guard let path, let offset, let group, let reason, let sequence, let notedMS else { return nil }
                return .hintRepaired(
                    DamagedHint(path: path, offset: offset, groupID: group, reason: reason), continuedAfter: sequence,
                    notedMS: notedMS)
            case "imported":
                guard let groups, let fromMS, let toMS, let intervalMS, let path, let notedMS, fromMS <= toMS,
                    intervalMS > 0
                else { return nil }
                return .imported(
                    StoreImport(groups: groups, fromMS: fromMS, toMS: toMS, intervalMS: intervalMS, source: path, notedMS: notedMS))
            case "started":
                guard let atMS else { return nil }
                return .started(atMS: atMS)
            case "reconfigured":
                guard let atMS, let groups else { return nil }
                return .reconfigured(atMS: atMS, groups: groups)
            case "clock_stepped":
                guard let atMS, let stepMS else { return nil }
                return .clockStepped(atMS: atMS, stepMS: stepMS)
            default: return nil
            }
        }
    }

    static let prefix = Array(#"{"crc32c":""#.utf8)
    static let middle = Array(#"","event":"#.utf8)

    /// One line (with its newline) for `event`.
    static func line(_ event: StoreEvent) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and booleans only: encoding cannot fail.
        let inner = Array((try? encoder.encode(Record(event))) ?? Data())
        return prefix + Array(TierHeader.hex(CRC32C.checksum(inner)).dropFirst(2).utf8) + middle + inner + Array("}\n".utf8)
    }

    /// The event on one line (without its newline), or nil when the line is damaged.
    static func parse<Bytes: Collection<UInt8>>(_ line: Bytes) -> StoreEvent? {
        let bytes = Array(line)
        let headBytes = prefix.count + 8 + middle.count
        guard bytes.count > headBytes + 1, bytes.starts(with: prefix), bytes.last == UInt8(ascii: "}"),
            Array(bytes[(prefix.count + 8)..<headBytes]) == middle,
            let crc = UInt32(String(decoding: bytes[prefix.count..<(prefix.count + 8)], as: UTF8.self), radix: 16)
        else { return nil }
        let inner = Array(bytes[headBytes..<(bytes.count - 1)])
        guard CRC32C.checksum(inner) == crc, let record = try? JSONDecoder().decode(Record.self, from: Data(inner))
        else { return nil }
        return record.event
    }

    static func decode(_ bytes: [UInt8]) -> Contents {
        var contents = Contents()
        for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            if let event = parse(line) {
                contents.events.append((contents.lineCount, event))
            } else {
                contents.damagedLines.append(index + 1)
            }
            contents.lineCount += 1
        }
        return contents
    }

    static func read(directory: String) throws(StoreError) -> Contents {
        guard let bytes = try SystemCalls.readWholeFile(directory + "/" + fileName) else { return Contents() }
        return decode(bytes)
    }

    /// Appends `event` and `fsync`s (and the directory, when the file is new).
    static func append(_ event: StoreEvent, directory: String) throws(StoreError) {
        let path = directory + "/" + fileName
        let existed = try SystemCalls.sizeIfExists(path) != nil
        try SystemCalls.appendLines(line(event), path: path)
        if !existed { try SystemCalls.fsyncDirectory(directory) }
    }
}
