import ESSCore
import Testing

@Suite("ReadPlanner.validate")
struct ReadPlannerValidateTests {
    static let limits = ReadPlanLimits(maxRegisters: 10, maxBits: 16, maxHole: 2)
    static let good = [
        PointDefinition(name: "soc", role: .socPercent, address: 0),
        PointDefinition(name: "w_sf", role: .scaleFactor, address: 5, type: .int16),
        PointDefinition(name: "w", role: .activePowerKW, address: 3, type: .int16, scaleFactorPoint: "w_sf"),
        PointDefinition(name: "run", role: .available, kind: .coil, address: 7, type: .bool),
    ]

    /// Validates `good` plus `bad`; expects exactly one error, naming `bad`.
    func expectOneError(_ bad: PointDefinition, mentioning words: [String], limits: ReadPlanLimits = limits) {
        let errors = ReadPlanner.validate(points: Self.good + [bad], limits: limits)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.pointName == bad.name)
        for word in words {
            #expect(errors.first?.reason.contains(word) == true, "'\(errors.first?.reason ?? "")' lacks '\(word)'")
        }
        #expect(errors.first?.description.hasPrefix("point '\(bad.name)': ") == true)
    }

    @Test("a valid profile has no errors, up to the last register 65535")
    func valid() {
        #expect(ReadPlanner.validate(points: Self.good, limits: Self.limits).isEmpty)
        let edge = [PointDefinition(name: "last", address: 65534, type: .uint32), PointDefinition(name: "bit", kind: .coil, address: 65535, type: .bool)]
        #expect(ReadPlanner.validate(points: edge, limits: Self.limits).isEmpty)
    }

    @Test("a point wider than the cap")
    func wider() {
        expectOneError(PointDefinition(name: "serial", role: .identity, address: 20, type: .string(registers: 11)), mentioning: ["11", "10"])
    }

    @Test("a point whose span with its scale factor is wider than the cap")
    func widerWithScaleFactor() {
        expectOneError(PointDefinition(name: "far", address: 20, scaleFactorPoint: "w_sf"), mentioning: ["16", "10"])
    }

    @Test("a scale factor that names no point")
    func missingScaleFactor() {
        expectOneError(PointDefinition(name: "v", address: 8, scaleFactorPoint: "v_sf"), mentioning: ["v_sf"])
    }

    @Test("a scale factor in another table")
    func scaleFactorInOtherTable() {
        expectOneError(PointDefinition(name: "a", kind: .input, address: 4, scaleFactorPoint: "w_sf"), mentioning: ["w_sf", "input"])
    }

    @Test("a scale factor in a bit table")
    func scaleFactorInBitTable() {
        let points = [
            PointDefinition(name: "c_sf", kind: .coil, address: 0, type: .bool),
            PointDefinition(name: "c", kind: .coil, address: 1, type: .bool, scaleFactorPoint: "c_sf"),
        ]
        let errors = ReadPlanner.validate(points: points, limits: Self.limits)
        #expect(errors.map(\.pointName) == ["c"])
    }

    @Test("an address beyond 65535", arguments: [
        PointDefinition(name: "beyond", address: 70_000),
        PointDefinition(name: "straddles", address: 65535, type: .uint32),
        PointDefinition(name: "negative", address: -1),
        PointDefinition(name: "coil_beyond", kind: .coil, address: 65536, type: .bool),
    ])
    func beyond(_ point: PointDefinition) {
        expectOneError(point, mentioning: ["\(point.address)", "65535"])
    }

    @Test("several bad points: one error each, in profile order")
    func several() {
        let points = Self.good + [
            PointDefinition(name: "x", address: 70_000),
            PointDefinition(name: "y", address: 8, scaleFactorPoint: "nope"),
            PointDefinition(name: "z", address: 20, type: .string(registers: 12)),
        ]
        #expect(ReadPlanner.validate(points: points, limits: Self.limits).map(\.pointName) == ["x", "y", "z"])
    }
}
