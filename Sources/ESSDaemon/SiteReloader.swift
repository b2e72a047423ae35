public import ESSConfig
public import ESSCore
public import ESSModbus
public import ESSStore
import Foundation
public import Logging
import Synchronization

/// Applies a re-read configuration to a running daemon (SIGHUP): validate everything first;
/// if valid, migrate the store to the new schema, then change the pollers (unaffected links
/// keep polling); if anything is invalid or refused, keep running on the old configuration
/// and log every error.
public final class SiteReloader: Sendable {
    public let configPath: String
    private let current: Mutex<SiteConfiguration>
    private let engine: PollEngine
    private let store: ScanStore
    private let logger: Logger
    private let stateDirectoryOverride: String?

    public init(
        configPath: String, site: SiteConfiguration, engine: PollEngine, store: ScanStore, stateDirectoryOverride: String?,
        logger: Logger
    ) {
        self.configPath = configPath
        current = Mutex(site)
        self.engine = engine
        self.store = store
        self.stateDirectoryOverride = stateDirectoryOverride
        self.logger = logger
    }

    /// The configuration in force.
    public var site: SiteConfiguration { current.withLock { $0 } }

    /// Outcome of a reload, for logs and the STATUS line.
    public enum Outcome: Sendable, Equatable {
        case applied(kept: Int, stopped: Int, started: Int)
        case unchanged
        case rejected(String)
    }

    /// Re-reads and applies the configuration. Blocks (store migration, stopping links):
    /// call it from a thread of its own, not from Swift's cooperative pool.
    @discardableResult
    public func reload() -> Outcome {
        var next: SiteConfiguration
        do {
            next = try SiteCheck.load(path: configPath)
        } catch {
            for issue in error.issues { logger.error("reload: \(issue)") }
            logger.error("reload rejected: configuration invalid; still running on the previous one", metadata: ["problems": "\(error.issues.count)"])
            return .rejected("\(error.issues.count) configuration problem(s)")
        }
        if let stateDirectoryOverride { next.stateDirectory = stateDirectoryOverride }
        let old = site
        if next == old {
            logger.info("reload: configuration unchanged")
            return .unchanged
        }
        if !next.devices.contains(where: \.isPolled) {
            logger.error(
                "reload rejected: every device is import-only (transport = \"none\"): nothing would be polled; still running on the previous configuration")
            return .rejected("no device to poll")
        }
        if next.site.id != old.site.id {
            logger.error("reload rejected: site id changed from \(old.site.id) to \(next.site.id); a store belongs to one site")
            return .rejected("site id changed")
        }
        do {
            try store.reconfigure(site: next)
        } catch {
            logger.error("reload rejected by the store; still running on the previous configuration", metadata: ["error": "\(error)"])
            return .rejected("\(error)")
        }
        let (kept, stopped, started) = engine.apply(devices: next.devices)
        current.withLock { $0 = next }
        logger.notice("reload applied", metadata: ["kept": "\(kept)", "stopped": "\(stopped)", "started": "\(started)"])
        return .applied(kept: kept, stopped: stopped, started: started)
    }
}
