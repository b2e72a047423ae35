import ESSCore

/// Electrical and thermal curves of an LFP battery, as pure functions.
public enum BatteryCurves {
    /// LFP cell open-circuit voltage (V) at SoC (%): flat around 3.3 V, steep at both ends.
    static let lfpOCV: [(soc: Double, volts: Double)] = [
        (0, 3.000), (5, 3.120), (10, 3.200), (20, 3.250), (30, 3.270), (40, 3.285),
        (50, 3.292), (60, 3.300), (70, 3.315), (80, 3.330), (90, 3.345), (95, 3.370), (100, 3.450),
    ]

    /// Nominal cell voltage of LFP, used to scale the pack voltage.
    public static let lfpNominalCellVolts = 3.2

    /// Open-circuit voltage of one LFP cell at `socPercent` (clamped to 0...100), linearly interpolated.
    public static func cellOpenCircuitVolts(socPercent: Double) -> Double {
        let soc = min(max(socPercent, 0), 100)
        var lower = lfpOCV[0]
        for point in lfpOCV {
            if point.soc >= soc {
                if point.soc == lower.soc { return point.volts }
                let t = (soc - lower.soc) / (point.soc - lower.soc)
                return lower.volts + t * (point.volts - lower.volts)
            }
            lower = point
        }
        return lfpOCV[lfpOCV.count - 1].volts
    }

    /// Spread between the highest and lowest cell voltage (V): 10 mV in the flat middle,
    /// widening to 40 mV near empty and full where the curve is steep.
    public static func cellVoltageSpreadVolts(socPercent: Double) -> Double {
        if socPercent < 15 { return 0.010 + 0.030 * (15 - max(socPercent, 0)) / 15 }
        if socPercent > 85 { return 0.010 + 0.030 * (min(socPercent, 100) - 85) / 15 }
        return 0.010
    }
}
