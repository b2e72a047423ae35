import CModbus
import ESSCore
import Foundation
import Logging
import Testing

@testable import ESSSimulator

/// The server on loopback, read by a raw libmodbus client.
@Suite("SimulatorServer over loopback", .serialized)
struct SimulatorServerTests {
    static func options(startHour: Double = 10.5) -> SimulatorOptions {
        var options = SimulatorOptions()
        options.daySeconds = 2400
        options.startHour = startHour
        options.startSoCPercent = 60
        return options
    }

    static func decode(_ profile: RegisterProfile, name: String, words: [UInt16], start: Int, sfExponent: Int16? = nil) -> PointValue {
        let point = profile.points[profile.pointIndex(named: name)!]
        return words.withUnsafeBufferPointer { buffer in
            if case .string = point.type { return .text(RegisterDecoder.decodeText(point, words: buffer, offset: point.address - start)) }
            return RegisterDecoder.decodeNumber(point, words: buffer, offset: point.address - start, scaleFactorExponent: sfExponent)
                .map(PointValue.number) ?? .missing
        }
    }

    @Test("registers read over TCP decode to the state's values; faults and unit ids behave")
    func tcpLoopback() async throws {
        let server = try SimulatorServer(site: TestSite.site(port: 0), options: Self.options(), logger: Logger(label: "test"))
        let endpoints = try await server.start()
        #expect(endpoints.count == 1)
        let port = try #require(endpoints.first?.port)
        #expect(port > 0)
        #expect(endpoints[0].unitIDs == [1, 2])
        let link = ModbusTestClient.Link.tcp(port: port)

        try await Task.sleep(for: .milliseconds(300))  // let the power ramp up
        #expect(await server.send(.freeze(on: true)) == .done)
        let state = try await server.state()
        let pcs = try #require(state.device("pcs1"))
        let bms = try #require(state.device("bms1"))

        // PCS, unit 1: holding 100 ..< 123.
        let holding = await ModbusTestClient.read(link, unit: 1, kind: .holding, address: 100, count: 23)
        #expect(holding.errno == 0)
        let sf = Int16(bitPattern: holding.words[1])
        for name in ["active_power", "charge_total", "discharge_total", "dc_voltage", "available", "fault", "cabinet_temp", "serial_number", "firmware_version", "heartbeat"] {
            let decoded = Self.decode(TestSite.pcsProfile, name: name, words: holding.words, start: 100, sfExponent: name == "active_power" ? sf : nil)
            #expect(decoded == pcs.points[name], "\(name)")
        }
        #expect(pcs.points["serial_number"] == .text("SIM-PCS1-0001"))
        #expect((pcs.points["active_power"]?.number ?? 0) > 0, "discharging (ramping up) at 10:30")

        // BMS, unit 2: input 0 ..< 5 and coil 0.
        let input = await ModbusTestClient.read(link, unit: 2, kind: .input, address: 0, count: 5)
        #expect(input.errno == 0)
        for name in ["soc", "cell_temp_max", "cell_voltage_min", "dc_current", "cycles"] {
            #expect(Self.decode(TestSite.bmsProfile, name: name, words: input.words, start: 0) == bms.points[name], "\(name)")
        }
        let soc = try #require(bms.points["soc"]?.number)
        #expect(abs(soc - state.plant.socPercent) <= 0.05)
        let coil = await ModbusTestClient.read(link, unit: 2, kind: .coil, address: 0, count: 1)
        #expect(coil.errno == 0 && coil.words == [1])

        // Outside the mapping: exception 2 from libmodbus itself.
        let outside = await ModbusTestClient.read(link, unit: 2, kind: .input, address: 4, count: 2)
        #expect(outside.errno == ModbusTestClient.exceptionErrno(2))

        // Injected exception: any request touching input 3 of bms1.
        #expect(await server.send(.exception(device: "bms1", table: .input, address: 3, code: 6)) == .done)
        let touching = await ModbusTestClient.read(link, unit: 2, kind: .input, address: 0, count: 5)
        #expect(touching.errno == ModbusTestClient.exceptionErrno(6))
        let beside = await ModbusTestClient.read(link, unit: 2, kind: .input, address: 0, count: 3)
        #expect(beside.errno == 0)

        // Unknown unit id: exception 11, gateway target failed.
        let unknown = await ModbusTestClient.read(link, unit: 9, kind: .holding, address: 100, count: 1)
        #expect(unknown.errno == CModbus_EMBXGTAR())

        // Writes are refused with exception 1 and counted.
        let write = await ModbusTestClient.writeRegister(link, unit: 1, address: 100, value: 7)
        #expect(write.errno == ModbusTestClient.exceptionErrno(1))

        // Silent device: no answer at all.
        #expect(await server.send(.silent(device: "bms1", on: true)) == .done)
        let silent = await ModbusTestClient.read(link, unit: 2, kind: .input, address: 0, count: 1, timeoutMS: 300)
        #expect(silent.errno == ETIMEDOUT)

        // Delay: answered, late.
        #expect(await server.send(.delay(device: "pcs1", ms: 300)) == .done)
        let late = await ModbusTestClient.read(link, unit: 1, kind: .holding, address: 100, count: 1, timeoutMS: 2000)
        #expect(late.errno == 0)
        #expect(late.elapsedMS >= 280)
        #expect(await server.send(.clear(device: "pcs1")) == .done)

        // Unknown device in a command.
        if case .failed = await server.send(.clear(device: "nope")) {} else { Issue.record("clear nope should fail") }

        let statistics = await server.stop()
        #expect(statistics.devices["pcs1"]?.writeAttempts == 1)
        #expect(statistics.writeAttempts == 1)
        #expect(statistics.unknownUnitRequests == 1)
        #expect(statistics.devices["bms1"]?.silentDrops == 1)
        #expect(statistics.devices["bms1"]?.exceptionsInjected == 1)
        #expect(await server.stop() == statistics, "stop is idempotent")
        if case .failed = await server.send(.state) {} else { Issue.record("commands after stop fail") }
    }

