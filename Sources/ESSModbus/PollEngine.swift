public import ESSCore
public import Logging
import Foundation
import Synchronization

/// Polls every device of a site, each on its own schedule, and hands scans to a sink.
///
/// Devices are grouped by link: every TCP device gets its own connection and thread (so a
/// dead device can never delay another), and the devices of one RTU serial bus share that
/// bus's connection and thread (a serial line carries one request at a time), where a dead
/// slave costs at most its own response timeout per cycle.
public final class PollEngine: Sendable {
    private let pollers: [ConnectionPoller]
    private let state = Mutex<State>(.idle)
    private let logger: Logger

    private enum State { case idle, running, stopped }

    public init(devices: [DeviceDefinition], sink: any ScanSink, logger: Logger, reconnect: ReconnectPolicy = ReconnectPolicy()) {
        self.logger = logger
        var groups: [(Transport, [DeviceDefinition])] = []
        for device in devices {
            if case .rtu = device.transport, let k = groups.firstIndex(where: { $0.0.endpoint == device.transport.endpoint }) {
                groups[k].1.append(device)
            } else {
                groups.append((device.transport, [device]))
            }
        }
        pollers = groups.map {
            ConnectionPoller(transport: $0.0, devices: $0.1, sink: sink, logger: logger, policy: reconnect)
        }
    }

    /// Number of links (and polling threads).
    public var connectionCount: Int { pollers.count }

    /// Starts one thread per link. Returns at once.
    public func start() {
        let shouldStart = state.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .running
            return true
        }
        guard shouldStart else { return }
        for poller in pollers { poller.start() }
        logger.info(
            "polling started",
            metadata: ["devices": "\(pollers.reduce(0) { $0 + $1.devices.count })", "connections": "\(pollers.count)"])
    }

    /// Stops every thread after its current request and closes the connections. Blocks
    /// for at most the longest response timeout in flight.
    public func stop() {
        let wasRunning = state.withLock { state -> Bool in
            defer { state = .stopped }
            if case .running = state { return true }
            return false
        }
        guard wasRunning else { return }
        for poller in pollers { poller.requestStop() }
        for poller in pollers { poller.waitUntilStopped() }
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
    public func statistics() -> [DeviceStatistics] { pollers.flatMap { $0.statistics() } }
}
