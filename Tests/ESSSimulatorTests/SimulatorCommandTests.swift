import ESSCore
import Testing

@testable import ESSSimulator

@Suite("Simulator commands")
struct SimulatorCommandTests {
    @Test(
        arguments: [
            ("delay bms1 800", SimulatorCommand.delay(device: "bms1", ms: 800)),
            ("exception pcs1 holding 100 2", .exception(device: "pcs1", table: .holding, address: 100, code: 2)),
            ("clear pcs1", .clear(device: "pcs1")),
            ("silent bms1 on", .silent(device: "bms1", on: true)),
            ("silent  bms1\toff", .silent(device: "bms1", on: false)),
            ("drop", .drop),
            ("freeze on", .freeze(on: true)),
            ("reset-counters pcs1", .resetCounters(device: "pcs1")),
            ("state", .state),
        ])
    func parses(line: String, expected: SimulatorCommand) throws {
        #expect(try SimulatorCommand(parsing: line) == expected)
    }

    @Test(
        arguments: [
            "", "bogus", "delay bms1", "delay bms1 -5", "exception pcs1 register 1 2", "exception pcs1 holding 70000 2",
            "exception pcs1 holding 1 12", "silent bms1 maybe", "state now",
        ])
    func rejects(line: String) {
        #expect(throws: SimulatorError.self) { try SimulatorCommand(parsing: line) }
    }

    @Test func options() throws {
        #expect(try SimulatorCommand(delayOption: "bms1=250") == .delay(device: "bms1", ms: 250))
        #expect(try SimulatorCommand(exceptionOption: "pcs1:input:3:6") == .exception(device: "pcs1", table: .input, address: 3, code: 6))
        #expect(throws: SimulatorError.self) { try SimulatorCommand(delayOption: "bms1") }
        #expect(throws: SimulatorError.self) { try SimulatorCommand(exceptionOption: "pcs1:input:3") }
    }

    @Test func readyLine() {
        let line = SimulatorEndpoint.readyLine([
            SimulatorEndpoint(address: "tcp://127.0.0.1:15020", port: 15020, unitIDs: [1, 2]),
            SimulatorEndpoint(address: "tcp://127.0.0.1:15021", port: 15021, unitIDs: [1]),
        ])
        #expect(line == "ess-sim ready: tcp://127.0.0.1:15020 units 1,2; tcp://127.0.0.1:15021 unit 1")
    }
}
