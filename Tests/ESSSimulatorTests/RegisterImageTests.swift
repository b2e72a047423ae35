import ESSCore
import Testing

@testable import ESSSimulator

@Suite("Register images")
struct RegisterImageTests {
    static func plantState(startHour: Double, ms: Int64) -> PlantState {
        var plant = PlantModel(parameters: TestSite.parameters, daySeconds: 2400, startHour: startHour, startSoCPercent: 50)
        plant.step(toMS: ms)
        return plant.state
    }

    @Test("the image spans each table's lowest to highest mapped register")
    func layout() {
        let image = RegisterImage(profile: TestSite.pcsProfile)
        #expect(image.blocks[.holding]?.startAddress == 100)
        #expect(image.blocks[.holding]?.words.count == 23)
        #expect(image.blocks[.input] == nil)
        let bms = RegisterImage(profile: TestSite.bmsProfile)
        #expect(bms.blocks[.input]?.words.count == 5)
        #expect(bms.blocks[.coil]?.words.count == 1)
    }

    @Test("decoding the image gives back the plant's values within one raw step")
    func roundTrip() throws {
        let state = Self.plantState(startHour: 10.5, ms: 30_000)  // peak: discharging
        for (device, profile) in [("pcs1", TestSite.pcsProfile), ("bms1", TestSite.bmsProfile)] {
            let definition = DeviceDefinition(id: device, transport: .tcp(host: "127.0.0.1", port: 1), profile: profile)
            let source = PointValueSource(device: definition, parameters: TestSite.parameters)
            var image = RegisterImage(profile: profile)
            let values = source.values(plant: state, baseline: DeviceCounterBaseline())
            image.render(profile: profile, values: values, scaleFactors: source.scaleFactors)
            let decoded = image.decode(profile: profile)
            for (i, point) in profile.points.enumerated() {
                switch (values[i], decoded[i]) {
                case (.text(let a), .text(let b)): #expect(a == b, "\(point.name)")
                case (.number(let a), .number(let b)):
                    let step = point.scale * (source.scaleFactors.exponent(for: point).map { RegisterDecoder.powerOfTen(Int($0)) } ?? 1)
                    let tolerance = point.type == .float32 ? abs(a) * 1e-6 : step / 2 + 1e-9
                    #expect(abs(a - b) <= tolerance, "\(point.name): \(a) vs \(b)")
                default: Issue.record("\(point.name): \(values[i]) vs \(decoded[i])")
                }
            }
        }
    }

    @Test("served values: identity strings, other points, scale factor, bit flags")
    func servedValues() throws {
        let state = Self.plantState(startHour: 10.5, ms: 30_000)
        let device = DeviceDefinition(id: "pcs1", transport: .tcp(host: "h", port: 1), profile: TestSite.pcsProfile)
        let source = PointValueSource(device: device, parameters: TestSite.parameters)
        var image = RegisterImage(profile: TestSite.pcsProfile)
        image.render(profile: TestSite.pcsProfile, values: source.values(plant: state, baseline: .init()), scaleFactors: source.scaleFactors)
        let values = Dictionary(uniqueKeysWithValues: zip(TestSite.pcsProfile.points.map(\.name), image.decode(profile: TestSite.pcsProfile)))
        #expect(values["serial_number"] == .text("SIM-PCS1-0001"))
        #expect(values["firmware_version"] == .text("1.0.0"))
        #expect(values["cabinet_temp"] == .number(25))
        #expect(values["heartbeat"] == .number(30))
        #expect(values["available"] == .number(1))
        #expect(values["fault"] == .number(0))
        #expect(values["active_power"] == .number(100))
        // int16 power of ±110 kW fits at exponent -2 (±11000).
        #expect(source.scaleFactors.exponents["power_sf"] == -2)
        #expect(image.word(.holding, 101) == UInt16(bitPattern: -2))
        #expect(image.word(.holding, 108) == 0b01, "available (bit 0) and fault (bit 1) share register 108")
    }

    @Test(
        "scale-factor exponent is the smallest from -2 that fits every dependent",
        arguments: [
            (ValueType.int16, 100.0, 1.0, Int16(-2)),  // 110 kW → 11000
            (.int16, 1000, 1, -1),  // 1100 → 11000
            (.uint16, 1000, 1, -1),
            (.int16, 10000, 1, 0),
            (.int16, 100_000, 1, 1),
            (.int32, 100_000, 1, -2),
            (.float32, 100_000, 1, 0),
            (.int16, 100, 0.1, -1),  // scale 0.1 multiplies the raw step by 10
        ])
    func scaleFactor(type: ValueType, ratedPowerKW: Double, scale: Double, expected: Int16) {
        let parameters = PlantParameters(ratedPowerKW: ratedPowerKW, ratedEnergyKWh: 5)
        let profile = RegisterProfile(
            name: "p",
            points: [
                PointDefinition(name: "p", role: .activePowerKW, address: 0, type: type, scale: scale, scaleFactorPoint: "sf"),
                PointDefinition(name: "sf", role: .scaleFactor, address: 1, type: .int16),
            ])
        #expect(ScaleFactorPlan(profile: profile, parameters: parameters).exponents["sf"] == expected)
    }

    @Test("reset-counters baseline makes the device's counters restart from 0")
    func baseline() {
        let state = Self.plantState(startHour: 10.5, ms: 60_000)
        #expect(state.dischargeEnergyKWh > 1)
        let device = DeviceDefinition(id: "pcs1", transport: .tcp(host: "h", port: 1), profile: TestSite.pcsProfile)
        let source = PointValueSource(device: device, parameters: TestSite.parameters)
        let index = TestSite.pcsProfile.pointIndex(named: "discharge_total")!
        #expect(source.values(plant: state, baseline: .init())[index] == .number(state.dischargeEnergyKWh))
        #expect(source.values(plant: state, baseline: DeviceCounterBaseline(resettingAt: state))[index] == .number(0))
    }

    @Test("a missing value writes the point's not-implemented sentinel")
    func sentinel() {
        let profile = RegisterProfile(
            name: "p",
            points: [
                PointDefinition(name: "a", address: 0, type: .int16, notImplemented: .rawBits(0x8000)),
                PointDefinition(name: "b", address: 1, type: .float32, notImplemented: .nan),
            ])
        var image = RegisterImage(profile: profile)
        image.render(profile: profile, values: [.missing, .missing], scaleFactors: ScaleFactorPlan(profile: profile, parameters: TestSite.parameters))
        #expect(image.word(.holding, 0) == 0x8000)
        #expect(image.decode(profile: profile) == [.missing, .missing])
    }
}
