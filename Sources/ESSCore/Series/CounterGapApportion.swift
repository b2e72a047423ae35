/// How a cumulative energy counter's step across a communication gap is spread over the gap.
///
/// The store puts the whole step between the last reading before a gap and the first after it
/// into the slot of the later reading (`SeriesConsolidator`): after 6 hours without data, one
/// 15-minute slot of a 1 MW plant held 1,150 kWh. Readers that show energy per interval or per
/// tariff period spread it back over the gap's parts with this rule: by the energy integrated
/// from power in each part when power covers the gap, else pro rata by each part's length.
/// Pure arithmetic; the callers own what a part is (a slot, an interval, a tariff period).
public enum CounterGapApportion {
    /// Power must cover at least this fraction of the gap for its integration to be the weights.
    public static let powerCoverage = 0.99

    /// Which weights `shares` used.
    public enum Basis: String, Sendable, Hashable {
        case integratedPower = "integrated_power"
        case time
    }

    /// One part of a gap: its length, and the energy integrated from power in it (NaN or 0 when
    /// power was unknown there) over `integratedMS` of it.
    public struct Part: Sendable, Hashable {
        public var lengthMS: Int64
        public var integratedKWh: Double
        public var integratedMS: Int64

        public init(lengthMS: Int64, integratedKWh: Double = .nan, integratedMS: Int64 = 0) {
            self.lengthMS = lengthMS
            self.integratedKWh = integratedKWh
            self.integratedMS = integratedMS
        }
    }

    /// The weights of `parts` (non-negative, not all zero unless every part is empty) and their basis.
    public static func weights(_ parts: [Part]) -> (weights: [Double], basis: Basis) {
        let gapMS = parts.reduce(Int64(0)) { $0 + max(0, $1.lengthMS) }
        let powerMS = parts.reduce(Int64(0)) { $0 + max(0, min($1.lengthMS, $1.integratedMS)) }
        let power = parts.map { $0.integratedKWh.isFinite ? max(0, $0.integratedKWh) : 0 }
        let total = power.reduce(0, +)
        if gapMS > 0, Double(powerMS) >= powerCoverage * Double(gapMS), total > 0 {
            return (power, .integratedPower)
        }
        return (parts.map { Double(max(0, $0.lengthMS)) }, .time)
    }

    /// `deltaKWh` split over `parts` (same order); the shares add up to `deltaKWh` (the last
    /// share takes the rounding). All zero when the delta is not positive or the gap is empty.
    public static func shares(deltaKWh: Double, parts: [Part]) -> (shares: [Double], basis: Basis) {
        let (w, basis) = weights(parts)
        let total = w.reduce(0, +)
        guard deltaKWh.isFinite, deltaKWh > 0, total > 0 else { return ([Double](repeating: 0, count: parts.count), basis) }
        var out = w.map { deltaKWh * $0 / total }
        if let last = out.indices.last(where: { w[$0] > 0 }) {
            out[last] = max(0, deltaKWh - out.indices.filter { $0 != last }.reduce(0) { $0 + out[$1] })
        }
        return (out, basis)
    }
}
