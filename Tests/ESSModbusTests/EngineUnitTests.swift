@testable import ESSModbus
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