    @Test("reset-counters: the device's counters restart from 0, the other device's do not")
    func resetCounters() async throws {
        let server = try SimulatorServer(site: TestSite.site(port: 0), options: Self.options(), logger: Logger(label: "test"))
        _ = try await server.start()
        try await Task.sleep(for: .milliseconds(2000))  // ramping to 100 kW: ≈ 0.028 kWh
        let before = try await server.state()
        #expect((before.device("pcs1")?.points["discharge_total"]?.number ?? 0) > 0)
        #expect(await server.send(.resetCounters(device: "pcs1")) == .done)
        let after = try await server.state()
        let reset = try #require(after.device("pcs1")?.points["discharge_total"]?.number)
        #expect(reset < (before.device("pcs1")?.points["discharge_total"]?.number ?? 0))
        #expect(reset <= 0.01)
        _ = await server.stop()
    }

    @Test("a port already in use fails start with a clear error and leaves nothing open")
    func portInUse() async throws {
        let first = try SimulatorServer(site: TestSite.site(port: 0), options: Self.options(), logger: Logger(label: "test"))
        let port = try #require(try await first.start().first?.port)
        let second = try SimulatorServer(site: TestSite.site(port: port), options: Self.options(), logger: Logger(label: "test"))
        await #expect(throws: SimulatorError.self) { try await second.start() }
        _ = await second.stop()
        _ = await first.stop()
    }

    @Test("RTU: several unit ids on one serial line (socat pty pair)", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/socat")))
    func rtuLoopback() async throws {
        let base = "/tmp/ess-sim-test-\(getpid())"
        let socat = Process()
        socat.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
        socat.arguments = ["pty,raw,echo=0,link=\(base)-a", "pty,raw,echo=0,link=\(base)-b"]
        socat.standardError = FileHandle.nullDevice
        try socat.run()
        // SIGKILL: the child inherits the test thread's blocked signal mask, SIGTERM included.
        // Foundation reaps it; its waitUntilExit() spins off the main thread, so it is not used.
        defer { kill(socat.processIdentifier, SIGKILL) }
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: "\(base)-b") || !FileManager.default.fileExists(atPath: "\(base)-a") {
            try await Task.sleep(for: .milliseconds(50))
        }
        let rtu = Transport.rtu(device: "/dev/ttyUSB-configured", baud: 9600, parity: .none, dataBits: 8, stopBits: 1)
        let site = SiteConfiguration(
            site: TestSite.facts, stateDirectory: "/tmp",
            devices: [
                DeviceDefinition(id: "pcs1", transport: rtu, unitID: 1, profile: TestSite.pcsProfile),
                DeviceDefinition(id: "bms1", transport: rtu, unitID: 2, profile: TestSite.bmsProfile),
            ])
        var options = Self.options()
        options.serialDeviceOverrides = ["/dev/ttyUSB-configured": "\(base)-b"]
        options.initialCommands = [.freeze(on: true)]
        let server = try SimulatorServer(site: site, options: options, logger: Logger(label: "test"))
        let endpoints = try await server.start()
        #expect(endpoints.map(\.description) == ["rtu://\(base)-b units 1,2"])
        let state = try await server.state()
        let link = ModbusTestClient.Link.rtu(path: "\(base)-a")

        let pcs = await ModbusTestClient.read(link, unit: 1, kind: .holding, address: 110, count: 8)
        #expect(pcs.errno == 0)
        #expect(Self.decode(TestSite.pcsProfile, name: "serial_number", words: pcs.words, start: 110) == .text("SIM-PCS1-0001"))
        let bms = await ModbusTestClient.read(link, unit: 2, kind: .input, address: 0, count: 5)
        #expect(bms.errno == 0)
        #expect(Self.decode(TestSite.bmsProfile, name: "soc", words: bms.words, start: 0) == state.device("bms1")?.points["soc"])
        // A unit id nobody serves: silence, as on a real bus.
        let nobody = await ModbusTestClient.read(link, unit: 7, kind: .input, address: 0, count: 1, timeoutMS: 300)
        #expect(nobody.errno == ETIMEDOUT)
        let write = await ModbusTestClient.writeRegister(link, unit: 1, address: 100, value: 1)
        #expect(write.errno == ModbusTestClient.exceptionErrno(1))

        let statistics = await server.stop()
        #expect(statistics.ignoredFrames == 1)
        #expect(statistics.devices["pcs1"]?.writeAttempts == 1)
        #expect(statistics.badFrames == 0)
    }
}
