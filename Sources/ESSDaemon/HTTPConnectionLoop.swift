import ESSModbus
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Serves the clients of one listening socket on one thread with `poll(2)`: every connection is
/// non-blocking and has its own deadline (from accept to the last byte sent), so a slow or idle
/// client never delays another; at most `maxConnections` are open, and when a new client comes
/// while they are all taken, the oldest one still sending its request is closed to make room.
/// Owns the listener from `start` to `stop` and every client socket; what a request gets is the
/// caller's `respond` (request bytes → response bytes), called once per connection.
final class HTTPConnectionLoop: Sendable {
    private struct State {
        var stopping = false
        var done: DispatchSemaphore?
        var listener: Int32 = -1
    }
    private let state = Mutex(State())
    let threadName: String
    let role: String
    let target: String
    let maxConnections: Int
    let deadlineMS: Int
    let maxRequestBytes: Int
    private let logger: Logger
    private let respond: @Sendable ([UInt8]) -> [UInt8]

    init(
        threadName: String, role: String, target: String, maxConnections: Int = 64, deadlineMS: Int, maxRequestBytes: Int,
        logger: Logger, respond: @escaping @Sendable ([UInt8]) -> [UInt8]
    ) {
        precondition(maxConnections > 0 && deadlineMS > 0)
        self.threadName = threadName
        self.role = role
        self.target = target
        self.maxConnections = maxConnections
        self.deadlineMS = deadlineMS
        self.maxRequestBytes = maxRequestBytes
        self.logger = logger
        self.respond = respond
    }

    /// Takes `listener` (bound and listening), makes it non-blocking and starts the thread.
    func start(listener: Int32) throws(SocketError) {
        try SocketCalls.setNonBlocking(listener, target: target)
        let done = DispatchSemaphore(value: 0)
        state.withLock {
            $0.stopping = false
            $0.done = done
            $0.listener = listener
        }
        let thread = Thread { [self] in
            loop(listener)
            done.signal()
        }
        thread.name = threadName
        thread.start()
    }

    /// Stops the thread (within one poll slice, 100 ms), closes every client and the listener.
    func stop() {
        let (done, listener) = state.withLock { state -> (DispatchSemaphore?, Int32) in
            state.stopping = true
            defer {
                state.done = nil
                state.listener = -1
            }
            return (state.done, state.listener)
        }
        guard let done else { return }
        done.wait()
        SocketCalls.close(listener)
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    /// One client connection and where it stands.
    private struct Client {
        let fd: Int32
        let deadlineNS: Int64
        var request: [UInt8] = []
        var response: [UInt8]?
        var sent = 0
    }

    private func loop(_ listener: Int32) {
        var clients: [Client] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { for client in clients { SocketCalls.close(client.fd) } }
        while !isStopping {
            var descriptors = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            for client in clients {
                descriptors.append(pollfd(fd: client.fd, events: Int16(client.response == nil ? POLLIN : POLLOUT), revents: 0))
            }
            let now = PollClock.monotonicNS()
            let nearest = clients.map(\.deadlineNS).min().map { max(0, ($0 - now) / 1_000_000) } ?? 100
            _ = SocketCalls.poll(&descriptors, timeoutMS: Int32(min(100, nearest + 1)))

            var keep = [Bool](repeating: true, count: clients.count)
            for k in clients.indices where descriptors[k + 1].revents != 0 {
                keep[k] = advance(&clients[k], revents: descriptors[k + 1].revents, chunk: &chunk)
            }
            let after = PollClock.monotonicNS()
            for k in clients.indices where keep[k] && after >= clients[k].deadlineNS { keep[k] = false }
            for k in clients.indices.reversed() where !keep[k] {
                SocketCalls.close(clients[k].fd)
                clients.remove(at: k)
            }
            if descriptors[0].revents & Int16(POLLIN) != 0 { acceptAll(listener, into: &clients) }
        }
    }

    /// Accepts every client waiting; makes room by closing the oldest client still sending its
    /// request when all connections are taken.
    private func acceptAll(_ listener: Int32, into clients: inout [Client]) {
        while true {
            let fd: Int32
            do {
                fd = try SocketCalls.accept(listener, target: target)
            } catch {
                switch error.errorNumber {
                case EAGAIN, EWOULDBLOCK, ECONNABORTED: return
                default:
                    logger.warning("\(role) cannot accept", metadata: ["error": "\(error)"])
                    return
                }
            }
            do {
                try SocketCalls.setNonBlocking(fd, target: target)
            } catch {
                SocketCalls.close(fd)
                continue
            }
            if clients.count >= maxConnections {
                let victim = clients.firstIndex { $0.response == nil } ?? 0
                SocketCalls.close(clients[victim].fd)
                clients.remove(at: victim)
            }
            clients.append(Client(fd: fd, deadlineNS: PollClock.monotonicNS() + Int64(deadlineMS) * 1_000_000))
        }
    }

    /// Reads or writes what the socket allows; false when the connection is done (answered,
    /// closed by the peer, failed).
    private func advance(_ client: inout Client, revents: Int16, chunk: inout [UInt8]) -> Bool {
        if client.response == nil {
            let n: Int?
            do {
                n = try chunk.withUnsafeMutableBytes { buffer throws(SocketError) in
                    try SocketCalls.receiveSome(client.fd, into: buffer, target: "\(role) client")
                }
            } catch {
                return false
            }
            guard let n else { return true }
            if n == 0 { return false }  // the peer went away before a whole request
            client.request.append(contentsOf: chunk[0..<n])
            if client.request.count > maxRequestBytes || Self.containsHeaderEnd(client.request) {
                client.response = respond(client.request)
            } else {
                return true
            }
        } else if revents & Int16(POLLERR | POLLHUP) != 0 {
            return false
        }
        guard let response = client.response else { return true }
        do {
            client.sent += try SocketCalls.sendSome(client.fd, response[client.sent...], target: "\(role) client")
        } catch {
            return false
        }
        return client.sent < response.count
    }

    /// True when `bytes` hold the blank line that ends an HTTP request's headers.
    static func containsHeaderEnd(_ bytes: [UInt8]) -> Bool {
        let end: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= end.count else { return false }
        for start in 0...(bytes.count - end.count) where bytes[start..<(start + end.count)].elementsEqual(end) {
            return true
        }
        return false
    }
}
