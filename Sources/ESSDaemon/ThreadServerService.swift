public import ServiceLifecycle

/// Runs a thread-based server (`StatusSocketServer`, `MetricsServer`) as a service of essd's
/// `ServiceGroup`: starts it in `run()`, stops it on graceful shutdown. Owns no socket itself.
public struct ThreadServerService: Service {
    private let start: @Sendable () throws -> Void
    private let stop: @Sendable () -> Void

    public init(start: @escaping @Sendable () throws -> Void, stop: @escaping @Sendable () -> Void) {
        self.start = start
        self.stop = stop
    }

    public init(_ server: StatusSocketServer) {
        self.init(start: { try server.start() }, stop: { server.stop() })
    }

    public init(_ server: MetricsServer) {
        self.init(start: { try server.start() }, stop: { server.stop() })
    }

    public func run() async throws {
        try start()
        try? await gracefulShutdown()
        stop()  // shutdown(2) wakes the accept thread at once: stop() returns quickly
    }
}
