import ESSCore
import ESSTestSupport
import Foundation

/// A running `Tests/Peers/hostile_peer.py` (plain Python, no Modbus library): units 1 and 2
/// behind one endpoint, unit 2 answering according to `mode`. Stopped when released.
final class HostilePeer {
    let process: ChildProcess
    let transport: Transport

    /// - Parameter serial: one end of a pty pair to serve RTU on; nil for TCP on a free port.
    init(
        mode: String, serial: (peerSide: String, essdSide: String)? = nil, pauseMS: Int = 50, extraArguments: [String] = []
    ) throws {
        guard let python = TestEnvironment.which("python3") else { throw TestFailure("python3 is not installed") }
        let script = TestEnvironment.repository.appendingPathComponent("Tests/Peers/hostile_peer.py").path
        var arguments = [script, "--hostile-unit", "2", "--mode", mode, "--pause-ms", "\(pauseMS)"]
        if let serial {
            arguments += ["--serial", serial.peerSide]
            transport = .rtu(device: serial.essdSide, baud: 115200, parity: .none, dataBits: 8, stopBits: 1)
        } else {
            let port = TestEnvironment.freePort()
            arguments += ["--port", "\(port)"]
            transport = .tcp(host: "127.0.0.1", port: port)
        }
        process = try ChildProcess(python, arguments + extraArguments, name: "hostile-peer")
        try process.waitForLine(containing: "hostile peer ready")
    }

    deinit { process.terminate() }

    /// Holding registers 100..<104 (uint16) and coils 10..<18: one register read and one bit
    /// read per cycle.
    static let profile = RegisterProfile(
        name: "hostile-test",
        points: (0..<4).map { PointDefinition(name: "r\(100 + $0)", kind: .holding, address: 100 + $0) }
            + (0..<8).map { PointDefinition(name: "c\(10 + $0)", kind: .coil, address: 10 + $0, type: .bool) })

    /// What a correct answer of `unit` holds for each point of `profile`, from the peer's
    /// documented image (register a: 1000 * unit + a; coil a: (a + unit) % 2).
    static func expectedValues(unit: Int) -> [Double] {
        profile.points.map { point in
            point.kind == .holding ? Double(1000 * unit + point.address) : Double((point.address + unit) % 2)
        }
    }

    func device(_ id: String, unit: Int, pollIntervalMS: Int = 500) -> DeviceDefinition {
        DeviceDefinition(
            id: id, transport: transport, unitID: unit, profile: Self.profile, pollIntervalMS: pollIntervalMS,
            responseTimeoutMS: 300)
    }
}
