import ESSCore

@testable import ESSSimulator

/// A small site built from ESSCore values: a PCS (holding, SunSpec-style scale factor,
/// CDAB float, int32 counter, bits in one register, strings) and a BMS (input registers,
/// coils), both on one TCP host:port (unit 1 and 2).
enum TestSite {
    static let pcsProfile = RegisterProfile(
        name: "test-pcs", model: "TEST-PCS",
        points: [
            PointDefinition(name: "active_power", role: .activePowerKW, kind: .holding, address: 100, type: .int16, scaleFactorPoint: "power_sf"),
            PointDefinition(name: "power_sf", role: .scaleFactor, kind: .holding, address: 101, type: .int16),
            PointDefinition(name: "charge_total", role: .chargeEnergyTotalKWh, kind: .holding, address: 102, type: .uint32, scale: 0.01),
            PointDefinition(name: "discharge_total", role: .dischargeEnergyTotalKWh, kind: .holding, address: 104, type: .uint32, wordOrder: .cdab, scale: 0.01),
            PointDefinition(name: "dc_voltage", role: .dcVoltageV, kind: .holding, address: 106, type: .float32, wordOrder: .cdab),
            PointDefinition(name: "available", role: .available, kind: .holding, address: 108, type: .bit(0)),
            PointDefinition(name: "fault", role: .fault, kind: .holding, address: 108, type: .bit(1)),
            PointDefinition(name: "cabinet_temp", role: .other, kind: .holding, address: 109, type: .int16, scale: 0.1),
            PointDefinition(name: "serial_number", role: .identity, kind: .holding, address: 110, type: .string(registers: 8)),
            PointDefinition(name: "firmware_version", role: .identity, kind: .holding, address: 118, type: .string(registers: 4)),
            PointDefinition(name: "heartbeat", role: .other, kind: .holding, address: 122, type: .uint16),
        ])

    static let bmsProfile = RegisterProfile(
        name: "test-bms",
        points: [
            PointDefinition(name: "soc", role: .socPercent, kind: .input, address: 0, type: .uint16, scale: 0.1),
            PointDefinition(name: "cell_temp_max", role: .cellTempMaxC, kind: .input, address: 1, type: .int16, scale: 0.1),
            PointDefinition(name: "cell_voltage_min", role: .cellVoltageMinV, kind: .input, address: 2, type: .uint16, scale: 0.001),
            PointDefinition(name: "dc_current", role: .dcCurrentA, kind: .input, address: 3, type: .int16, scale: 0.1, offset: 0),
            PointDefinition(name: "cycles", role: .cycleCount, kind: .input, address: 4, type: .uint16),
            PointDefinition(name: "contactor_closed", role: .other, kind: .coil, address: 0, type: .bool),
        ])

    static let facts = SiteFacts(
        id: "test-site", name: "test", province: "guangdong", ratedPowerKW: 100, ratedEnergyKWh: 5,
        technologyRoute: "lithium_iron_phosphate", locationCategory: "industrial_plant", totalInvestmentCNY: 1,
        commissioningDate: "2025-01-01", timeZone: "Asia/Shanghai")

    /// Both devices on 127.0.0.1:`port` (0 = any free port).
    static func site(port: Int = 0) -> SiteConfiguration {
        SiteConfiguration(
            site: facts, stateDirectory: "/tmp",
            devices: [
                DeviceDefinition(id: "pcs1", transport: .tcp(host: "127.0.0.1", port: port), unitID: 1, profile: pcsProfile),
                DeviceDefinition(id: "bms1", transport: .tcp(host: "127.0.0.1", port: port), unitID: 2, profile: bmsProfile),
            ])
    }

    static let parameters = PlantParameters(ratedPowerKW: 100, ratedEnergyKWh: 5)
}
