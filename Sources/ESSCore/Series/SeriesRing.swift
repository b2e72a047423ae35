import Synchronization

/// One row of a `SeriesRing`: a scan's timestamp with a value and a quality per signal.
public struct SeriesRow: Sendable, Hashable {
    public var timestampMS: Int64
    public var values: [Double]
    public var qualities: [PointQuality]

    public init(timestampMS: Int64, values: [Double], qualities: [PointQuality]) {
        self.timestampMS = timestampMS
        self.values = values
        self.qualities = qualities
    }
}

/// The raw tier of one series group in memory: the newest `capacity` scans at poll
/// resolution, oldest overwritten first.
///
/// Layout is struct-of-arrays: one timestamp column (Int64 ms, non-decreasing) and, per
/// signal, a value column (Double) and a quality column (`PointQuality.code`). The columns
/// are allocated once in `init` and freed in `deinit`; `append` never allocates.
///
/// Concurrency: **one writer, many readers** in the same process. The writer bumps a
/// sequence number to odd before touching a row and to even after it (a seqlock); a reader
/// notes the sequence number, copies, and checks it again. Because rows are only ever
/// overwritten in order, a reader only retries when the writer lapped the oldest row it
/// copied (rarely: only when reading near the oldest end of a full ring while it is written).
/// Two concurrent writers are a programming error and stop the process.
///
/// Owns the raw rows only; consolidation is `SeriesConsolidator`'s, persistence ESSStore's.
public final class SeriesRing: @unchecked Sendable {
    /// Number of rows kept (a power of two).
    public let capacity: Int
    /// Number of signals per row.
    public let signalCount: Int

    private let mask: Int
    private let timestamps: UnsafeMutableBufferPointer<Int64>
    /// `values[signal * capacity + slot]`: one column per signal.
    private let values: UnsafeMutableBufferPointer<Double>
    /// `qualityCodes[signal * capacity + slot]`.
    private let qualityCodes: UnsafeMutableBufferPointer<UInt8>
    /// 2 × rows appended so far, +1 while a row is being written.
    private let sequence = Atomic<UInt64>(0)

