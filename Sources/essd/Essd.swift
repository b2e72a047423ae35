import ArgumentParser
import ESSConfig
import ESSCore
import ESSDaemon
import ESSModbus
import ESSStore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// essd: polls a storage site's controllers over Modbus and keeps their telemetry.
@main
struct Essd: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "essd",
        abstract: "Telemetry collector for battery energy-storage sites (Modbus TCP/RTU).",
        discussion: """
            Exit status 78 (EX_CONFIG): the configuration is invalid (every problem is printed); 73 (EX_CANTCREAT): \
            the store cannot be opened; 74 (EX_IOERR): the final checkpoint at stop failed (disk full, I/O error).
            """)

    @Option(name: .long, help: "Site configuration file.")
    var config: String = "/etc/essd/essd.toml"

    @Option(name: .customLong("check-config"), help: "Validate FILE, print every problem, exit 0 (valid) or 78.")
    var checkConfig: String?

    @Flag(name: .long, help: "Log one line per scan with the values of role points (demo, debugging).")
    var logScans = false

    @Option(name: .long, help: "Keep the store here instead of [store] state_directory (demos, tests).")
    var stateDirectory: String?

    @Option(name: .long, help: "Serve the status socket here instead of [daemon] status_socket.")
    var socketPath: String?

    @Option(name: .long, help: "Serve metrics on this port instead of [metrics] port.")
    var metricsPort: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        if let file = checkConfig {
            throw ExitCode(Self.check(file: file))
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of: trace, debug, info, notice, warning, error, critical")
        }
        // Under systemd: journald priority prefixes, no timestamps; on a terminal: readable lines.
        JournalLogHandler.bootstrap(level: level)
        let logger = Logger(label: "essd")
        let notifier = SystemdNotifier(logger: logger)
        let watchdog = WatchdogGate(notifier: notifier)
        var site: SiteConfiguration
        do {
            site = try SiteCheck.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("essd: invalid configuration:\n\(error)\n".utf8))
            throw ExitCode(78)
        }
        if let stateDirectory { site.stateDirectory = stateDirectory }
        let importOnly = site.devices.filter { !$0.isPolled }.map(\.id)
        guard importOnly.count < site.devices.count else {
            FileHandle.standardError.write(
                Data(
                    "essd: \(config): every device (\(importOnly.joined(separator: ", "))) is import-only (transport = \"none\"); there is nothing to poll. Load their history with essctl import csv; essctl kpi, check and export read the store without essd\n"
                        .utf8))
            throw ExitCode(78)
        }
        let store: ScanStore
        do {
            store = try ScanStore(site: site, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("essd: cannot open the store: \(error)\n".utf8))
            throw ExitCode(73)  // EX_CANTCREAT
        }
        let latestValues = LatestValues(devices: site.devices, meterDeviceID: site.store.meterDeviceID)
        // Every completed poll (good or failed) is progress for the watchdog.
        let identity = IdentityRecorder(devices: site.devices, directory: site.stateDirectory, logger: logger)
        // The store hears scans through the clock guard: at their true time after a clock excursion
        // or, with wait_for_clock_sync, once the clock is synchronised.
        let clockGuard = ClockGuardSink(
            downstream: store, settings: site.daemon, logger: logger,
            quarantine: { store.quarantine(fromMS: $0, toMS: $1, reason: $2) },
            recordStep: { store.noteClockStep(atMS: $0, stepMS: $1) })
        var sinks: [any ScanSink] = [clockGuard, latestValues, identity, WatchdogProgressSink(gate: watchdog)]
        if logScans { sinks.append(LoggingScanSink(devices: site.devices, logger: logger)) }
        let polling = PollingService(
            devices: site.devices, sink: FanOutScanSink(sinks), logger: logger, realtimePriority: site.daemon.realtimePriority)
        let engine = polling.engine
        let statusLine: @Sendable () -> String = {
            ServiceStatusText.format(
                devices: engine.statistics(), lastCheckpointMS: store.statistics().lastCheckpointMS,
                nowMS: Int64(Date().timeIntervalSince1970 * 1000))
        }
        let statusProvider = SiteStatusProvider(
            site: site, latestValues: latestValues,
            deviceStatistics: { engine.statistics() }, storeStatistics: { store.statistics() })
        let statusServer = StatusSocketServer(path: socketPath ?? site.statusSocketPath, provider: statusProvider, logger: logger)
        let reloader = SiteReloader(
            configPath: config, site: site, engine: engine, store: store, stateDirectoryOverride: stateDirectory,
            logger: logger)
        // Started in order, stopped in reverse: polling stops first, then the store drains.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StoreService(store: store)), .init(service: polling),
            .init(service: ThreadServerService(statusServer, logger: logger)),
            .init(service: ReloadService {
                notifier.reloading()
                if case .applied = reloader.reload() {
                    let new = reloader.site
                    latestValues.reconfigure(devices: new.devices, meterDeviceID: new.store.meterDeviceID)
                    identity.reconfigure(devices: new.devices)
                    statusProvider.update(site: new)
                }
                notifier.ready(status: statusLine())
            }),
        ]
        if let port = metricsPort ?? site.metricsPort {
            let siteID = site.site.id
            let metrics = MetricsServer(host: site.metricsListenAddress, port: port, logger: logger) {
                MetricsExposition.render(
                    MetricsSnapshot.collect(
                        version: Essd.version, siteID: siteID, latestValues: latestValues, statistics: engine.statistics(),
                        store: store.statistics(), nowMS: Int64(Date().timeIntervalSince1970 * 1000)))
            }
            services.append(.init(service: ThreadServerService(metrics, logger: logger)))
        }
        // Pollers are scheduled before READY=1; the notifier is last so it stops first
        // (STOPPING=1 goes out as soon as SIGTERM arrives).
        engine.start()
        services.append(.init(service: SystemdNotifyService(notifier: notifier, gate: watchdog, status: statusLine)))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info(
            "essd starting",
            metadata: [
                "site": "\(site.site.id)", "devices": "\(site.devices.count)",
                "import_only": "\(importOnly.isEmpty ? "none" : importOnly.joined(separator: ","))",
            ])
        do {
            try await group.run()
        } catch let error as StoreShutdownError {
            // Logged by the store at error; the exit status tells systemd it was not a clean stop.
            FileHandle.standardError.write(Data("essd: \(error)\n".utf8))
            throw ExitCode(74)  // EX_IOERR
        }
    }

    /// Validates a configuration file; returns the exit status.
    static func check(file: String) -> Int32 {
        do {
            let site = try SiteCheck.load(path: file)
            let points = site.devices.reduce(0) { $0 + $1.profile.points.count }
            print("\(file): valid: site \(site.site.id), \(site.devices.count) devices, \(points) points")
            return 0
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            FileHandle.standardError.write(Data("\(file): \(error.issues.count) problem(s); nothing was started\n".utf8))
            return 78
        }
    }
}
