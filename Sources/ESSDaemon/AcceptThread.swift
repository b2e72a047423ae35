import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A listening socket and the one thread that accepts on it (never Swift's cooperative pool),
/// shared by the status socket and the metrics endpoint. Owns the listener from `start` to
/// `stop`, retries transient accept failures (aborted connections; out of descriptors or
/// memory, after 100 ms) and logs the rest; what happens to a client is the caller's `handle`,
/// which owns closing it.
final class AcceptThread: Sendable {
    private struct State {
        var listener: Int32 = -1
        var stopping = false
        var done: DispatchSemaphore?
    }
    private let state = Mutex(State())
    /// The thread's name, e.g. "essd-status".
    let threadName: String
    /// What it serves, for logs and errors, e.g. "status socket".
    let role: String
    /// The address, for errors.
    let target: String
    private let logger: Logger

    init(threadName: String, role: String, target: String, logger: Logger) {
        self.threadName = threadName
        self.role = role
        self.target = target
        self.logger = logger
    }

    /// True once `stop()` was asked.
    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Takes `listener` (bound and listening) and starts the thread; `handle` runs on it for
    /// every accepted client.
    func start(listener: Int32, handle: @escaping @Sendable (Int32) -> Void) {
        let done = DispatchSemaphore(value: 0)
        state.withLock {
            $0.listener = listener
            $0.stopping = false
            $0.done = done
        }
        let thread = Thread { [self] in
            acceptLoop(listener, handle: handle)
            done.signal()
        }
        thread.name = threadName
        thread.start()
    }

    /// Stops accepting, waits for the thread (and the `handle` call in progress) and closes the
    /// listener. False when it was not running.
    @discardableResult
    func stop() -> Bool {
        let (fd, done) = state.withLock { state -> (Int32, DispatchSemaphore?) in
            state.stopping = true
            defer {
                state.listener = -1
                state.done = nil
            }
            return (state.listener, state.done)
        }
        guard fd >= 0 else { return false }
        SocketCalls.shutdown(fd)
        done?.wait()
        SocketCalls.close(fd)
        return true
    }

    private func acceptLoop(_ listener: Int32, handle: @Sendable (Int32) -> Void) {
        while true {
            let client: Int32
            do {
                client = try SocketCalls.accept(listener, target: target)
            } catch {
                if isStopping { return }
                switch error.errorNumber {
                case ECONNABORTED:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    logger.warning("\(role) cannot accept", metadata: ["error": "\(error)"])
                    usleep(100_000)
                    continue
                default:
                    logger.error("\(role) stopped accepting", metadata: ["error": "\(error)"])
                    return
                }
            }
            handle(client)
        }
    }
}
