import ESSCore

/// What the indicator families share once every slot has been fed: the input's shape (its
/// groups without slots), the settings, and each group's covered time per signal. Owns no
/// slots: the families keep running sums while `IndicatorAccumulator` feeds them.
struct IndicatorContext {
    let input: IndicatorInput
    let settings: IndicatorSettings
    let windowMS: Int64
    /// Σ coveredMS of each group's signals over the window: `covered[g][s]`, groups in
    /// `IndicatorLayout` order (site, devices, meter).
    let covered: [[Int64]]

    var minimum: Double { settings.minimumCoverage }

    /// Fraction of the window in which signal `index` of group `g` had valid data.
    func coverage(_ g: Int, _ index: Int) -> Double {
        guard windowMS > 0 else { return 0 }
        let sums = covered[g]
        return Double(index < sums.count ? sums[index] : 0) / Double(windowMS)
    }

    /// The summary of signal `index` in a slot, nil when unknown or not carried. Coverage, not
    /// the sample count, decides: a slot with no sample of its own that the previous sample
    /// covers within its heartbeat (one missing row) holds that value (issue 12, finding 1).
    @inline(__always)
    static func summary(_ slot: UnsafePointer<ConsolidatedSlot>, _ index: Int?) -> SlotSummary? {
        guard let index, index < slot.pointee.signals.count else { return nil }
        let s = slot.pointee.signals[index]
        return s.isUnknown ? nil : s
    }
}

/// A drop of a cumulative energy counter (a reset or a replaced controller), found between
/// two consecutive readings: never counted as energy, listed with where it happened.
public struct CounterReset: Sendable, Hashable {
    /// The group ("site", a device id, the meter's id).
    public var groupID: String
    /// "charge", "discharge", "meter import" or "meter export".
    public var counter: String
    /// Start of the slot in which the lower reading was seen (UTC ms).
    public var atMS: Int64
    /// The reading before the drop and the one after it (kWh).
    public var fromKWh: Double
    public var toKWh: Double

    public init(groupID: String, counter: String, atMS: Int64, fromKWh: Double, toKWh: Double) {
        self.groupID = groupID
        self.counter = counter
        self.atMS = atMS
        self.fromKWh = fromKWh
        self.toKWh = toKWh
    }

    /// "2025-03-04T10:15Z" (UTC, to the minute).
    public var timeText: String {
        let t = LocalTime(utcMS: atMS, offsetSeconds: 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(t.date)T\(two(t.minuteOfDay / 60)):\(two(t.minuteOfDay % 60))Z"
    }
}

/// Energy from a cumulative counter signal's slot summaries, fed in time order: the sum of
/// non-negative steps between consecutive valid readings (within a slot last − first, between
/// slots the next slot's first − the previous known slot's last), from the first to the last
/// valid reading inside the window. A drop is a reset: kept with its slot, never energy; a
/// drop within the store's rounding of the two readings (`SlotSummary.storedReadingTolerance`)
/// is rounding, not a reset. (A reset inside a slot whose last reading is again above its first
/// is not visible here; the consolidator counts those in `EnergySummary.counterResets`.) Plain
/// values only: it is fed once per step and group.
struct CounterDelta {
    var kWh: Double = 0
    var readings = false
    /// Every drop seen, in time order: slot start, reading before, reading after.
    var drops: [(atMS: Int64, fromKWh: Double, toKWh: Double)] = []
    private var previous: SlotSummary?
    /// The last valid reading's slot (nil before the first).
    var lastReading: SlotSummary? { previous }

    @inline(__always)
    mutating func add(_ s: SlotSummary?, atMS: Int64 = 0) {
        guard let s, s.first.isFinite, s.last.isFinite else { return }
        readings = true
        if let p = previous {
            let d = s.first - p.last
            if d >= 0 {
                kWh += d
            } else if -d > p.storedReadingTolerance + s.storedReadingTolerance {
                drops.append((atMS, p.last, s.first))
            }
        }
        let inside = s.last - s.first
        if inside >= 0 {
            kWh += inside
        } else if -inside > 2 * s.storedReadingTolerance {
            drops.append((atMS, s.first, s.last))
        }
        previous = s
    }

    /// The drops as resets of `counter` in group `groupID`.
    func resets(groupID: String, counter: String) -> [CounterReset] {
        drops.map { CounterReset(groupID: groupID, counter: counter, atMS: $0.atMS, fromKWh: $0.fromKWh, toKWh: $0.toKWh) }
    }
}
