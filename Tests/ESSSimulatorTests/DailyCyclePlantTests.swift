import ESSSimulator
import Testing

@Suite struct DailyCyclePlantTests {
    /// One day sampled every minute: 200 kWh charged (4 h at 50 kW, ramps by the trapezoid),
    /// 180.5 kWh discharged, SoC back to its start (190 kWh in at 95 %, 190 out at 95 %), one
    /// cycle counted when the next day begins; a skipped minute (outage) adds no energy.
    @Test func oneDayKnownAnswers() {
        let start: Int64 = 1_735_660_800_000
        var plant = DailyCyclePlant(startMS: start)
        var peakSoC = 0.0
        var last = (powerKW: 0.0, socPercent: 0.0)
        for minute in 0..<1440 {
            last = plant.step(to: start + Int64(minute) * 60_000)
            peakSoC = max(peakSoC, last.socPercent)
        }
        #expect(abs(plant.chargeTotalKWh - 10_200) < 1e-9)
        #expect(abs(plant.dischargeTotalKWh - 9_180.5) < 1e-9)
        #expect(abs(last.socPercent - 2.5) < 1e-9)
        #expect(abs(peakSoC - (2.5 + 190.0 / 200 * 100)) < 1e-9)
        #expect(plant.cycles == 100)
        _ = plant.step(to: start + 1440 * 60_000)
        #expect(plant.cycles == 101)
        // A step over missing minutes (13:58 to 14:01, an outage): nothing added across it.
        var gappy = DailyCyclePlant(startMS: start)
        _ = gappy.step(to: start + 838 * 60_000)
        _ = gappy.step(to: start + 841 * 60_000)
        #expect(gappy.dischargeTotalKWh == 9_000)
        #expect(DailyCyclePlant.powerKW(minuteOfDay: 839) == 0 && DailyCyclePlant.powerKW(minuteOfDay: 840) == 45.125)
    }
}
