import ESSCore

/// The fixed exponent each `scale_factor` point of a profile holds, chosen once per device.
///
/// Rule (deterministic): for a scale-factor point, take the points that name it; if all of
/// them are floating-point, the exponent is 0. Otherwise it is the smallest exponent in
/// −2 … 6 at which every dependent point's largest expected engineering value (see
/// `expectedMagnitude`) fits its integer type after `scale` and `offset`; 6 if none fits.
/// A scale-factor point that no point names holds 0.
public struct ScaleFactorPlan: Sendable, Hashable {
    /// Exponent by scale-factor point name.
    public let exponents: [String: Int16]

    public init(profile: RegisterProfile, parameters: PlantParameters) {
        var exponents: [String: Int16] = [:]
        for sf in profile.points where sf.role == .scaleFactor {
            let dependents = profile.points.filter { $0.scaleFactorPoint == sf.name }
            exponents[sf.name] = Self.exponent(for: dependents, parameters: parameters)
        }
        self.exponents = exponents
    }

    /// The exponent for a point's scale factor, when the point has one.
    public func exponent(for point: PointDefinition) -> Int16? {
        point.scaleFactorPoint.map { exponents[$0] ?? 0 }
    }

    static func exponent(for dependents: [PointDefinition], parameters: PlantParameters) -> Int16 {
        if dependents.isEmpty { return 0 }
        if dependents.allSatisfy({ $0.type == .float32 || $0.type == .float64 }) { return 0 }
        for exponent in -2...6 {
            let fitsAll = dependents.allSatisfy { point in
                let magnitude = expectedMagnitude(of: point, parameters: parameters)
                // Unsigned points never show negative values; signed ones may show ±magnitude.
                let values = point.type.isSigned ? [magnitude, -magnitude] : [magnitude]
                return values.allSatisfy { value in
                    fits(raw: (value - point.offset) / point.scale / RegisterDecoder.powerOfTen(exponent), type: point.type)
                }
            }
            if fitsAll { return Int16(exponent) }
        }
        return 6
    }

    /// Whether `raw`, rounded, fits the point's integer type.
    static func fits(raw: Double, type: ValueType) -> Bool {
        let r = raw.rounded()
        switch type {
        case .int16: return r >= -32768 && r <= 32767
        case .uint16: return r >= 0 && r <= 65535
        case .int32: return r >= -2_147_483_648 && r <= 2_147_483_647
        case .uint32: return r >= 0 && r <= 4_294_967_295
        case .int64, .uint64, .float32, .float64, .bool, .bit, .string: return r.isFinite
        }
    }

    /// The largest absolute engineering value a point of this role is expected to show over
    /// the simulator's life (energy counters: 2000 full cycles).
    public static func expectedMagnitude(of point: PointDefinition, parameters p: PlantParameters) -> Double {
        switch point.role {
        case .socPercent, .sohPercent: return 100
        case .activePowerKW, .reactivePowerKVAr, .ratedPowerKW: return p.ratedPowerKW * 1.1
        case .chargeEnergyTotalKWh, .dischargeEnergyTotalKWh, .meterExportEnergyTotalKWh: return p.ratedEnergyKWh * 2000
        case .meterImportEnergyTotalKWh: return p.ratedEnergyKWh * 2000 / p.importEfficiency * 1.1
        case .dcVoltageV: return p.nominalDCVoltageV * 3.65 / BatteryCurves.lfpNominalCellVolts
        case .dcCurrentA: return p.ratedCurrentA * 1.2
        case .cellTempMaxC, .cellTempMinC: return 100
        case .cellVoltageMaxV, .cellVoltageMinV: return 5
        case .available, .fault, .identity, .scaleFactor: return 1
        case .alarmWord: return 65535
        case .cycleCount: return 2000
        case .ratedEnergyKWh: return p.ratedEnergyKWh
        case .other:
            switch OtherPointRule(point: point) {
            case .ambientTemperature: return 100
            case .plantPower: return p.ratedPowerKW * 1.1
            case .dcVoltage: return p.nominalDCVoltageV * 3.65 / BatteryCurves.lfpNominalCellVolts
            case .dcCurrent: return p.ratedCurrentA * 1.2
            case .energyThroughput: return p.ratedEnergyKWh * 4000
            case .statusOn, .counter: return 1
            }
        }
    }
}

extension ValueType {
    var isSigned: Bool {
        switch self {
        case .int16, .int32, .int64, .float32, .float64: true
        default: false
        }
    }
}
