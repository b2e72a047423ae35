/// A plant with one fixed daily cycle, sampled once a minute: the synthetic history that the
/// fixture-year test and the evidence benchmark both store (the same numbers everywhere). It
/// charges at 50 kW from minute 120 to 360 of each day and discharges at 45.125 kW from minute
/// 840 to 1080 (days counted from `startMS`), idle otherwise. Its energy counters follow the
/// trapezoid of the power between consecutive minutes (a longer step, an outage, adds nothing);
/// SoC follows the day's AC energy with 95 % each way on 200 kWh from 2.5 %; a cycle is counted
/// for each day with discharge.
public struct DailyCyclePlant: Sendable {
    public var chargeTotalKWh = 10_000.0
    public var dischargeTotalKWh = 9_000.0
    public var cycles = 100.0
    /// Where day 0, minute 0 starts (UTC ms).
    public let startMS: Int64

    private var lastPowerKW = 0.0
    private var lastMS: Int64?
    private var chargedTodayKWh = 0.0
    private var dischargedTodayKWh = 0.0
    private var day: Int64 = -1

    static let minuteMS: Int64 = 60_000
    static let dayMS: Int64 = 86_400_000

    public init(startMS: Int64) { self.startMS = startMS }

    /// The power (kW, + = discharge) at `minute` of a day.
    public static func powerKW(minuteOfDay minute: Int64) -> Double {
        if (120..<360).contains(minute) { return -50 }
        if (840..<1080).contains(minute) { return 45.125 }
        return 0
    }

    /// Advances to `t` (a whole minute after `startMS`, later than the last one).
    public mutating func step(to t: Int64) -> (powerKW: Double, socPercent: Double) {
        let offset = t - startMS
        let day = offset / Self.dayMS
        let p = Self.powerKW(minuteOfDay: (offset % Self.dayMS) / Self.minuteMS)
        if let last = lastMS, t - last == Self.minuteMS {
            let kwh = (lastPowerKW + p) / 2 / 60  // both ends have the same sign or one is zero
            if kwh < 0 {
                chargeTotalKWh -= kwh
                chargedTodayKWh -= kwh
            } else if kwh > 0 {
                dischargeTotalKWh += kwh
                dischargedTodayKWh += kwh
            }
        }
        if day != self.day {
            if dischargedTodayKWh > 0 { cycles += 1 }
            self.day = day
            chargedTodayKWh = 0
            dischargedTodayKWh = 0
        }
        lastMS = t
        lastPowerKW = p
        let storedKWh = chargedTodayKWh * 0.95 - dischargedTodayKWh / 0.95
        return (p, 2.5 + storedKWh / 200 * 100)
    }
}
