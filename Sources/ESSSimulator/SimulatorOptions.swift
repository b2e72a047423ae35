import ESSCore

/// How the simulator runs a site: the plant's schedule and start, which faults apply from the
/// start, and whether writes are served. Plain values; `SimulatorServer` uses them.
public struct SimulatorOptions: Sendable, Hashable {
    /// Real seconds one simulated day lasts (86400 = real time; 600 = a day in 10 minutes).
    public var daySeconds: Double = 86400
    public var schedule: TimeOfUseSchedule = .guangdong
    /// Hour of the simulated day at start (0 ..< 24).
    public var startHour: Double = 0
    public var startSoCPercent: Double = 50
    public var roundTripEfficiency: Double = 0.90
    public var ambientTempC: Double = 25
    /// Serve FC 5, 6, 15, 16, 22, 23 (otherwise answer exception 1). Attempts are counted either way.
    public var allowWrites = false
    /// Serial device to open instead of a configured one: configured path → actual path
    /// (e.g. "/dev/ttyUSB0" → "/tmp/ess-sim-b", one end of a socat pty pair).
    public var serialDeviceOverrides: [String: String] = [:]
    /// Faults and other commands applied before the first request.
    public var initialCommands: [SimulatorCommand] = []
    /// Close every client connection this often, if set.
    public var dropEverySeconds: Double? = nil
    /// How often the register images are refreshed from the plant.
    public var updateIntervalMS: Int = 100

    public init() {}

    /// The plant the site describes, with these options' efficiency and ambient temperature.
    public func plantParameters(for site: SiteFacts) -> PlantParameters {
        PlantParameters(
            ratedPowerKW: site.ratedPowerKW, ratedEnergyKWh: site.ratedEnergyKWh,
            roundTripEfficiency: roundTripEfficiency, ambientTempC: ambientTempC)
    }
}

/// One listening socket or serial line and the unit ids served on it.
public struct SimulatorEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// "tcp://127.0.0.1:15020" (with the port actually bound) or "rtu:///tmp/ess-sim-b".
    public var address: String
    /// The TCP port actually bound (differs from the configured one when that was 0).
    public var port: Int?
    public var unitIDs: [Int]

    public init(address: String, port: Int?, unitIDs: [Int]) {
        self.address = address
        self.port = port
        self.unitIDs = unitIDs
    }

    /// "tcp://127.0.0.1:15020 units 1,2" or "… unit 1".
    public var description: String {
        "\(address) \(unitIDs.count == 1 ? "unit" : "units") \(unitIDs.map(String.init).joined(separator: ","))"
    }

    /// "ess-sim ready: tcp://127.0.0.1:15020 units 1,2; tcp://127.0.0.1:15021 unit 1".
    public static func readyLine(_ endpoints: [SimulatorEndpoint]) -> String {
        "ess-sim ready: " + endpoints.map(\.description).joined(separator: "; ")
    }
}

/// Counts of what the clients asked. Write attempts prove that a poller never writes.
public struct SimulatorStatistics: Sendable, Hashable, Codable {
    /// Per device, by device id.
    public struct Device: Sendable, Hashable, Codable {
        public var requests = 0
        public var writeAttempts = 0
        public var exceptionsInjected = 0
        public var silentDrops = 0
    }

    public var devices: [String: Device] = [:]
    public var connectionsAccepted = 0
    /// TCP requests for a unit id no device has (answered with exception 11).
    public var unknownUnitRequests = 0
    /// RTU frames with a bad CRC or unknown function code, TCP frames libmodbus rejected.
    public var badFrames = 0
    /// Good RTU frames for unit ids not served (a real bus ignores them).
    public var ignoredFrames = 0

    public init() {}

    public var requests: Int { devices.values.reduce(0) { $0 + $1.requests } }
    public var writeAttempts: Int { devices.values.reduce(0) { $0 + $1.writeAttempts } }

    /// "ess-sim stopped: requests=120 write_attempts=0 bad_frames=0 unknown_unit=0 ignored_frames=0 (bms1 writes 0, …)".
    public var summaryLine: String {
        let perDevice = devices.keys.sorted().map { "\($0) writes \(devices[$0]!.writeAttempts)" }.joined(separator: ", ")
        return "ess-sim stopped: requests=\(requests) write_attempts=\(writeAttempts) bad_frames=\(badFrames) "
            + "unknown_unit=\(unknownUnitRequests) ignored_frames=\(ignoredFrames) connections=\(connectionsAccepted)"
            + (perDevice.isEmpty ? "" : " (\(perDevice))")
    }
}
