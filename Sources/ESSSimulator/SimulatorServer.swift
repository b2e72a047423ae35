import ESSCore
import Foundation
import Logging

/// Serves a site's devices over real Modbus (libmodbus' server API) from a simulated battery
/// plant: TCP listeners per distinct host:port, unit ids routed to each device's mapping;
/// RTU serial lines with several unit ids; fault injection by commands.
///
/// Owns one dedicated thread, on which every libmodbus context lives and dies; callers talk to
/// it through a command queue and a wake-up pipe. Does not print: it logs through the given
/// `Logger` and returns reports.
public final class SimulatorServer: Sendable {
    public typealias Reply = @Sendable (SimulatorCommandResult) -> Void

    private struct Shared {
        var commands: [(SimulatorCommand, Reply)] = []
        var started = false
        var stopRequested = false
        var finalStatistics: SimulatorStatistics? = nil
        var stopWaiters: [CheckedContinuation<SimulatorStatistics, Never>] = []
    }

    public let site: SiteConfiguration
    public let options: SimulatorOptions
    private let logger: Logger
    private let wakeReadFD: Int32
    private let wakeWriteFD: Int32
    private let shared = LockedBox(Shared())

    /// Checks that every command in `options.initialCommands` names a device of the site.
    public init(site: SiteConfiguration, options: SimulatorOptions = SimulatorOptions(), logger: Logger) throws(SimulatorError) {
        let ids = site.devices.map(\.id)
        for command in options.initialCommands {
            if let id = command.deviceID, !ids.contains(id) { throw .unknownDevice(id, known: ids) }
        }
        if site.site.ratedPowerKW <= 0 || site.site.ratedEnergyKWh <= 0 {
            throw .invalidOption("the site's rated power and rated energy must be > 0 to simulate a battery")
        }
        guard let (r, w) = SystemCalls.nonBlockingPipe() else {
            throw .invalidOption("cannot create the server's wake-up pipe: \(SystemCalls.errorText(errno))")
        }
        self.site = site
        self.options = options
        self.logger = logger
        self.wakeReadFD = r
        self.wakeWriteFD = w
    }

    deinit {
        SystemCalls.close(wakeReadFD)
        SystemCalls.close(wakeWriteFD)
    }

    /// Starts the server thread, opens every listener and serial line, and returns where it
    /// serves (with the ports actually bound). Throws when one cannot be opened; then nothing
    /// stays open. Call once.
    public func start() async throws(SimulatorError) -> [SimulatorEndpoint] {
        let alreadyStarted = shared.withLock { s in
            defer { s.started = true }
            return s.started
        }
        if alreadyStarted { throw .invalidOption("SimulatorServer.start() called twice") }
        let result: Result<[SimulatorEndpoint], SimulatorError> = await withCheckedContinuation { continuation in
            let thread = Thread { [self] in self.threadMain(started: continuation) }
            thread.name = "ess-sim server"
            thread.start()
        }
        return try result.get()
    }

    /// Queues a command for the server thread; `reply` is called on that thread.
    public func send(_ command: SimulatorCommand, reply: @escaping Reply) {
        let accepted = shared.withLock { s -> Bool in
            guard s.started, s.finalStatistics == nil, !s.stopRequested else { return false }
            s.commands.append((command, reply))
            return true
        }
        if accepted { SystemCalls.wake(wakeWriteFD) } else { reply(.failed(.stopped)) }
    }

    /// Applies a command on the server thread and returns what it did.
    public func send(_ command: SimulatorCommand) async -> SimulatorCommandResult {
        await withCheckedContinuation { continuation in
            send(command) { continuation.resume(returning: $0) }
        }
    }

    /// The plant and every served point value now.
    public func state() async throws(SimulatorError) -> SimulatorStateReport {
        switch await send(.state) {
        case .state(let report): return report
        case .failed(let error): throw error
        case .done: throw .stopped
        }
    }

    /// Closes every client, listener and serial line, ends the thread, and returns the final
    /// counts. Safe to call more than once, and before `start()` finished.
    public func stop() async -> SimulatorStatistics {
        await withCheckedContinuation { continuation in
            let finished = shared.withLock { s -> SimulatorStatistics? in
                s.stopRequested = true
                if let stats = s.finalStatistics { return stats }
                if !s.started {
                    s.finalStatistics = SimulatorStatistics()
                    return s.finalStatistics
                }
                s.stopWaiters.append(continuation)
                return nil
            }
            if let finished { continuation.resume(returning: finished) } else { SystemCalls.wake(wakeWriteFD) }
        }
    }

    private func threadMain(started: CheckedContinuation<Result<[SimulatorEndpoint], SimulatorError>, Never>) {
        let loop = ServerLoop(site: site, options: options, logger: logger, wakeFD: wakeReadFD)
        let endpoints: [SimulatorEndpoint]
        do {
            endpoints = try loop.open()
        } catch {
            logger.error("cannot start: \(error)")
            finish(SimulatorStatistics())
            started.resume(returning: .failure(error))
            return
        }
        logger.info("serving", metadata: ["endpoints": "\(endpoints.map(\.description).joined(separator: "; "))"])
        started.resume(returning: .success(endpoints))
        loop.run {
            shared.withLock { s in
                defer { s.commands = [] }
                return (s.commands, s.stopRequested)
            }
        }
        let statistics = loop.finalStatistics()
        loop.close()
        logger.info("stopped", metadata: ["summary": "\(statistics.summaryLine)"])
        finish(statistics)
    }

    private func finish(_ statistics: SimulatorStatistics) {
        let (waiters, leftover) = shared.withLock { s in
            s.finalStatistics = statistics
            defer {
                s.stopWaiters = []
                s.commands = []
            }
            return (s.stopWaiters, s.commands)
        }
        for (_, reply) in leftover { reply(.failed(.stopped)) }
        for waiter in waiters { waiter.resume(returning: statistics) }
    }
}
