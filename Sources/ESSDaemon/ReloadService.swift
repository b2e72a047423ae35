import Foundation
public import ServiceLifecycle
import UnixSignals

/// Turns SIGHUP into reloads, one at a time, until graceful shutdown. The reload itself runs
/// on a thread of its own (it blocks on the store and on stopping links).
public struct ReloadService: Service {
    private let reload: @Sendable () -> Void

    /// - Parameter reload: called once per SIGHUP, off the cooperative pool.
    public init(reload: @escaping @Sendable () -> Void) { self.reload = reload }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    Thread.detachNewThread { [reload] in
                        reload()
                        done.resume()
                    }
                }
            }
        }
    }
}
