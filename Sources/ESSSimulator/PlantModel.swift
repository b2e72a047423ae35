import ESSCore
import Foundation

/// Fixed properties of the simulated battery system.
public struct PlantParameters: Sendable, Hashable {
    public var ratedPowerKW: Double
    public var ratedEnergyKWh: Double
    /// Round-trip efficiency; √η is lost on each of charge and discharge.
    public var roundTripEfficiency: Double
    public var socMinPercent: Double
    public var socMaxPercent: Double
    /// Pack voltage at the cells' nominal 3.2 V.
    public var nominalDCVoltageV: Double
    /// Pack internal resistance (Ω) for the voltage drop under current.
    public var packResistanceOhm: Double
    /// Cell internal resistance (Ω) for the cell voltage polarisation under current.
    public var cellResistanceOhm: Double
    public var ambientTempC: Double
    /// Steady-state cell temperature rise above ambient at rated current.
    public var temperatureRiseAtRatedCurrentC: Double
    /// First-order thermal time constant.
    public var thermalTimeConstantS: Double
    /// Power ramp limit, kW per second.
    public var rampKWPerSecond: Double
    public var sohPercent: Double
    /// Auxiliary load (HVAC, BMS) always drawn from the grid through the meter.
    public var auxiliaryPowerKW: Double
    /// Meter import = charge energy / this (transformer and converter losses).
    public var importEfficiency: Double
    /// Meter export = discharge energy × this.
    public var exportEfficiency: Double
    /// Largest integration substep.
    public var substepMS: Int64

    public init(
        ratedPowerKW: Double, ratedEnergyKWh: Double, roundTripEfficiency: Double = 0.90,
        socMinPercent: Double = 5, socMaxPercent: Double = 95, nominalDCVoltageV: Double = 600,
        packResistanceOhm: Double = 0.05, cellResistanceOhm: Double = 0.00025, ambientTempC: Double = 25,
        temperatureRiseAtRatedCurrentC: Double = 10, thermalTimeConstantS: Double = 300,
        rampKWPerSecond: Double? = nil, sohPercent: Double = 98.5, auxiliaryPowerKW: Double? = nil,
        importEfficiency: Double = 0.96, exportEfficiency: Double = 0.98, substepMS: Int64 = 100
    ) {
        self.ratedPowerKW = ratedPowerKW
        self.ratedEnergyKWh = ratedEnergyKWh
        self.roundTripEfficiency = roundTripEfficiency
        self.socMinPercent = socMinPercent
        self.socMaxPercent = socMaxPercent
        self.nominalDCVoltageV = nominalDCVoltageV
        self.packResistanceOhm = packResistanceOhm
        self.cellResistanceOhm = cellResistanceOhm
        self.ambientTempC = ambientTempC
        self.temperatureRiseAtRatedCurrentC = temperatureRiseAtRatedCurrentC
        self.thermalTimeConstantS = thermalTimeConstantS
        self.rampKWPerSecond = rampKWPerSecond ?? ratedPowerKW / 2
        self.sohPercent = sohPercent
        self.auxiliaryPowerKW = auxiliaryPowerKW ?? ratedPowerKW * 0.005
        self.importEfficiency = importEfficiency
        self.exportEfficiency = exportEfficiency
        self.substepMS = max(1, min(substepMS, 100))
    }

    /// Current (A) at rated power and nominal voltage.
    public var ratedCurrentA: Double { ratedPowerKW * 1000 / nominalDCVoltageV }
}

/// Everything the plant shows at one instant. Counters only grow.
public struct PlantState: Sendable, Hashable, Codable {
    /// Milliseconds since the simulation started.
    public var elapsedMS: Int64
    public var hourOfDay: Double
    public var period: TariffPeriodKind
    public var socPercent: Double
    /// Positive when discharging.
    public var activePowerKW: Double
    public var reactivePowerKVAr: Double
    public var chargeEnergyKWh: Double
    public var dischargeEnergyKWh: Double
    public var meterImportEnergyKWh: Double
    public var meterExportEnergyKWh: Double
    public var dcVoltageV: Double
    /// Positive when discharging.
    public var dcCurrentA: Double
    public var cellTempMaxC: Double
    public var cellTempMinC: Double
    public var cellVoltageMaxV: Double
    public var cellVoltageMinV: Double
    public var sohPercent: Double
    public var cycleCount: Double
    public var available: Bool
    public var fault: Bool
    /// bit 0: SoC at its low limit, bit 1: SoC at its high limit, bit 2: cell temperature above 45 °C.
    public var alarmWord: UInt16
    public var ambientTempC: Double
    public var ratedPowerKW: Double
    public var ratedEnergyKWh: Double
}

