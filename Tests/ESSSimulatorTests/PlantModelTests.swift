import ESSCore
import ESSTestSupport
import Testing

@testable import ESSSimulator

@Suite("PlantModel")
struct PlantModelTests {
    static let parameters = PlantParameters(ratedPowerKW: 100, ratedEnergyKWh: 5)

    /// A day of 2400 s: 100 real seconds per simulated hour.
    static func model(startHour: Double = 0, soc: Double = 50, efficiency: Double = 0.90) -> PlantModel {
        var p = parameters
        p.roundTripEfficiency = efficiency
        return PlantModel(parameters: p, schedule: .guangdong, daySeconds: 2400, startHour: startHour, startSoCPercent: soc)
    }

    @Test("counters equal the integrated power, and SoC follows them through √η")
    func energyConservation() {
        var plant = Self.model()
        let sqrtEta = 0.9.squareRoot()
        var charged = 0.0
        var discharged = 0.0
        var t: Int64 = 0
        // One substep (100 ms) at a time: the reported power is the power of that substep.
        while t < 2_400_000 {
            t += 100
            plant.step(toMS: t)
            let p = plant.state.activePowerKW
            if p < 0 { charged += -p * 0.1 / 3600 } else { discharged += p * 0.1 / 3600 }
        }
        #expect(abs(plant.state.chargeEnergyKWh - charged) < 1e-9)
        #expect(abs(plant.state.dischargeEnergyKWh - discharged) < 1e-9)
        #expect(charged > 1 && discharged > 1, "a whole day charges and discharges")
        let expectedSoC = 50 + (charged * sqrtEta - discharged / sqrtEta) / 5 * 100
        #expect(abs(plant.state.socPercent - expectedSoC) < 1e-9)
    }

    @Test("SoC accounting holds for uneven steps", arguments: [Int64(7), 37, 100, 250, 1000, 60_000])
    func unevenSteps(step: Int64) {
        var plant = Self.model(startHour: 7.5, soc: 80)
        let sqrtEta = 0.9.squareRoot()
        var t: Int64 = 0
        while t < 1_200_000 {
            t += step
            plant.step(toMS: t)
        }
        let s = plant.state
        let expectedSoC = 80 + (s.chargeEnergyKWh * sqrtEta - s.dischargeEnergyKWh / sqrtEta) / 5 * 100
        #expect(abs(s.socPercent - expectedSoC) < 1e-9)
        #expect(abs(s.meterExportEnergyKWh - s.dischargeEnergyKWh * 0.98) < 1e-9)
        let aux = Self.parameters.auxiliaryPowerKW * Double(t) / 3_600_000
        #expect(abs(s.meterImportEnergyKWh - s.chargeEnergyKWh / 0.96 - aux) < 1e-9)
        #expect(abs(s.cycleCount - s.dischargeEnergyKWh / 5) < 1e-12)
    }

    @Test("counters never decrease and SoC stays within 5…95 % over three days")
    func monotonicAndBounded() {
        var plant = Self.model(soc: 6)
        var last = plant.state
        var t: Int64 = 0
        var generator = SplitMix64(seed: 42)
        while t < 3 * 2_400_000 {
            t += Int64(generator.next() % 900) + 1
            plant.step(toMS: t)
            let s = plant.state
            #expect(s.chargeEnergyKWh >= last.chargeEnergyKWh)
            #expect(s.dischargeEnergyKWh >= last.dischargeEnergyKWh)
            #expect(s.meterImportEnergyKWh >= last.meterImportEnergyKWh)
            #expect(s.meterExportEnergyKWh >= last.meterExportEnergyKWh)
            #expect(s.socPercent >= 5 && s.socPercent <= 95)
            #expect(abs(s.activePowerKW) <= 100 + 1e-9)
            last = s
        }
        #expect(last.cycleCount > 1, "a full cycle per simulated day")
    }

