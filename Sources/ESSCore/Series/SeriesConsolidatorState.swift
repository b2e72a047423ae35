/// The private state of `SeriesConsolidator`: holds, open slot accumulators, power integration.
extension SeriesConsolidator {
    enum SampleClass {
        case valid(Double)
        case invalid
        case stale
    }

    /// The active-power integration state.
    enum PowerState: Sendable {
        /// No valid power sample yet (or none since the last gap began): nothing to account.
        case idle
        /// The last valid power sample; the interval after it is not decided yet.
        case pending(sinceMS: Int64, powerKW: Double)
        /// Inside a gap; its time before `sinceMS` is already counted as unaccounted.
        case gap(sinceMS: Int64)
    }

    /// One signal's current sample-and-hold.
    struct Hold: Sendable {
        var heartbeatMS: Int64
        var isActive = false
        var value = Double.nan
        var endMS: Int64 = 0
        var distributedUntilMS: Int64 = 0

        init(heartbeatMS: Int64) { self.heartbeatMS = heartbeatMS }

        mutating func start(value: Double, at t: Int64) {
            isActive = true
            self.value = value
            endMS = t + heartbeatMS
            distributedUntilMS = t
        }
    }

    /// The open slots of one tier, flat: slot `k` (starting at `firstStartMS + k * slotMS`) has
    /// its signals at `signals[k * signalCount ..< (k + 1) * signalCount]` and its energy at
    /// `energy[k]`; `firstStartMS` is the oldest slot not yet emitted (its accumulators may not
    /// exist yet: `openCount` says how many do). The arrays keep their elements past `openCount`
    /// (stale, reset when a slot opens there): closing and opening a slot allocate nothing.
    struct TierState: Sendable {
        var name: String
        var slotMS: Int64
        var kept: [Bool]
        var signalCount: Int
        var firstStartMS: Int64 = 0
        var openCount = 0
        var signals: [SignalAccumulator] = []
        var energy: [EnergyAccumulator] = []

        init(name: String, slotMS: Int64, kept: [Bool], signalCount: Int) {
            self.name = name
            self.slotMS = slotMS
            self.kept = kept
            self.signalCount = signalCount
        }

        /// `k` of the slot containing `t` (no division in the usual case: the first or second open slot).
        @inline(__always)
        func slotIndex(of t: Int64) -> Int {
            let d = t &- firstStartMS
            if d >= 0 {
                if d < slotMS { return 0 }
                if d < slotMS &* 2 { return 1 }
            }
            let k = Int((SeriesConsolidator.floorSlot(t, slotMS) - firstStartMS) / slotMS)
            precondition(k >= 0, "slot at \(t) of tier \(name) is already closed")
            return k
        }

        /// The end of slot `k`.
        @inline(__always)
        func slotEnd(_ k: Int) -> Int64 { firstStartMS + Int64(k + 1) * slotMS }

        /// Makes the accumulators of slots up to `k` exist (empty).
        @inline(__always)
        mutating func ensureOpen(_ k: Int) {
            while openCount <= k {
                if energy.count > openCount {
                    let start = openCount * signalCount
                    signals.withUnsafeMutableBufferPointer { all in
                        for i in start..<(start + signalCount) { all[i] = SignalAccumulator() }
                    }
                    energy[openCount] = EnergyAccumulator()
                } else {
                    signals.append(contentsOf: repeatElement(SignalAccumulator(), count: signalCount))
                    energy.append(EnergyAccumulator())
                }
                openCount += 1
            }
        }

        /// Index in `signals` of signal `s` of slot `k` (which must exist).
        @inline(__always)
        func signalIndex(slot k: Int, signal s: Int) -> Int { k * signalCount + s }

        /// Drops the first open slot (emitted) and moves on to the next.
        mutating func dropFirst() {
            if openCount > 1 {
                // Later open slots move down one place (rare: only while a slot waits).
                let moved = (openCount - 1) * signalCount
                let width = signalCount
                signals.withUnsafeMutableBufferPointer { all in
                    for i in 0..<moved { all[i] = all[i + width] }
                }
                energy.withUnsafeMutableBufferPointer { all in
                    for k in 0..<(openCount - 1) { all[k] = all[k + 1] }
                }
            }
            if openCount > 0 { openCount -= 1 }
            firstStartMS += slotMS
        }
    }

    struct SignalAccumulator: Sendable {
        var count = 0
        var coveredMS: Int64 = 0
        var integral = 0.0
        var min = Double.nan
        var max = Double.nan
        var first = Double.nan
        var last = Double.nan
        var heldValue = Double.nan

        @inline(__always)
        mutating func sample(_ v: Double) {
            if count == 0 {
                min = v
                max = v
                first = v
            } else {
                min = Swift.min(min, v)
                max = Swift.max(max, v)
            }
            last = v
            count += 1
        }

        @inline(__always)
        mutating func covered(_ ms: Int64, value: Double) {
            coveredMS += ms
            integral += value * Double(ms)
            heldValue = value
        }

        /// Adds a run of samples and hold pieces (`SeriesConsolidator.signalRun`): the same as the
        /// run's `covered` and `sample` calls one by one. `integral` is this accumulator's integral
        /// continued through the run's pieces. Min and max merge exactly: `min` keeps the earliest
        /// of equal minima and `max` the latest of equal maxima, one by one or run by run.
        @inline(__always)
        mutating func merge(_ run: SeriesConsolidator.SignalRun, integral: Double) {
            coveredMS += run.coveredMS
            self.integral = integral
            if run.coveredMS > 0 { heldValue = run.heldValue }
            guard run.count > 0 else { return }
            if count == 0 {
                min = run.min
                max = run.max
                first = run.first
            } else {
                min = Swift.min(min, run.min)
                max = Swift.max(max, run.max)
            }
            last = run.last
            count += run.count
        }

        var summary: SlotSummary {
            if count == 0 {
                guard coveredMS > 0 else { return .unknown }
                let v = heldValue
                return SlotSummary(count: 0, coveredMS: coveredMS, min: v, max: v, mean: v, first: v, last: v)
            }
            let mean = coveredMS > 0 ? integral / Double(coveredMS) : .nan
            return SlotSummary(
                count: count, coveredMS: coveredMS, min: min, max: max, mean: mean, first: first, last: last)
        }
    }

    struct EnergyAccumulator: Sendable {
        var counterChargeKWh = 0.0
        var counterDischargeKWh = 0.0
        var hasChargeDelta = false
        var hasDischargeDelta = false
        var counterResets = 0
        var integratedChargeKWh = 0.0
        var integratedDischargeKWh = 0.0
        var integratedMS: Int64 = 0
        var unaccountedMS: Int64 = 0

        mutating func addCounter(_ delta: Double, charge: Bool, reset: Bool) {
            if reset { counterResets += 1 }
            if charge {
                counterChargeKWh += delta
                hasChargeDelta = true
            } else {
                counterDischargeKWh += delta
                hasDischargeDelta = true
            }
        }

        mutating func integrate(dischargeKWh: Double, chargeKWh: Double, ms: Int64) {
            integratedDischargeKWh += dischargeKWh
            integratedChargeKWh += chargeKWh
            integratedMS += ms
        }
    }

    /// The start of the slot of length `slotMS` containing `t` (floor, also for negative `t`).
    @inline(__always)
    static func floorSlot(_ t: Int64, _ slotMS: Int64) -> Int64 {
        let r = t % slotMS
        return r < 0 ? t - r - slotMS : t - r
    }
}
