public import ESSCore

/// One export interval's values, read from the store's consolidated slots. Unknown is NaN
/// (never 0): an interval with no stored slot has every value NaN and coverage 0.
public struct IntervalSummary: Sendable, Hashable {
    public var startMS: Int64
    public var endMS: Int64
    /// The site group's energy summed over the interval's slots (NaN fields when none had it).
    public var energy: EnergySummary
    /// Storage meter counter deltas; NaN without a meter or without readings.
    public var meterImportKWh: Double
    public var meterExportKWh: Double
    public var socStartPercent: Double
    public var socEndPercent: Double
    public var socMinPercent: Double
    public var socMaxPercent: Double
    public var powerMeanKW: Double
    public var powerMaxKW: Double
    /// Highest `cell_temp_max_c` of any device.
    public var cellTempMaxC: Double
    /// Time-weighted mean of the site's `available` signal, 0…1.
    public var availabilityMean: Double
    /// Fraction of the interval covered by valid data of the coverage signal (see `IntervalQuality`).
    public var coverage: Double
    /// Tariff period kinds in force during the interval, in order ("valley", "flat+peak"); "" without a tariff.
    public var tariffPeriod: String
    /// Counter energy here includes a share of a step across a communication gap, spread over
    /// the gap (`CounterGapApportion`), or the slot that closed such a gap gave it back.
    public var apportioned = false
    /// An energy exceeds the rated power × the interval's length, plus the stated tolerance.
    public var implausible = false

    /// The flags column: "apportioned", "implausible", both joined by "+", or "".
    public var flags: String {
        [apportioned ? "apportioned" : nil, implausible ? "implausible" : nil].compactMap { $0 }.joined(separator: "+")
    }

    public var durationMS: Int64 { endMS - startMS }
    public var quality: IntervalQuality { IntervalQuality(coverage: coverage) }
}

/// The quality column: `measured` at ≥ 99.9 % coverage, `partial:<coverage %>` (one decimal,
/// rounded down) below it, `missing` with no valid data at all.
public enum IntervalQuality: Sendable, Hashable, CustomStringConvertible {
    case measured
    case partial(coverage: Double)
    case missing

    /// Coverage at or above this is `measured`.
    public static let measuredThreshold = 0.999

    public init(coverage: Double) {
        if !(coverage > 0) {
            self = .missing
        } else if coverage + 1e-12 >= Self.measuredThreshold {
            self = .measured
        } else {
            self = .partial(coverage: coverage)
        }
    }

    public var description: String {
        switch self {
        case .measured: "measured"
        case .missing: "missing"
        case .partial(let c): "partial:" + FixedDecimal.percentDown(c, decimals: 1)
        }
    }
}

/// Running min, max, first, last and time-weighted mean of one signal over slot summaries.
struct SignalStats {
    var first = Double.nan
    var last = Double.nan
    var min = Double.nan
    var max = Double.nan
    var weighted = 0.0
    var coveredMS: Int64 = 0

    mutating func add(_ s: SlotSummary) {
        guard !s.isUnknown, s.count > 0 || s.coveredMS > 0 else { return }
        if first.isNaN { first = s.first }
        if s.last.isFinite { last = s.last }
        if s.min.isFinite { min = min.isNaN ? s.min : Swift.min(min, s.min) }
        if s.max.isFinite { max = max.isNaN ? s.max : Swift.max(max, s.max) }
        if s.mean.isFinite && s.coveredMS > 0 {
            weighted += s.mean * Double(s.coveredMS)
            coveredMS += s.coveredMS
        }
    }

    var mean: Double { coveredMS > 0 ? weighted / Double(coveredMS) : .nan }
}

/// Energy from a cumulative counter across slots: within a slot last − first, between two
/// *adjacent* slots the next first − the previous last; a drop is a reset (never energy), unless
/// it is within the store's rounding of the readings (`SlotSummary.storedReadingTolerance`); a
/// step across a gap (a slot with no reading) is not counted, because when it happened is unknown.
struct CounterTracker {
    var previous: SlotSummary?
    var previousEndMS: Int64?
    var resets = 0

    /// The energy `s` adds (NaN when it holds no reading).
    mutating func add(_ s: SlotSummary, startMS: Int64, slotMS: Int64) -> Double {
        guard !s.isUnknown, s.first.isFinite, s.last.isFinite else {
            previous = nil
            return .nan
        }
        var kWh = 0.0
        if let p = previous, previousEndMS == startMS {
            let d = s.first - p.last
            if d >= 0 {
                kWh += d
            } else if -d > p.storedReadingTolerance + s.storedReadingTolerance {
                resets += 1
            }
        }
        let inside = s.last - s.first
        if inside >= 0 {
            kWh += inside
        } else if -inside > 2 * s.storedReadingTolerance {
            resets += 1
        }
        previous = s
        previousEndMS = startMS + slotMS
        return kWh
    }
}

/// Adds `value` to `total` when known: NaN + x = x, x + NaN = x, NaN + NaN = NaN.
@inline(__always)
func addKnown(_ total: inout Double, _ value: Double) {
    guard !value.isNaN else { return }
    total = total.isNaN ? value : total + value
}