    @Test("reaches both SoC limits, with power cut to 0 there and the alarm bits set")
    func limits() {
        var plant = Self.model(soc: 50)
        plant.step(toMS: 799_000)  // end of the valley (hour 7.99)
        #expect(plant.state.socPercent == 95)
        #expect(plant.state.activePowerKW == 0)
        #expect(plant.state.alarmWord & 2 == 2)
        plant.step(toMS: 1_899_000)  // end of the second peak (hour 18.99)
        #expect(plant.state.socPercent == 5)
        #expect(plant.state.activePowerKW == 0)
        #expect(plant.state.alarmWord & 1 == 1)
    }

    @Test(
        "schedule phases at given hours",
        arguments: [
            (0.5, TariffPeriodKind.valley, -1.0), (7.9, .valley, -1), (9, .flat, 0), (11, .peak, 1), (13, .flat, 0),
            (15, .peak, 1), (18.9, .peak, 1), (20, .flat, 0), (23.9, .flat, 0),
        ])
    func phases(hour: Double, kind: TariffPeriodKind, direction: Double) {
        let plant = Self.model(soc: 50)
        let ms = Int64((hour * 100_000).rounded())
        #expect(abs(plant.hourOfDay(atMS: ms) - hour) < 1e-9)
        #expect(plant.schedule.kind(atHour: hour) == kind)
        let target = plant.targetPowerKW(atMS: ms, socPercent: 50)
        #expect(target == direction * 100)
    }

    @Test("the power follows the schedule after its ramp")
    func followsSchedule() {
        var plant = Self.model(startHour: 10, soc: 60)  // peak
        plant.step(toMS: 5_000)
        #expect(plant.state.activePowerKW == 100)
        #expect(plant.state.dcCurrentA > 0)
        #expect(plant.state.period == .peak)
        plant.step(toMS: 250_000)  // hour 12.5: flat
        #expect(plant.state.activePowerKW == 0)
        #expect(plant.state.period == .flat)
    }

    @Test("cell temperatures rise with current and relax toward ambient")
    func temperatures() {
        var idle = Self.model(startHour: 20, soc: 50)  // flat: idle
        var busy = Self.model(startHour: 0, soc: 20)  // valley: charging at rated power
        idle.step(toMS: 60_000)
        busy.step(toMS: 60_000)
        #expect(abs(idle.state.cellTempMaxC - 26.5) < 1e-6, "ambient + 1.5 at rest")
        #expect(busy.state.cellTempMaxC > idle.state.cellTempMaxC + 2)
        #expect(busy.state.cellTempMinC > idle.state.cellTempMinC)
        let hot = busy.state.cellTempMaxC
        var resting = PlantModel(
            parameters: Self.parameters, schedule: TimeOfUseSchedule(periods: []), daySeconds: 2400, startSoCPercent: 50)
        resting.step(toMS: 1000)
        #expect(resting.state.cellTempMaxC < hot)
    }

    @Test("cell and pack voltages follow the LFP OCV curve")
    func voltages() {
        for soc in stride(from: 5.0, through: 95, by: 5) {
            let plant = PlantModel(parameters: Self.parameters, startSoCPercent: soc)
            let s = plant.state
            #expect(s.cellVoltageMinV >= 3.0 && s.cellVoltageMaxV <= 3.45)
            #expect(s.cellVoltageMaxV > s.cellVoltageMinV)
            #expect(abs(s.dcVoltageV - 600 * BatteryCurves.cellOpenCircuitVolts(socPercent: soc) / 3.2) < 1e-9)
        }
        #expect(BatteryCurves.cellOpenCircuitVolts(socPercent: 20) < BatteryCurves.cellOpenCircuitVolts(socPercent: 80))
    }

    @Test("round trip: discharged / charged energy over equal SoC swings is the efficiency")
    func roundTrip() {
        let sqrtEta = 0.9.squareRoot()
        // Charging 10 % stores 0.5 kWh: needs 0.5/√η in; giving 0.5 kWh back yields 0.5·√η.
        var plant = Self.model(startHour: 0, soc: 40)
        var t: Int64 = 0
        while plant.state.socPercent < 60 {
            t += 100
            plant.step(toMS: t)
        }
        let charged = plant.state.chargeEnergyKWh
        let swing = (plant.state.socPercent - 40) / 100 * 5
        #expect(abs(charged - swing / sqrtEta) < 1e-9)
    }
}

