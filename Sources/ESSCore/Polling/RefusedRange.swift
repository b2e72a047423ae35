/// A register range that one device refuses to serve in a read (it answered exception 2 or 3),
/// learnt by splitting the failing request. The planner reads around it: no request covers
/// any of its registers, and an empty range (`lowerBound == upperBound`) is a boundary no
/// request may cross (the device refused the merged read but serves both sides).
public struct RefusedRange: Sendable, Hashable, CustomStringConvertible {
    public var kind: RegisterKind
    public var registers: Range<Int>
    /// The exception code the device answered (2 illegal data address, 3 illegal data value).
    public var exceptionCode: UInt8

    public init(kind: RegisterKind, registers: Range<Int>, exceptionCode: UInt8) {
        self.kind = kind
        self.registers = registers
        self.exceptionCode = exceptionCode
    }

    /// True when the range is a boundary between two readable neighbours, not registers.
    public var isBoundary: Bool { registers.isEmpty }

    /// True when a request over `span` may not be sent because of this range: it covers one
    /// of the refused registers, or crosses the boundary.
    public func blocks(_ span: Range<Int>) -> Bool {
        span.lowerBound < registers.upperBound && span.upperBound > registers.lowerBound
    }

    /// "holding 100..<102 (exception 2)" or "holding boundary at 150 (exception 3)".
    public var description: String {
        if isBoundary { return "\(kind.rawValue) boundary at \(registers.lowerBound) (exception \(exceptionCode))" }
        return "\(kind.rawValue) \(registers.lowerBound)..<\(registers.upperBound) (exception \(exceptionCode))"
    }
}

/// The refused ranges learnt for one device, each with the time it is next re-probed.
///
/// Owns learning, forgetting and re-probing; knows nothing of I/O. A range is re-probed (left
/// out of one cycle's plan) every `reprobeIntervalMS`; if the device refuses it again it is
/// learnt again with a new probe time, and `firstLearnt` tells whether it is news.
public struct RefusedRangeBook: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var range: RefusedRange
        /// UTC ms at which the range was first learnt (kept across re-probes).
        public var sinceMS: Int64
        public var nextProbeMS: Int64
    }

    public private(set) var entries: [Entry] = []
    public let reprobeIntervalMS: Int64
    /// At most this many ranges are kept per device; beyond it, the oldest are dropped (a device
    /// that refuses everything costs its points, never memory).
    public static let capacity = 512

    public init(reprobeIntervalMS: Int64) {
        precondition(reprobeIntervalMS > 0)
        self.reprobeIntervalMS = reprobeIntervalMS
    }

    /// The ranges in force (every entry, except the ones being re-probed in this cycle).
    public var ranges: [RefusedRange] { entries.map(\.range) }

    /// Number of registers refused (boundaries count 0).
    public var refusedRegisterCount: Int { entries.reduce(0) { $0 + $1.range.registers.count } }

    /// Takes out the ranges due for a re-probe at `nowMS` and returns them with their first-learnt
    /// time: the caller plans without them and gives back (with `learn`) the ones still refused.
    public mutating func takeDueForReprobe(nowMS: Int64) -> [Entry] {
        let due = entries.filter { $0.nextProbeMS <= nowMS }
        if !due.isEmpty { entries.removeAll { $0.nextProbeMS <= nowMS } }
        return due
    }

    /// Records `range` as refused at `nowMS`; returns false when it was already known (or is
    /// being re-probed: pass `reprobed`), true when it is news worth a log line.
    @discardableResult
    public mutating func learn(_ range: RefusedRange, nowMS: Int64, reprobed: [Entry] = []) -> Bool {
        if entries.contains(where: { $0.range == range }) { return false }
        let since = reprobed.first { $0.range == range }?.sinceMS ?? nowMS
        entries.append(Entry(range: range, sinceMS: since, nextProbeMS: nowMS + reprobeIntervalMS))
        if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
        entries.sort { ($0.range.kind.rawValue, $0.range.registers.lowerBound, $0.range.registers.upperBound) < ($1.range.kind.rawValue, $1.range.registers.lowerBound, $1.range.registers.upperBound) }
        return !reprobed.contains { $0.range == range }
    }
}
