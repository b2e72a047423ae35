/// The meaning of a point, from a fixed vocabulary that the store, the indicators and the
/// criteria understand. `other` is free-form: kept and shown, never used in a formula.
///
/// Sign convention: `activePowerKW` is positive when the battery discharges (exports)
/// and negative when it charges.
public enum SignalRole: String, Sendable, Hashable, CaseIterable, Codable {
    case socPercent = "soc_percent"
    case sohPercent = "soh_percent"
    case activePowerKW = "active_power_kw"
    case reactivePowerKVAr = "reactive_power_kvar"
    case chargeEnergyTotalKWh = "charge_energy_total_kwh"
    case dischargeEnergyTotalKWh = "discharge_energy_total_kwh"
    case meterImportEnergyTotalKWh = "meter_import_energy_total_kwh"
    case meterExportEnergyTotalKWh = "meter_export_energy_total_kwh"
    case dcVoltageV = "dc_voltage_v"
    case dcCurrentA = "dc_current_a"
    case cellTempMaxC = "cell_temp_max_c"
    case cellTempMinC = "cell_temp_min_c"
    case cellVoltageMaxV = "cell_voltage_max_v"
    case cellVoltageMinV = "cell_voltage_min_v"
    case available
    case fault
    case alarmWord = "alarm_word"
    case cycleCount = "cycle_count"
    case ratedEnergyKWh = "rated_energy_kwh"
    case ratedPowerKW = "rated_power_kw"
    case scaleFactor = "scale_factor"
    case identity
    case other

    /// The unit a value of this role is expressed in after scaling, or nil when the role has none.
    public var unit: String? {
        switch self {
        case .socPercent, .sohPercent: "%"
        case .activePowerKW, .ratedPowerKW: "kW"
        case .reactivePowerKVAr: "kvar"
        case .chargeEnergyTotalKWh, .dischargeEnergyTotalKWh, .meterImportEnergyTotalKWh,
            .meterExportEnergyTotalKWh, .ratedEnergyKWh:
            "kWh"
        case .dcVoltageV, .cellVoltageMaxV, .cellVoltageMinV: "V"
        case .dcCurrentA: "A"
        case .cellTempMaxC, .cellTempMinC: "°C"
        case .available, .fault, .alarmWord, .cycleCount, .scaleFactor, .identity, .other: nil
        }
    }

    /// True for monotonically growing counters whose deltas give energy.
    public var isEnergyCounter: Bool {
        switch self {
        case .chargeEnergyTotalKWh, .dischargeEnergyTotalKWh, .meterImportEnergyTotalKWh,
            .meterExportEnergyTotalKWh:
            true
        default: false
        }
    }
}