/// The battery plant: a pure model advanced by `step(toMS:)`. Owns the SoC, power and
/// counters; knows nothing of registers, sockets or clocks (time is passed in).
public struct PlantModel: Sendable {
    public let parameters: PlantParameters
    public let schedule: TimeOfUseSchedule
    /// Real seconds one simulated day lasts (86400 = real time).
    public let daySeconds: Double
    /// Hour of day at elapsed time 0.
    public let startHour: Double
    public private(set) var state: PlantState
    /// Mean cell temperature, the thermal state.
    private var cellTempC: Double

    public init(
        parameters: PlantParameters, schedule: TimeOfUseSchedule = .guangdong, daySeconds: Double = 86400,
        startHour: Double = 0, startSoCPercent: Double = 50
    ) {
        self.parameters = parameters
        self.schedule = schedule
        self.daySeconds = daySeconds > 0 ? daySeconds : 86400
        self.startHour = startHour
        let soc = min(max(startSoCPercent, parameters.socMinPercent), parameters.socMaxPercent)
        self.cellTempC = parameters.ambientTempC
        self.state = PlantState(
            elapsedMS: 0, hourOfDay: 0, period: .flat, socPercent: soc, activePowerKW: 0, reactivePowerKVAr: 0,
            chargeEnergyKWh: 0, dischargeEnergyKWh: 0, meterImportEnergyKWh: 0, meterExportEnergyKWh: 0,
            dcVoltageV: 0, dcCurrentA: 0, cellTempMaxC: 0, cellTempMinC: 0, cellVoltageMaxV: 0, cellVoltageMinV: 0,
            sohPercent: parameters.sohPercent, cycleCount: 0, available: true, fault: false, alarmWord: 0,
            ambientTempC: parameters.ambientTempC, ratedPowerKW: parameters.ratedPowerKW,
            ratedEnergyKWh: parameters.ratedEnergyKWh)
        updateDerived()
    }

    /// Hour of the simulated day at `elapsedMS`.
    public func hourOfDay(atMS elapsedMS: Int64) -> Double {
        let hours = startHour + Double(elapsedMS) / 1000 / daySeconds * 24
        let h = hours.truncatingRemainder(dividingBy: 24)
        return h < 0 ? h + 24 : h
    }

    /// The power (kW, + = discharge) the dispatcher asks for at `elapsedMS` and `socPercent`,
    /// before ramping: rated power in the operation's direction, tapered over the last 5 %
    /// before a SoC limit (never below 10 % of rated, so the limit is reached).
    public func targetPowerKW(atMS elapsedMS: Int64, socPercent soc: Double) -> Double {
        let p = parameters
        switch schedule.kind(atHour: hourOfDay(atMS: elapsedMS)).operation {
        case .idle:
            return 0
        case .charge:
            if soc >= p.socMaxPercent { return 0 }
            let taper = min(1, max(0.1, (p.socMaxPercent - soc) / 5))
            return -p.ratedPowerKW * taper
        case .discharge:
            if soc <= p.socMinPercent { return 0 }
            let taper = min(1, max(0.1, (soc - p.socMinPercent) / 5))
            return p.ratedPowerKW * taper
        }
    }

    /// Advances the plant to `elapsedMS` in substeps of at most `parameters.substepMS`.
    /// Times at or before the current one change nothing.
    public mutating func step(toMS elapsedMS: Int64) {
        while state.elapsedMS < elapsedMS {
            let dtMS = min(parameters.substepMS, elapsedMS - state.elapsedMS)
            substep(dtMS: dtMS)
        }
        updateDerived()
    }

    /// Sets the SoC (clamped to the limits). Counter resets are not the plant's business:
    /// they belong to one device's image (`DeviceCounterBaseline`).
    public mutating func setSoC(percent: Double) {
        state.socPercent = min(max(percent, parameters.socMinPercent), parameters.socMaxPercent)
        updateDerived()
    }