    /// A ring of `capacity` rows (a power of two, at least 1) of `signalCount` signals.
    public init(capacity: Int, signalCount: Int) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "SeriesRing capacity \(capacity) is not a power of two")
        precondition(signalCount >= 0, "SeriesRing signal count \(signalCount) is negative")
        self.capacity = capacity
        self.signalCount = signalCount
        mask = capacity - 1
        timestamps = .allocate(capacity: capacity)
        timestamps.initialize(repeating: 0)
        values = .allocate(capacity: capacity * signalCount)
        values.initialize(repeating: .nan)
        qualityCodes = .allocate(capacity: capacity * signalCount)
        qualityCodes.initialize(repeating: PointQuality.communicationFailure.code)
    }

    /// A ring for `schema`'s signals.
    public convenience init(schema: SeriesSchema, capacity: Int) {
        self.init(capacity: capacity, signalCount: schema.signals.count)
    }

    deinit {
        timestamps.deallocate()
        values.deallocate()
        qualityCodes.deallocate()
    }

    /// The smallest power of two that holds `retentionMS` of rows written every `intervalMS`.
    public static func capacity(retentionMS: Int64, intervalMS: Int64) -> Int {
        precondition(retentionMS > 0 && intervalMS > 0, "retention and interval must be positive")
        let rows = (retentionMS + intervalMS - 1) / intervalMS
        var capacity = 1
        while Int64(capacity) < rows { capacity <<= 1 }
        return capacity
    }

    // MARK: Writing (one thread at a time)

    /// Appends one row from raw buffers (`qualityCodes` are `PointQuality.code`s). Returns
    /// false and stores nothing when `timestampMS` is older than the newest row (a clock step
    /// backwards: timestamps stay non-decreasing so readers can binary-search them).
    @discardableResult
    public func append(
        timestampMS: Int64, values rowValues: UnsafeBufferPointer<Double>, qualityCodes rowCodes: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        precondition(rowValues.count == signalCount && rowCodes.count == signalCount, "SeriesRing row has the wrong width")
        return write(timestampMS: timestampMS) { column, slot in
            values[column &* capacity &+ slot] = rowValues[column]
            qualityCodes[column &* capacity &+ slot] = rowCodes[column]
        }
    }

    /// Appends one row. Same contract as the buffer variant; does not allocate.
    @discardableResult
    public func append(timestampMS: Int64, values rowValues: [Double], qualities: [PointQuality]) -> Bool {
        precondition(rowValues.count == signalCount && qualities.count == signalCount, "SeriesRing row has the wrong width")
        return write(timestampMS: timestampMS) { column, slot in
            values[column &* capacity &+ slot] = rowValues[column]
            qualityCodes[column &* capacity &+ slot] = qualities[column].code
        }
    }

    /// Appends a scan's timestamp, values and qualities.
    @discardableResult
    public func append(_ scan: Scan) -> Bool {
        append(timestampMS: scan.timestampMS, values: scan.values, qualities: scan.qualities)
    }

    @inline(__always)
    private func write(timestampMS: Int64, _ store: (_ column: Int, _ slot: Int) -> Void) -> Bool {
        let s = sequence.load(ordering: .relaxed)
        let n = Int(truncatingIfNeeded: s >> 1)
        if n > 0, timestampMS < timestamps[(n &- 1) & mask] { return false }
        let (exchanged, _) = sequence.compareExchange(expected: s, desired: s | 1, ordering: .relaxed)
        precondition(exchanged && s & 1 == 0, "SeriesRing.append called from two threads at once: a ring has one writer")
        atomicMemoryFence(ordering: .releasing)
        let slot = n & mask
        timestamps[slot] = timestampMS
        for column in 0..<signalCount { store(column, slot) }
        sequence.store(s &+ 2, ordering: .releasing)
        return true
    }

    // MARK: Reading (any thread)

    /// Rows currently held (at most `capacity`).
    public var count: Int {
        Int(min(sequence.load(ordering: .acquiring) >> 1, UInt64(capacity)))
    }

    /// Rows appended since the ring was created (including overwritten ones).
    public var appendedCount: UInt64 { sequence.load(ordering: .acquiring) >> 1 }

    /// The newest row, or nil when the ring is empty.
    public func latest() -> SeriesRow? {
        var rowValues = [Double](repeating: .nan, count: signalCount)
        var codes = [UInt8](repeating: 0, count: signalCount)
        while true {
            let s1 = sequence.load(ordering: .acquiring)
            let n = s1 >> 1
            if n == 0 { return nil }
            let k = n - 1
            let slot = Int(truncatingIfNeeded: k) & mask
            let timestampMS = timestamps[slot]
            copyRow(slot: slot, into: &rowValues, &codes, at: 0)
            if intact(from: k) {
                return SeriesRow(timestampMS: timestampMS, values: rowValues, qualities: codes.map(Self.quality))
            }
        }
    }

    /// Rows with `fromMS <= timestampMS < toMS`, oldest first: a consistent snapshot (every
    /// row complete, none torn). Binary search on the timestamp column.
    public func read(fromMS: Int64, toMS: Int64) -> [SeriesRow] {
        guard fromMS < toMS else { return [] }
        var stamps: [Int64] = []
        var flatValues: [Double] = []
        var flatCodes: [UInt8] = []
        while true {
            let s1 = sequence.load(ordering: .acquiring)
            let n = s1 >> 1
            let cap = UInt64(capacity)
            // The row being written (odd sequence) replaces the oldest one: skip it.
            var lo: UInt64 = n > cap ? n - cap : 0
            if s1 & 1 == 1, n >= cap { lo = n - cap + 1 }
            let a = partition(lo, n) { self.timestamps[Int(truncatingIfNeeded: $0) & self.mask] >= fromMS }
            let b = partition(a, n) { self.timestamps[Int(truncatingIfNeeded: $0) & self.mask] >= toMS }
            let rows = Int(b - a)
            stamps.removeAll(keepingCapacity: true)
            flatValues = [Double](repeating: .nan, count: rows * signalCount)
            flatCodes = [UInt8](repeating: 0, count: rows * signalCount)
            var k = a
            var row = 0
            while k < b {
                let slot = Int(truncatingIfNeeded: k) & mask
                stamps.append(timestamps[slot])
                copyRow(slot: slot, into: &flatValues, &flatCodes, at: row * signalCount)
                k += 1
                row += 1
            }
            // Rows are overwritten oldest first, so if the first row we relied on (a) is intact
            // every later one is too; a probe of the search that read a lapped row would have
            // seen a newer (larger) timestamp and so put `a` at or before it.
            if intact(from: a) { break }
        }
        var result: [SeriesRow] = []
        result.reserveCapacity(stamps.count)
        for (row, timestampMS) in stamps.enumerated() {
            let range = (row * signalCount)..<((row + 1) * signalCount)
            result.append(
                SeriesRow(
                    timestampMS: timestampMS, values: Array(flatValues[range]),
                    qualities: flatCodes[range].map(Self.quality)))
        }
        return result
    }

    /// True when no append that started before now has overwritten the row with absolute
    /// index `k` (call after copying).
    @inline(__always)
    private func intact(from k: UInt64) -> Bool {
        atomicMemoryFence(ordering: .acquiring)
        let s2 = sequence.load(ordering: .relaxed)
        let started = (s2 + 1) >> 1
        return started <= UInt64(capacity) || k >= started - UInt64(capacity)
    }

    @inline(__always)
    private func copyRow(slot: Int, into rowValues: inout [Double], _ codes: inout [UInt8], at offset: Int) {
        for column in 0..<signalCount {
            rowValues[offset + column] = values[column &* capacity &+ slot]
            codes[offset + column] = qualityCodes[column &* capacity &+ slot]
        }
    }

    /// First absolute index in `lo..<hi` for which `isAtOrPast` holds (it is monotone).
    @inline(__always)
    private func partition(_ lo: UInt64, _ hi: UInt64, _ isAtOrPast: (UInt64) -> Bool) -> UInt64 {
        var lo = lo
        var hi = hi
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if isAtOrPast(mid) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    private static func quality(_ code: UInt8) -> PointQuality {
        PointQuality(code: code) ?? .communicationFailure
    }
}
