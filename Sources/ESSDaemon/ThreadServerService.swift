public import Logging
public import ServiceLifecycle

/// Runs a thread-based server (`StatusSocketServer`, `MetricsServer`) as a service of essd's
/// `ServiceGroup`: starts it in `run()`, stops it on graceful shutdown. Owns no socket itself.
///
/// A server that cannot start (socket path not writable, port taken) is logged as an error
/// and essd keeps polling and storing: monitoring is secondary to collecting the data.
public struct ThreadServerService: Service {
    private let name: String
    private let start: @Sendable () throws -> Void
    private let stop: @Sendable () -> Void
    private let logger: Logger?

    public init(name: String, logger: Logger? = nil, start: @escaping @Sendable () throws -> Void, stop: @escaping @Sendable () -> Void) {
        self.name = name
        self.logger = logger
        self.start = start
        self.stop = stop
    }

    public init(_ server: StatusSocketServer, logger: Logger? = nil) {
        self.init(name: "status socket", logger: logger, start: { try server.start() }, stop: { server.stop() })
    }

    public init(_ server: MetricsServer, logger: Logger? = nil) {
        self.init(name: "metrics endpoint", logger: logger, start: { try server.start() }, stop: { server.stop() })
    }

    public func run() async throws {
        do {
            try start()
        } catch {
            guard let logger else { throw error }
            logger.error("\(name) not started; essd keeps polling and storing", metadata: ["error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        try? await gracefulShutdown()
        stop()  // shutdown(2) wakes the accept thread at once: stop() returns quickly
    }
}
