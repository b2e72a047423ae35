public import ESSStore
public import ServiceLifecycle
import Foundation

/// The store as a service: its thread runs from `run()` until graceful shutdown; then it
/// drains the scans still queued, writes the open slots and checkpoints. Put it before the
/// polling service in the group so it stops after polling has.
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
    }
}
