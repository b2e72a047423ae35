public import ESSCore
public import ESSModbus
public import Logging
public import ServiceLifecycle

/// The poll engine as a service of essd's `ServiceGroup`: polls from `run()` until graceful
/// shutdown, then stops the polling threads and closes the connections.
public struct PollingService: Service {
    public let engine: PollEngine

    public init(devices: [DeviceDefinition], sink: any ScanSink, logger: Logger, realtimePriority: Int? = nil) {
        engine = PollEngine(devices: devices, sink: sink, logger: logger, realtimePriority: realtimePriority)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await engine.run()
        }
    }
}
