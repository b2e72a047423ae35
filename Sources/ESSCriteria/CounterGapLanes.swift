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

    var isEmpty: Bool { lengthMS.sum() == 0 }

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

extension EnergyAccounting {
    /// Group `g`'s counter readings of this step, for gaps (before `observeCounters` adds them).
    @inline(__always)
    mutating func noteGapReadings(k: Int, charge: SlotSummary?, discharge: SlotSummary?) {
        if let c = charge, c.first.isFinite, c.last.isFinite {
            chargeRead[k] = true
            if !chargeGaps[k].isEmpty, let p = chargeReadings[k].lastReading {
                let step = c.first - p.last
                chargeAcross[k] = step > p.storedReadingTolerance + c.storedReadingTolerance ? step : 0
            }
        }
        if let d = discharge, d.first.isFinite, d.last.isFinite {
            dischargeRead[k] = true
            if !dischargeGaps[k].isEmpty, let p = dischargeReadings[k].lastReading {
                let step = d.first - p.last
                dischargeAcross[k] = step > p.storedReadingTolerance + d.storedReadingTolerance ? step : 0
            }
        }
    }

    /// One source's counters at the end of a step in `lane`: a gap grows, or closes and its step
    /// is spread (returned per lane, and taken out of the step's own counter energy `own`).
    @inline(__always)
    mutating func closeOrExtendGaps(
        k: Int, lane: Int, lengthMS: Int64, energy e: EnergySummary?, ownCharge: inout Double, ownDischarge: inout Double,
        spreadCharge: inout SIMD8<Double>, spreadDischarge: inout SIMD8<Double>
    ) {
        if chargeRead[k] {
            let across = chargeAcross[k]
            // Spread only a step the store put in this slot (not one it never counted).
            if across > 0, ownCharge.isFinite, ownCharge >= across * (1 - 1e-6) {
                spreadCharge += chargeGaps[k].spread(across)
                ownCharge = max(0, ownCharge - across)
                if chargeGaps[k].spansPeriods { chargeSpreadAcrossPeriodsKWh += across }
            }
            chargeGaps[k] = CounterGapLanes()
        } else if chargeReadings[k].readings {
            chargeGaps[k].add(lane: lane, ms: lengthMS, integrated: e?.integratedChargeKWh ?? .nan, integratedMS: e?.integratedMS ?? 0)
        }
        if dischargeRead[k] {
            let across = dischargeAcross[k]
            if across > 0, ownDischarge.isFinite, ownDischarge >= across * (1 - 1e-6) {
                spreadDischarge += dischargeGaps[k].spread(across)
                ownDischarge = max(0, ownDischarge - across)
                if dischargeGaps[k].spansPeriods { dischargeSpreadAcrossPeriodsKWh += across }
            }
            dischargeGaps[k] = CounterGapLanes()
        } else if dischargeReadings[k].readings {
            dischargeGaps[k].add(
                lane: lane, ms: lengthMS, integrated: e?.integratedDischargeKWh ?? .nan, integratedMS: e?.integratedMS ?? 0)
        }
        chargeRead[k] = false
        dischargeRead[k] = false
        chargeAcross[k] = 0
        dischargeAcross[k] = 0
    }
}