    private mutating func substep(dtMS: Int64) {
        let p = parameters
        let dtS = Double(dtMS) / 1000
        let dtH = dtS / 3600
        let sqrtEta = p.roundTripEfficiency.squareRoot()
        // Ramp toward the target.
        let target = targetPowerKW(atMS: state.elapsedMS, socPercent: state.socPercent)
        let maxStep = p.rampKWPerSecond * dtS
        var power = state.activePowerKW + min(max(target - state.activePowerKW, -maxStep), maxStep)
        if target == 0, abs(power) < 1e-9 { power = 0 }
        // Never cross a SoC limit: cut the power of this substep so SoC lands on the limit.
        if power < 0 {
            let room = (p.socMaxPercent - state.socPercent) / 100 * p.ratedEnergyKWh  // kWh storable
            let wanted = -power * dtH * sqrtEta
            if wanted > room { power = room <= 0 ? 0 : -room / (dtH * sqrtEta) }
        } else if power > 0 {
            let room = (state.socPercent - p.socMinPercent) / 100 * p.ratedEnergyKWh  // kWh stored above min
            let wanted = power * dtH / sqrtEta
            if wanted > room { power = room <= 0 ? 0 : room * sqrtEta / dtH }
        }
        // Integrate.
        if power < 0 {
            let energy = -power * dtH
            state.chargeEnergyKWh += energy
            state.meterImportEnergyKWh += energy / p.importEfficiency
            state.socPercent += energy * sqrtEta / p.ratedEnergyKWh * 100
        } else if power > 0 {
            let energy = power * dtH
            state.dischargeEnergyKWh += energy
            state.meterExportEnergyKWh += energy * p.exportEfficiency
            state.socPercent -= energy / sqrtEta / p.ratedEnergyKWh * 100
        }
        state.socPercent = min(max(state.socPercent, p.socMinPercent), p.socMaxPercent)
        state.meterImportEnergyKWh += p.auxiliaryPowerKW * dtH
        state.activePowerKW = power
        // Thermal: first order toward ambient + rise ∝ (I / I_rated)².
        let currentRatio = abs(power) / max(p.ratedPowerKW, 1e-9)
        let targetTemp = p.ambientTempC + p.temperatureRiseAtRatedCurrentC * currentRatio * currentRatio
        cellTempC += (targetTemp - cellTempC) * (1 - exp(-dtS / max(p.thermalTimeConstantS, 1e-3)))
        state.elapsedMS += dtMS
    }

    /// Recomputes the quantities that follow from SoC, power and temperature.
    private mutating func updateDerived() {
        let p = parameters
        state.hourOfDay = hourOfDay(atMS: state.elapsedMS)
        state.period = schedule.kind(atHour: state.hourOfDay)
        let cellOCV = BatteryCurves.cellOpenCircuitVolts(socPercent: state.socPercent)
        let packOCV = p.nominalDCVoltageV * cellOCV / BatteryCurves.lfpNominalCellVolts
        let current = state.activePowerKW * 1000 / packOCV
        state.dcVoltageV = packOCV - current * p.packResistanceOhm
        state.dcCurrentA = state.activePowerKW * 1000 / state.dcVoltageV
        let cellVolts = cellOCV - state.dcCurrentA * p.cellResistanceOhm
        let spread = BatteryCurves.cellVoltageSpreadVolts(socPercent: state.socPercent)
        state.cellVoltageMaxV = cellVolts + spread / 2
        state.cellVoltageMinV = cellVolts - spread / 2
        let currentRatio = abs(state.dcCurrentA) / max(p.ratedCurrentA, 1e-9)
        state.cellTempMaxC = cellTempC + 1.5 + 2 * currentRatio
        state.cellTempMinC = cellTempC - 1.0
        state.cycleCount = p.ratedEnergyKWh > 0 ? state.dischargeEnergyKWh / p.ratedEnergyKWh : 0
        var alarm: UInt16 = 0
        if state.socPercent <= p.socMinPercent + 1e-9 { alarm |= 1 }
        if state.socPercent >= p.socMaxPercent - 1e-9 { alarm |= 2 }
        if state.cellTempMaxC > 45 { alarm |= 4 }
        state.alarmWord = alarm
        state.fault = false
        state.available = true
    }
}
