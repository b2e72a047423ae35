public import ESSStore
public import ServiceLifecycle
import Foundation

/// The store as a service: its thread runs from `run()` until graceful shutdown; then it
/// drains the scans still queued, writes the open slots and checkpoints. Put it before the
/// polling service in the group so it stops after polling has. When the final checkpoint
/// fails, `run()` throws `StoreShutdownError` so that essd exits non-zero.
public struct StoreService: Service {
    public let store: ScanStore

    public init(store: ScanStore) { self.store = store }

    public func run() async throws {
        store.start()
        try? await gracefulShutdown()
        // Draining and the final checkpoint block: do them off the cooperative pool.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { [store] in
                store.stop()
                done.resume()
            }
        }
        if let error = store.statistics().stopError {
            throw StoreShutdownError(directory: store.directory, reason: "\(error)")
        }
    }
}

/// The store could not write its final checkpoint at shutdown (disk full, I/O error): what was
/// stored since the previous checkpoint is not durable. essd exits 74 (EX_IOERR) on it.
public struct StoreShutdownError: Error, CustomStringConvertible {
    public var directory: String
    public var reason: String

    public var description: String {
        "the final checkpoint of the store in \(directory) failed (\(reason)); rows since the previous checkpoint "
            + "may be lost: free space or repair the file system, then start essd again"
    }
}
