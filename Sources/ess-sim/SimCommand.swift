import ArgumentParser
import ESSConfig
import ESSCore
import ESSSimulator
import Foundation
import Logging

/// `ess-sim`: serves a site's devices from a simulated battery plant.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ess-sim",
        abstract: "Serve a believable battery plant over Modbus TCP/RTU, at each device's configured address and unit id.",
        discussion: """
            Prints "ess-sim ready: …" on stdout once listening; logs to stderr; exits 0 on SIGINT/SIGTERM \
            after printing the request and write-attempt counts.
            Commands read from stdin, one per line: delay DEVICE MS | exception DEVICE TABLE ADDRESS CODE | \
            clear DEVICE | silent DEVICE on|off | drop | freeze on|off | reset-counters DEVICE | state \
            (prints one JSON line).
            """)

    @Option(help: "Site configuration file (TOML).")
    var config: String

    @Option(help: "Real seconds one simulated day lasts (600 = a day in 10 minutes).")
    var daySeconds: Double = 86400

    @Option(help: "Time-of-use table, e.g. \"valley=0-8;peak=10-12,14-19\" (default: Guangdong).")
    var schedule: String?

    @Option(help: "Hour of the simulated day at start (default: local time of day for real-time days, 0 otherwise).")
    var startHour: Double?

    @Option(name: .customLong("start-soc"), help: "State of charge at start, %.")
    var startSoCPercent: Double = 50

    @Option(help: "Round-trip efficiency (0 < X ≤ 1).")
    var efficiency: Double = 0.90

    @Option(help: "Serial line to serve instead of a configured one: PATH (replaces the Nth distinct RTU line of the config) or CONFIGURED=PATH.")
    var rtuDevice: [String] = []

    @Flag(help: "Serve write requests (default: answer exception 1; attempts are counted either way).")
    var allowWrites = false

    @Option(help: "Answer a device late: DEVICE=MS.")
    var delay: [String] = []

    @Option(help: "Answer requests touching an address with an exception: DEVICE:TABLE:ADDRESS:CODE.")
    var exception: [String] = []

    @Option(help: "Never answer a device (a dead unit id).")
    var silent: [String] = []

    @Flag(help: "Start with values frozen.")
    var freeze = false

    @Option(help: "Close every client connection this often (seconds).")
    var dropEvery: Double?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        if daySeconds <= 0 { throw ValidationError("--day-seconds must be > 0") }
        if !(efficiency > 0 && efficiency <= 1) { throw ValidationError("--efficiency must be in (0, 1]") }
        if !(0...100).contains(startSoCPercent) { throw ValidationError("--start-soc must be 0...100") }
        if let h = startHour, !(0..<24).contains(h) { throw ValidationError("--start-hour must be 0 ..< 24") }
        if let d = dropEvery, d <= 0 { throw ValidationError("--drop-every must be > 0") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level '\(logLevel)' is not a log level") }
        do {
            _ = try simulatorOptions(rtuLines: [])
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws { try await runSimulator() }

    /// Loads the site, starts the server, prints the ready line, serves until SIGINT/SIGTERM.
    func runSimulator() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "ess-sim")
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])  // before anything can be interrupted
        let site: SiteConfiguration
        do {
            site = try ConfigurationLoader.loadSite(path: config)
        } catch {
            Output.error("ess-sim: configuration \(config) has problems:\n\(error)")
            throw ExitCode(78)
        }
        let server: SimulatorServer
        let endpoints: [SimulatorEndpoint]
        do {
            let options = try simulatorOptions(rtuLines: Self.rtuLines(of: site))
            server = try SimulatorServer(site: site, options: options, logger: logger)
            endpoints = try await server.start()
        } catch {
            Output.error("ess-sim: \(error)")
            throw ExitCode(70)
        }
        Output.line(SimulatorEndpoint.readyLine(endpoints))
        StdinCommandReader.start(server: server)
        let signal = await signals.next()
        logger.info("signal \(signal), stopping")
        let statistics = await server.stop()
        Output.line(statistics.summaryLine)
    }

    /// Distinct configured serial paths, in device order.
    static func rtuLines(of site: SiteConfiguration) -> [String] {
        var paths: [String] = []
        for device in site.devices {
            if case .rtu(let path, _, _, _, _) = device.transport, !paths.contains(path) { paths.append(path) }
        }
        return paths
    }

    func simulatorOptions(rtuLines: [String]) throws(SimulatorError) -> SimulatorOptions {
        var options = SimulatorOptions()
        options.daySeconds = daySeconds
        if let schedule { options.schedule = try TimeOfUseSchedule(parsing: schedule) }
        options.startHour = startHour ?? (daySeconds == 86400 ? Self.localHourOfDay() : 0)
        options.startSoCPercent = startSoCPercent
        options.roundTripEfficiency = efficiency
        options.allowWrites = allowWrites
        options.dropEverySeconds = dropEvery
        var commands: [SimulatorCommand] = []
        for text in delay { commands.append(try SimulatorCommand(delayOption: text)) }
        for text in exception { commands.append(try SimulatorCommand(exceptionOption: text)) }
        for id in silent { commands.append(.silent(device: id, on: true)) }
        if freeze { commands.append(.freeze(on: true)) }
        options.initialCommands = commands
        var positional = 0
        for text in rtuDevice {
            if let eq = text.firstIndex(of: "=") {
                options.serialDeviceOverrides[String(text[..<eq])] = String(text[text.index(after: eq)...])
            } else if rtuLines.isEmpty {
                continue  // checked again once the site is loaded
            } else if positional < rtuLines.count {
                options.serialDeviceOverrides[rtuLines[positional]] = text
                positional += 1
            } else {
                throw .invalidOption("--rtu-device \(text): the site has only \(rtuLines.count) serial line(s)")
            }
        }
        return options
    }

    static func localHourOfDay() -> Double {
        let c = Calendar.current.dateComponents([.hour, .minute, .second], from: Date())
        return Double(c.hour ?? 0) + Double(c.minute ?? 0) / 60 + Double(c.second ?? 0) / 3600
    }
}
