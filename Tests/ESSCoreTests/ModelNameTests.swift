import ESSCore
import Testing

@Suite("Profile-file names")
struct ModelNameTests {
    @Test("every SignalRole round-trips through its raw value", arguments: SignalRole.allCases)
    func signalRole(_ role: SignalRole) {
        #expect(SignalRole(rawValue: role.rawValue) == role)
        #expect(role.rawValue.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(role.rawValue) is not snake_case")
    }

    @Test("SignalRole raw values are distinct and unknown names are rejected")
    func signalRoleNames() {
        #expect(Set(SignalRole.allCases.map(\.rawValue)).count == SignalRole.allCases.count)
        #expect(SignalRole(rawValue: "socPercent") == nil)
        #expect(SignalRole(rawValue: "SOC_PERCENT") == nil)
        #expect(SignalRole(rawValue: "") == nil)
    }

    @Test("energy counters are exactly the four kWh totals")
    func energyCounters() {
        #expect(Set(SignalRole.allCases.filter(\.isEnergyCounter)) == [
            .chargeEnergyTotalKWh, .dischargeEnergyTotalKWh, .meterImportEnergyTotalKWh, .meterExportEnergyTotalKWh,
        ])
        for role in SignalRole.allCases where role.isEnergyCounter { #expect(role.unit == "kWh") }
    }

    static let allValueTypes: [ValueType] =
        [.bool, .int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64]
        + (0...15).map { .bit($0) } + (1...125).map { .string(registers: $0) }

    @Test("ValueType(name:) parses every name it prints")
    func valueTypeRoundTrip() {
        for type in Self.allValueTypes {
            #expect(ValueType(name: type.name) == type, "\(type.name)")
        }
        #expect(Set(Self.allValueTypes.map(\.name)).count == Self.allValueTypes.count)
    }

    @Test("ValueType(name:) rejects names it never prints", arguments: [
        "bit16", "string0", "float16", "string126", "bit-1", "bit", "string", "", "INT16", "Float32", "uint8", "int128",
        " int16", "int16 ", "string 8",
    ])
    func valueTypeRejects(_ name: String) {
        #expect(ValueType(name: name) == nil)
    }

    @Test("register counts")
    func registerCounts() {
        let expected: [(ValueType, Int)] = [
            (.bool, 1), (.bit(7), 1), (.int16, 1), (.uint16, 1), (.int32, 2), (.uint32, 2), (.float32, 2),
            (.int64, 4), (.uint64, 4), (.float64, 4), (.string(registers: 8), 8),
        ]
        for (type, count) in expected { #expect(type.registerCount == count, "\(type.name)") }
        // A point in a bit table occupies one bit whatever its type.
        #expect(PointDefinition(name: "c", kind: .coil, address: 3, type: .bool).endAddress == 4)
        #expect(PointDefinition(name: "h", kind: .holding, address: 3, type: .float64).endAddress == 7)
    }

    @Test("WordOrder raw values and flags")
    func wordOrder() {
        #expect(WordOrder.allCases.map(\.rawValue) == ["ABCD", "CDAB", "BADC", "DCBA"])
        #expect(WordOrder.allCases.map(\.swapsWords) == [false, true, false, true])
        #expect(WordOrder.allCases.map(\.swapsBytes) == [false, false, true, true])
        for order in WordOrder.allCases { #expect(WordOrder(rawValue: order.rawValue) == order) }
    }
}
