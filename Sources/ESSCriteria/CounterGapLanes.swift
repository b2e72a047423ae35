import ESSCore

/// A counter gap in progress for peak shifting: the steps since the counter's last reading
/// that had none, summed per tariff-period lane (`PeakShiftingIndicators.Tally` lanes; lane 7:
/// no period), with the energy integrated from power in them. When the counter reads again, the
/// step across the gap (which the store keeps whole in the slot of that reading) is spread back
/// over these lanes by `CounterGapApportion` instead of landing in the period after the gap
/// (issue 12, finding 3). Plain values: one per energy source and counter.
struct CounterGapLanes {
    var lengthMS = SIMD8<Double>()
    var integratedKWh = SIMD8<Double>()
    var integratedMS = SIMD8<Double>()

    /// Whether the gap spans more than one tariff period (so where its energy fell is estimated).
    var spansPeriods: Bool { (0..<8).filter { lengthMS[$0] > 0 }.count > 1 }

    /// A step of `ms` in `lane` without a reading; `integrated` its energy from power (NaN: unknown).
    @inline(__always)
    mutating func add(lane: Int, ms: Int64, integrated: Double, integratedMS power: Int64) {
        lengthMS[lane] += Double(ms)
        if integrated.isFinite, power > 0 {
            integratedKWh[lane] += integrated
            integratedMS[lane] += Double(power)
        }
    }

    /// `deltaKWh` spread over the lanes.
    func spread(_ deltaKWh: Double) -> SIMD8<Double> {
        let parts = (0..<8).map { i in
            CounterGapApportion.Part(
                lengthMS: Int64(lengthMS[i]), integratedKWh: integratedKWh[i], integratedMS: Int64(integratedMS[i]))
        }
        let shares = CounterGapApportion.shares(deltaKWh: deltaKWh, parts: parts).shares
        var out = SIMD8<Double>()
        for i in 0..<8 { out[i] = shares[i] }
        return out
    }
}

/// One counter of one energy source, step by step: whether a gap is open (steps without a
/// reading since the last one), this step's reading and the step it made across the gap.
struct CounterGapState {
    var lanes = CounterGapLanes()
    var open = false
    var readThisStep = false
    var acrossKWh = 0.0
    /// kWh of steps across gaps spanning several periods, spread over them (`spread`).
    var spreadAcrossPeriodsKWh = 0.0

    /// This step's reading `s`, and the counter's last reading before it (`last`).
    @inline(__always)
    mutating func note(_ s: SlotSummary?, last: SlotSummary?) {
        guard let s, s.first.isFinite, s.last.isFinite else { return }
        readThisStep = true
        if open, let p = last {
            let step = s.first - p.last
            acrossKWh = step > p.storedReadingTolerance + s.storedReadingTolerance ? step : 0
        }
    }

    /// The counter read again in this step: the gap closes and its step is spread (added to
    /// `spread` per lane and taken out of the step's own counter energy `own`).
    @inline(__always)
    mutating func close(own: inout Double, spread: inout SIMD8<Double>) {
        readThisStep = false
        guard open else { return }
        // Spread only a step the store put in this slot (not one it never counted).
        if acrossKWh > 0, own.isFinite, own >= acrossKWh * (1 - 1e-6) {
            spread += lanes.spread(acrossKWh)
            own = max(0, own - acrossKWh)
            if lanes.spansPeriods { spreadAcrossPeriodsKWh += acrossKWh }
        }
        lanes = CounterGapLanes()
        open = false
        acrossKWh = 0
    }

    /// A step in `lane` without a reading (after the counter has read before): the gap grows.
    @inline(__always)
    mutating func extend(lane: Int, lengthMS: Int64, integrated: Double, integratedMS: Int64) {
        open = true
        lanes.add(lane: lane, ms: lengthMS, integrated: integrated, integratedMS: integratedMS)
    }
}
