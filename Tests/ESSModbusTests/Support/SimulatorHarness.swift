import ESSConfig
import ESSCore
import ESSTestSupport
import Foundation

/// A running `ess-sim` serving a three-device site (pcs1 and bms1 behind one TCP port as
/// units 1 and 2, ems1 on a second port) on free loopback ports, with the site loaded as
/// essd sees it. Stops the simulator and removes its files when released.
final class SimulatorHarness {
    let directory: URL
    let site: SiteConfiguration
    let process: ChildProcess
    let ports: [Int]

    /// - Parameters:
    ///   - rtu: when given, pcs1 and bms1 are RTU slaves on this serial line instead of TCP
    ///     (`simulatorSide` for the simulator's config, `essdSide` for essd's).
    init(rtu: (simulatorSide: String, essdSide: String)? = nil, extraArguments: [String] = [], pollIntervalMS: Int = 500) throws {
        directory = try TestEnvironment.temporaryDirectory("essd-sim")
        ports = [TestEnvironment.freePort(), TestEnvironment.freePort()]
        let simulatorFile = directory.appendingPathComponent("sim-site.toml")
        let essdFile = directory.appendingPathComponent("essd-site.toml")
        try Self.siteText(ports: ports, serial: rtu?.simulatorSide, pollIntervalMS: pollIntervalMS)
            .write(to: simulatorFile, atomically: true, encoding: .utf8)
        try Self.siteText(ports: ports, serial: rtu?.essdSide, pollIntervalMS: pollIntervalMS)
            .write(to: essdFile, atomically: true, encoding: .utf8)
        site = try ConfigurationLoader.loadSite(path: essdFile.path)
        process = try ChildProcess(
            TestEnvironment.product("ess-sim"), ["--config", simulatorFile.path] + extraArguments, name: "ess-sim")
        try process.waitForLine(containing: "ess-sim ready")
    }

    deinit {
        process.terminate()
        try? FileManager.default.removeItem(at: directory)
    }

    func device(_ id: String) -> DeviceDefinition { site.devices.first { $0.id == id }! }

    /// Asks the simulator for its state and returns each device's served point values by name.
    func state() throws -> [String: [String: Any]] {
        let line = try process.request("state", reply: "{")
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        guard let root = object as? [String: Any], let devices = root["devices"] as? [[String: Any]] else {
            throw TestFailure("unexpected state line: \(line)")
        }
        var result: [String: [String: Any]] = [:]
        for device in devices {
            if let id = device["id"] as? String, let points = device["points"] as? [String: Any] { result[id] = points }
        }
        return result
    }

    static func siteText(ports: [Int], serial: String?, pollIntervalMS: Int) -> String {
        let profiles = TestEnvironment.repository.appendingPathComponent("Config/profiles").path
        func link(_ unit: Int) -> String {
            if let serial {
                return """
                    transport = "rtu"
                    serial_device = "\(serial)"
                    baud = 115200
                    parity = "none"
                    data_bits = 8
                    stop_bits = 1
                    unit_id = \(unit)
                    """
            }
            return """
                transport = "tcp"
                host = "127.0.0.1"
                port = \(ports[0])
                unit_id = \(unit)
                """
        }
        return """
            profile_directory = "\(profiles)"

            [site]
            id = "test-site"
            name = "integration test plant"
            province = "guangdong"
            rated_power_kw = 100.0
            rated_energy_kwh = 5.0
            technology_route = "lithium_iron_phosphate"
            location_category = "industrial_plant"
            total_investment_cny = 1000000.0
            commissioning_date = 2025-06-30
            time_zone = "Asia/Shanghai"

            [store]
            state_directory = "/tmp/essd-test-state"

            [[device]]
            id = "pcs1"
            profile = "ess-sim-pcs"
            \(link(1))
            poll_interval_ms = \(pollIntervalMS)
            response_timeout_ms = 300

            [[device]]
            id = "bms1"
            profile = "ess-sim-bms"
            \(link(2))
            poll_interval_ms = \(pollIntervalMS)
            response_timeout_ms = 300

            [[device]]
            id = "ems1"
            profile = "ess-sim-ems"
            transport = "tcp"
            host = "127.0.0.1"
            port = \(ports[1])
            unit_id = 1
            poll_interval_ms = \(pollIntervalMS)
            response_timeout_ms = 300

            """
    }
}

/// A `socat` pseudo-terminal pair: bytes written to one end come out of the other, like a
/// serial cable. Removed when released.
final class PseudoTerminalPair {
    let process: ChildProcess
    let endA: String
    let endB: String

    init() throws {
        guard let socat = TestEnvironment.which("socat") else {
            throw TestFailure("socat is not installed (apt-get install socat)")
        }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("essd-pty-\(UUID().uuidString.prefix(8))").path
        endA = base + "-a"
        endB = base + "-b"
        process = try ChildProcess(
            socat, ["-d", "-d", "pty,raw,echo=0,link=\(endA)", "pty,raw,echo=0,link=\(endB)"], name: "socat")
        let deadline = Date().addingTimeInterval(10)
        while !(FileManager.default.fileExists(atPath: endA) && FileManager.default.fileExists(atPath: endB)) {
            guard Date() < deadline else { throw TestFailure("socat made no pty pair: \(process.standardError)") }
            usleep(20_000)
        }
    }

    deinit { process.terminate() }
}
