public import ESSCore
public import Logging
import Foundation
import Synchronization

/// Polls every device of a site, each on its own schedule, and hands scans to a sink;
/// import-only devices (`Transport.importOnly`) are skipped: no thread, no connection, no
/// statistics.
///
/// Devices are grouped by link: every TCP device gets its own connection and thread (so a
/// dead device can never delay another), and the devices of one RTU serial bus share that
/// bus's connection and thread (a serial line carries one request at a time), where a dead
/// slave costs at most its own response timeout per cycle.
///
/// `apply(devices:)` changes the device list while running: links whose devices are
/// unchanged keep polling untouched; removed or changed links stop, new ones start.
public final class PollEngine: Sendable {
    private struct State {
        var phase = Phase.idle
        var pollers: [ConnectionPoller] = []
    }

    private enum Phase { case idle, running, stopped }

    private let state: Mutex<State>
    private let logger: Logger
    private let sink: any ScanSink
    private let reconnect: ReconnectPolicy
    private let realtimePriority: Int?

    /// - Parameter realtimePriority: when set, polling threads run under SCHED_FIFO at this
    ///   priority (1...99), so a busy machine cannot delay a poll start by a scheduler tick.
    public init(
        devices: [DeviceDefinition], sink: any ScanSink, logger: Logger, reconnect: ReconnectPolicy = ReconnectPolicy(),
        realtimePriority: Int? = nil
    ) {
        self.logger = logger
        self.sink = sink
        self.reconnect = reconnect
        self.realtimePriority = realtimePriority
        var initial = State()
        initial.pollers = Self.groups(devices).map {
            ConnectionPoller(
                transport: $0.transport, devices: $0.devices, sink: sink, logger: logger, policy: reconnect,
                realtimePriority: realtimePriority)
        }
        state = Mutex(initial)
    }

    /// Devices grouped by link: one group per TCP device, one per RTU serial device.
    /// Import-only devices (`transport = "none"`) have no link and are never polled.
    static func groups(_ devices: [DeviceDefinition]) -> [(transport: Transport, devices: [DeviceDefinition])] {
        var groups: [(transport: Transport, devices: [DeviceDefinition])] = []
        for device in devices where device.isPolled {
            if case .rtu = device.transport,
                let k = groups.firstIndex(where: { $0.transport.endpoint == device.transport.endpoint })
            {
                groups[k].devices.append(device)
            } else {
                groups.append((device.transport, [device]))
            }
        }
        return groups
    }

    /// Number of links (and polling threads).
    public var connectionCount: Int { state.withLock { $0.pollers.count } }

    /// Starts one thread per link. Returns at once.
    public func start() {
        let started = state.withLock { state -> [ConnectionPoller]? in
            guard case .idle = state.phase else { return nil }
            state.phase = .running
            return state.pollers
        }
        guard let started else { return }
        for poller in started { poller.start() }
        logger.info(
            "polling started",
            metadata: ["devices": "\(started.reduce(0) { $0 + $1.devices.count })", "connections": "\(started.count)"])
    }

    /// Replaces the device list. Links whose transport and devices are unchanged keep running;
    /// the others are stopped (after their current request) and new ones started. Blocks for
    /// at most the longest response timeout of a stopping link. Returns (kept, stopped, started).
    @discardableResult
    public func apply(devices: [DeviceDefinition]) -> (kept: Int, stopped: Int, started: Int) {
        let wanted = Self.groups(devices)
        let (keep, stop, start, running) = state.withLock {
            state -> ([ConnectionPoller], [ConnectionPoller], [ConnectionPoller], Bool) in
            var keep: [ConnectionPoller] = []
            var stop: [ConnectionPoller] = []
            var unmatched = wanted
            for poller in state.pollers {
                if let k = unmatched.firstIndex(where: { $0.transport == poller.transport && $0.devices == poller.devices }) {
                    keep.append(poller)
                    unmatched.remove(at: k)
                } else {
                    stop.append(poller)
                }
            }
            let start = unmatched.map {
                ConnectionPoller(
                    transport: $0.transport, devices: $0.devices, sink: sink, logger: logger, policy: reconnect,
                    realtimePriority: realtimePriority)
            }
            state.pollers = keep + start
            return (keep, stop, start, state.phase == .running)
        }
        if running {
            for poller in stop { poller.requestStop() }
            for poller in stop { poller.waitUntilStopped() }
            for poller in start { poller.start() }
        }
        logger.info(
            "device list applied", metadata: ["kept": "\(keep.count)", "stopped": "\(stop.count)", "started": "\(start.count)"])
        return (keep.count, stop.count, start.count)
    }

    /// Stops every thread after its current request and closes the connections. Blocks
    /// for at most the longest response timeout in flight.
    public func stop() {
        let running = state.withLock { state -> [ConnectionPoller] in
            defer { state.phase = .stopped }
            return state.phase == .running ? state.pollers : []
        }
        guard !running.isEmpty else { return }
        for poller in running { poller.requestStop() }
        for poller in running { poller.waitUntilStopped() }
        logger.info("polling stopped")
    }

    /// Starts polling and keeps it running until the calling task is cancelled.
    public func run() async {
        start()
        let (stream, continuation) = AsyncStream<Never>.makeStream()
        await withTaskCancellationHandler {
            for await _ in stream {}
        } onCancel: {
            continuation.finish()
        }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            // Joining threads blocks: do it off the cooperative pool.
            Thread.detachNewThread { [self] in
                stop()
                done.resume()
            }
        }
    }

    /// A snapshot of every device's statistics, in configuration order within each link.
    public func statistics() -> [DeviceStatistics] {
        state.withLock { $0.pollers }.flatMap { $0.statistics() }
    }

    /// The oldest "last cycle completed" instant (monotonic ns) over all links, or nil before
    /// every link has completed a cycle: the watchdog pings only while every link progresses.
    public func oldestProgressMonotonicNS() -> Int64? {
        let pollers = state.withLock { $0.pollers }
        var oldest: Int64? = nil
        for poller in pollers {
            guard let last = poller.lastProgressMonotonicNS() else { return nil }
            oldest = min(oldest ?? last, last)
        }
        return oldest
    }
}
