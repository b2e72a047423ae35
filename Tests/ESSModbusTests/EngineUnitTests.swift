import ESSCore
@testable import ESSModbus
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

struct ModbusErrorMappingTests {
    static let cases: [(Int32, String)] = [
        (ETIMEDOUT, "timeout"), (ECONNREFUSED, "connection_refused"), (ECONNRESET, "connection_reset"),
        (EPIPE, "connection_reset"), (112_345_678 + 2, "exception_2"), (112_345_678 + 6, "exception_6"),
        (112_345_678 + 11, "exception_11"), (112_345_678 + 12, "bad_response"), (112_345_678 + 13, "bad_response"),
    ]

    @Test(arguments: cases)
    func errnoMapsToAKind(code: Int32, kind: String) {
        let error = ModbusError.fromErrno(code, operation: "modbus_read_registers", endpoint: "tcp://127.0.0.1:502")
        #expect(error.kindName == kind)
        #expect(error.description.hasPrefix("tcp://127.0.0.1:502: modbus_read_registers failed: "))
    }

    @Test func exceptionsSayWhatTheyMean() {
        let error = ModbusError(kind: .exception(2), operation: "read", endpoint: "rtu:///dev/ttyS0")
        #expect(error.description.contains("illegal data address"))
        #expect(!error.requiresReconnect)
        #expect(ModbusError(kind: .connectionReset, operation: "read", endpoint: "x").requiresReconnect)
    }
}

struct ScheduleTests {
    @Test func percentilesUseNearestRank() {
        var window = PercentileWindow(capacity: 100)
        #expect(window.percentile(0.5) == nil)
        for v in 1...100 { window.add(v) }
        #expect(window.percentile(0.5) == 50)
        #expect(window.percentile(0.99) == 99)
        for v in 1...100 { window.add(v * 10) }  // the window keeps only the last 100
        #expect(window.percentile(0.5) == 500)
    }
}

/// Issue 12, finding 11: how `PollEngine` groups devices into links; an import-only device
/// (`transport = "none"`) has no link: no thread, no connection, no statistics.
struct PollGroupingTests {
    static let profile = RegisterProfile(name: "p", points: [PointDefinition(name: "x", role: .other, address: 0)])

    static func device(_ id: String, _ transport: Transport, unit: Int = 1) -> DeviceDefinition {
        DeviceDefinition(id: id, transport: transport, unitID: unit, profile: profile)
    }

    static let bus = Transport.rtu(device: "/dev/ttyS0", baud: 9600, parity: .even, dataBits: 8, stopBits: 1)

    /// Devices in, links out (each link's device ids), by hand.
    static let cases: [(String, [DeviceDefinition], [[String]])] = [
        ("tcp each its own, rtu per bus", [
            device("a", .tcp(host: "10.0.0.1", port: 502)), device("b", bus, unit: 1),
            device("c", .tcp(host: "10.0.0.1", port: 502), unit: 2), device("d", bus, unit: 2),
        ], [["a"], ["b", "d"], ["c"]]),
        ("import-only devices are left out", [
            device("a", .tcp(host: "10.0.0.1", port: 502)), device("old", .importOnly), device("b", bus),
            device("older", .importOnly),
        ], [["a"], ["b"]]),
        ("only import-only devices: no link", [device("old", .importOnly)], []),
    ]

    @Test(arguments: cases)
    func linksOfDevices(name: String, devices: [DeviceDefinition], links: [[String]]) {
        #expect(PollEngine.groups(devices).map { $0.devices.map(\.id) } == links, "\(name)")
    }

    @Test func anImportOnlyDeviceHasNoStatistics() {
        let engine = PollEngine(
            devices: [Self.device("old", .importOnly)], sink: NullSink(), logger: Logger(label: "t"))
        #expect(engine.connectionCount == 0 && engine.statistics().isEmpty)
    }

    @Test func anImportOnlyTransportCannotBeConnected() {
        #expect(throws: ModbusError.self) { _ = try ModbusConnection(transport: .importOnly, responseTimeoutMS: 100) }
    }

    struct NullSink: ScanSink {
        func accept(_ scan: Scan) {}
    }
}
