import ESSCore

/// How an `other` point gets its value, decided by its name (case-insensitive), first match:
/// "temp" → ambient temperature; "power" → active power; "voltage" → DC voltage;
/// "current" → DC current; "energy" or "kwh" → charge + discharge energy throughput;
/// a one-bit point (coil, discrete input, bool, bitN) → 1 (a status that is on);
/// otherwise a counter that grows by one per second, wrapped to the type's range.
public enum OtherPointRule: Sendable, Hashable {
    case ambientTemperature, plantPower, dcVoltage, dcCurrent, energyThroughput, statusOn, counter

    public init(name: String) {
        self.init(point: PointDefinition(name: name, address: 0))
    }

    public init(point: PointDefinition) {
        let lower = point.name.lowercased()
        if lower.contains("temp") {
            self = .ambientTemperature
        } else if lower.contains("power") {
            self = .plantPower
        } else if lower.contains("voltage") {
            self = .dcVoltage
        } else if lower.contains("current") {
            self = .dcCurrent
        } else if lower.contains("energy") || lower.contains("kwh") {
            self = .energyThroughput
        } else if point.kind.isBitTable || point.type == .bool || { if case .bit = point.type { true } else { false } }() {
            self = .statusOn
        } else {
            self = .counter
        }
    }
}

/// Where a device's counters restart from: the plant's counters at the last
/// `reset-counters` (all zero until then). Served counter = plant counter − baseline.
public struct DeviceCounterBaseline: Sendable, Hashable {
    public var chargeEnergyKWh = 0.0
    public var dischargeEnergyKWh = 0.0
    public var meterImportEnergyKWh = 0.0
    public var meterExportEnergyKWh = 0.0

    public init() {}

    /// The baseline that makes every counter read 0 now.
    public init(resettingAt plant: PlantState) {
        chargeEnergyKWh = plant.chargeEnergyKWh
        dischargeEnergyKWh = plant.dischargeEnergyKWh
        meterImportEnergyKWh = plant.meterImportEnergyKWh
        meterExportEnergyKWh = plant.meterExportEnergyKWh
    }
}

/// The engineering value of each point of one device, from the plant's state.
/// Pure: the same plant state, baseline and plan give the same values.
///
/// Identity strings: a point whose name contains "firm", "version", "fw" or "sw" holds
/// "1.0.0"; one containing "model" holds the profile's model (or "SIM"); any other holds the
/// serial "SIM-<DEVICE ID uppercased>-0001". Numeric identity points hold 1. String points
/// of other roles hold their point name.
public struct PointValueSource: Sendable {
    public let device: DeviceDefinition
    public let scaleFactors: ScaleFactorPlan

    public init(device: DeviceDefinition, parameters: PlantParameters) {
        self.device = device
        self.scaleFactors = ScaleFactorPlan(profile: device.profile, parameters: parameters)
    }

    /// The serial number text the device reports.
    public var serialNumber: String { "SIM-\(device.id.uppercased())-0001" }

    /// One value per point of the profile, in profile order.
    public func values(plant: PlantState, baseline: DeviceCounterBaseline) -> [PointValue] {
        device.profile.points.map { value(of: $0, plant: plant, baseline: baseline) }
    }

    public func value(of point: PointDefinition, plant: PlantState, baseline: DeviceCounterBaseline) -> PointValue {
        if case .string = point.type {
            guard point.role == .identity else { return .text(point.name) }
            let lower = point.name.lowercased()
            if ["firm", "version", "fw", "sw"].contains(where: { lower.contains($0) }) { return .text("1.0.0") }
            if lower.contains("model") { return .text(device.profile.model ?? "SIM") }
            return .text(serialNumber)
        }
        let bool: (Bool) -> PointValue = { .number($0 ? 1 : 0) }
        switch point.role {
        case .socPercent: return .number(plant.socPercent)
        case .sohPercent: return .number(plant.sohPercent)
        case .activePowerKW: return .number(plant.activePowerKW)
        case .reactivePowerKVAr: return .number(plant.reactivePowerKVAr)
        case .chargeEnergyTotalKWh: return .number(max(0, plant.chargeEnergyKWh - baseline.chargeEnergyKWh))
        case .dischargeEnergyTotalKWh: return .number(max(0, plant.dischargeEnergyKWh - baseline.dischargeEnergyKWh))
        case .meterImportEnergyTotalKWh:
            return .number(max(0, plant.meterImportEnergyKWh - baseline.meterImportEnergyKWh))
        case .meterExportEnergyTotalKWh:
            return .number(max(0, plant.meterExportEnergyKWh - baseline.meterExportEnergyKWh))
        case .dcVoltageV: return .number(plant.dcVoltageV)
        case .dcCurrentA: return .number(plant.dcCurrentA)
        case .cellTempMaxC: return .number(plant.cellTempMaxC)
        case .cellTempMinC: return .number(plant.cellTempMinC)
        case .cellVoltageMaxV: return .number(plant.cellVoltageMaxV)
        case .cellVoltageMinV: return .number(plant.cellVoltageMinV)
        case .available: return bool(plant.available)
        case .fault: return bool(plant.fault)
        case .alarmWord:
            if case .bit(let n) = point.type { return bool(plant.alarmWord >> UInt16(n) & 1 == 1) }
            return .number(Double(plant.alarmWord))
        case .cycleCount: return .number(plant.cycleCount)
        case .ratedEnergyKWh: return .number(plant.ratedEnergyKWh)
        case .ratedPowerKW: return .number(plant.ratedPowerKW)
        case .scaleFactor: return .number(Double(scaleFactors.exponents[point.name] ?? 0))
        case .identity: return .number(1)
        case .other:
            switch OtherPointRule(point: point) {
            case .ambientTemperature: return .number(plant.ambientTempC)
            case .plantPower: return .number(plant.activePowerKW)
            case .dcVoltage: return .number(plant.dcVoltageV)
            case .dcCurrent: return .number(plant.dcCurrentA)
            case .energyThroughput:
                let charge = plant.chargeEnergyKWh - baseline.chargeEnergyKWh
                let discharge = plant.dischargeEnergyKWh - baseline.dischargeEnergyKWh
                return .number(max(0, charge + discharge))
            case .statusOn: return .number(1)
            case .counter:
                // A raw counter, so that encoding gives back exactly the counter.
                let raw = Self.wrapped(counter: plant.elapsedMS / 1000, point: point)
                let factor = scaleFactors.exponent(for: point).map { RegisterDecoder.powerOfTen(Int($0)) } ?? 1
                return .number(raw * factor * point.scale + point.offset)
            }
        }
    }

    /// The counter wrapped into the point's raw range (bits and bools alternate 0, 1).
    static func wrapped(counter: Int64, point: PointDefinition) -> Double {
        if point.kind.isBitTable { return Double(counter % 2) }
        switch point.type {
        case .bool, .bit: return Double(counter % 2)
        case .int16: return Double(counter % 32768)
        case .uint16: return Double(counter % 65536)
        case .int32, .uint32: return Double(counter % 2_147_483_648)
        default: return Double(counter)
        }
    }
}
