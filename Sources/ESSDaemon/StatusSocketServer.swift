import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Serves `StatusProtocol` on a Unix stream socket: a blocking accept loop on its own thread
/// (never on Swift's cooperative pool) and one short-lived thread per connection, at most
/// `maxConnections` at once. Each connection may send several request lines; it is closed
/// after `timeoutMS` without a complete line, or at the first oversized one. Read-only: it
/// only calls the provider. Owns the socket file (created on `start()`, removed on `stop()`);
/// not the answers (see `StatusProvider`).
public final class StatusSocketServer: Sendable {
    public let path: String
    /// Group given the socket (mode 0660) when it exists on this system.
    public let group: String?
    public let timeoutMS: Int
    public let maxConnections: Int
    private let provider: any StatusProvider
    private let logger: Logger
    private let clock: @Sendable () -> Int64

    /// Connections being answered.
    private let connections = Mutex(0)
    private let acceptor: AcceptThread

    /// Daemon default: `/run/essd/essd.sock` (systemd's `RuntimeDirectory=essd`).
    public static let defaultPath = "/run/essd/essd.sock"

    public init(
        path: String = StatusSocketServer.defaultPath, provider: any StatusProvider, group: String? = "essd",
        timeoutMS: Int = 2000, maxConnections: Int = 16, logger: Logger,
        clock: @escaping @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
    ) {
        self.path = path
        self.group = group
        self.timeoutMS = timeoutMS
        self.maxConnections = maxConnections
        self.provider = provider
        self.logger = logger
        self.clock = clock
        acceptor = AcceptThread(threadName: "essd-status", role: "status socket", target: path, logger: logger)
    }

    /// Creates the parent directory if missing, replaces a stale socket file (refuses when another
    /// process answers on it), binds, sets mode 0660 (and the group), listens, and starts the
    /// accept thread.
    public func start() throws(SocketError) {
        try Self.prepareDirectory(for: path)
        try Self.removeStaleSocket(at: path)
        let fd = try SocketCalls.socket(family: AF_UNIX, target: path)
        do {
            try SocketCalls.bind(fd, unixPath: path)
            try SocketCalls.call("chmod", path) { chmod(path, 0o660) }
            if let group, let gid = Self.groupID(named: group) {
                do {
                    try SocketCalls.call("chown", path) { chown(path, uid_t.max, gid) }  // -1: keep the owner
                } catch {
                    logger.warning("status socket keeps its group", metadata: ["error": "\(error)"])
                }
            }
            try SocketCalls.listen(fd, backlog: 64, target: path)
        } catch {
            SocketCalls.close(fd)
            unlink(path)
            throw error
        }
        acceptor.start(listener: fd) { [self] client in admit(client) }
        logger.info("status socket listening", metadata: ["path": "\(path)"])
    }

    /// Stops accepting, waits for the accept thread, closes and removes the socket file.
    /// Connections being answered finish on their own (bounded by `timeoutMS`).
    public func stop() {
        if acceptor.stop() { unlink(path) }
    }

    /// Answers `client` on a thread of its own, or refuses it when `maxConnections` are open.
    private func admit(_ client: Int32) {
        let admitted = connections.withLock { count -> Bool in
            guard !acceptor.isStopping, count < maxConnections else { return false }
            count += 1
            return true
        }
        guard admitted else {
            SocketCalls.setTimeouts(client, ms: 100)
            try? SocketCalls.writeAll(
                client, StatusProtocol.errorLine("essd is busy: \(maxConnections) status connections are open"),
                target: path)
            SocketCalls.close(client)
            return
        }
        let thread = Thread { [self] in
            serve(client)
            SocketCalls.close(client)
            connections.withLock { $0 -= 1 }
        }
        thread.name = "essd-status-conn"
        thread.start()
    }

    /// Answers request lines on one connection until end of stream, timeout or an oversized line.
    private func serve(_ fd: Int32) {
        SocketCalls.setTimeouts(fd, ms: timeoutMS)
        let limit = StatusProtocol.maxRequestBytes
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { buffer throws(SocketError) in
                    try SocketCalls.read(fd, into: buffer, target: path)
                }
            } catch {
                return  // timeout (EAGAIN) or reset: nothing more to answer
            }
            if n == 0 {
                let last = trimmed(pending)
                if !last.isEmpty { answer(last, on: fd) }
                return
            }
            pending.append(contentsOf: chunk[0..<n])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = trimmed(Array(pending[..<newline]))
                pending.removeSubrange(...newline)
                if line.count > limit {
                    reject(line.count, on: fd)
                    return
                }
                if !line.isEmpty, !answer(line, on: fd) { return }
            }
            if pending.count > limit {
                reject(pending.count, on: fd)
                return
            }
        }
    }

    @discardableResult
    private func answer(_ line: [UInt8], on fd: Int32) -> Bool {
        let response = StatusResponder.respond(to: line, provider: provider, nowMS: clock())
        do {
            try SocketCalls.writeAll(fd, response, target: path)
            return true
        } catch {
            return false
        }
    }

    private func reject(_ bytes: Int, on fd: Int32) {
        let message =
            "request of at least \(bytes) bytes is larger than the limit of \(StatusProtocol.maxRequestBytes); connection closed"
        try? SocketCalls.writeAll(fd, StatusProtocol.errorLine(message), target: path)
    }

    private func trimmed(_ line: [UInt8]) -> [UInt8] {
        var end = line.endIndex
        while end > line.startIndex, line[end - 1] == UInt8(ascii: "\r") || line[end - 1] == UInt8(ascii: " ") {
            end -= 1
        }
        return Array(line[..<end])
    }

    // MARK: the socket file

    /// `mkdir -p` of the socket's directory (mode 0755) when it is missing.
    static func prepareDirectory(for path: String) throws(SocketError) {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty else { return }
        var info = stat()
        if stat(parent, &info) == 0 { return }
        do {
            try FileManager.default.createDirectory(
                atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw SocketError(function: "mkdir", target: parent, errorNumber: errno == 0 ? EACCES : errno)
        }
    }

    /// Removes a socket file nobody answers on; refuses (EADDRINUSE) when something does, and
    /// (EEXIST) when the path is not a socket.
    static func removeStaleSocket(at path: String) throws(SocketError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw SocketError(function: "bind", target: path + " (exists and is not a socket)", errorNumber: EEXIST)
        }
        if let probe = try? SocketCalls.socket(family: AF_UNIX, target: path) {
            defer { SocketCalls.close(probe) }
            if (try? SocketCalls.connect(probe, unixPath: path)) != nil {
                throw SocketError(function: "bind", target: path + " (another essd answers on it)", errorNumber: EADDRINUSE)
            }
        }
        try SocketCalls.call("unlink", path) { unlink(path) }
    }

    /// The id of group `name`, or nil when there is no such group (`getgrnam_r(3)`).
    static func groupID(named name: String) -> gid_t? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, let found = result else { return nil }
        return found.pointee.gr_gid
    }
}
