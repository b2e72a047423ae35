#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed socket system call: which C function, on what, and the errno.
public struct SocketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The C function that failed, e.g. "connect".
    public var function: String
    /// The socket path or address it was called for.
    public var target: String
    public var errorNumber: Int32

    /// `strerror(errno)`, e.g. "No such file or directory".
    public var errnoText: String { String(cString: strerror(errorNumber)) }

    public var description: String { "\(function)(\(target)) failed: \(errnoText) (errno \(errorNumber))" }
}

/// Every system call of the status socket and the metrics endpoint, in one place. Each wrapper
/// retries `EINTR` and throws a `SocketError` naming the C function. Internal.
enum SocketCalls {
    /// Runs `body` until it does not fail with `EINTR`; -1 throws.
    @discardableResult
    static func call<T: FixedWidthInteger>(_ function: String, _ target: String, _ body: () -> T) throws(SocketError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SocketError(function: function, target: target, errorNumber: code)
        }
    }

    #if canImport(Glibc)
        static let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    #else
        static let streamType = SOCK_STREAM
    #endif

    /// `socket(2)`, stream, close-on-exec.
    static func socket(family: Int32, target: String) throws(SocketError) -> Int32 {
        try call("socket", target) { Glibc.socket(family, streamType, 0) }
    }

    /// `close(2)`; EINTR is not retried (the descriptor is gone either way on Linux).
    static func close(_ fd: Int32) { if fd >= 0 { _ = Glibc.close(fd) } }

    /// A `sockaddr_un` for `path`; throws ENAMETOOLONG when it does not fit.
    static func unixAddress(_ path: String) throws(SocketError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw SocketError(function: "sockaddr_un", target: path, errorNumber: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// `bind(2)` to a Unix socket path.
    static func bind(_ fd: Int32, unixPath path: String) throws(SocketError) {
        var address = try unixAddress(path)
        try call("bind", path) {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
    }

    /// `connect(2)` to a Unix socket path.
    static func connect(_ fd: Int32, unixPath path: String) throws(SocketError) {
        var address = try unixAddress(path)
        try call("connect", path) {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
    }

    /// An IPv4 address; throws EINVAL when `host` is not a dotted quad.
    static func inetAddress(host: String, port: Int) throws(SocketError) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port)).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SocketError(function: "inet_pton", target: host, errorNumber: EINVAL)
        }
        return address
    }

    /// `bind(2)` to an IPv4 address and port, with `SO_REUSEADDR`.
    static func bind(_ fd: Int32, host: String, port: Int) throws(SocketError) {
        var address = try inetAddress(host: host, port: port)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        try call("bind", "\(host):\(port)") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// The port the kernel gave an IPv4 socket (`getsockname(2)`).
    static func boundPort(_ fd: Int32) throws(SocketError) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try call("getsockname", "fd \(fd)") {
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `listen(2)`.
    static func listen(_ fd: Int32, backlog: Int32, target: String) throws(SocketError) {
        try call("listen", target) { Glibc.listen(fd, backlog) }
    }

    /// `accept(2)`, then close-on-exec (`fcntl(2)`).
    static func accept(_ fd: Int32, target: String) throws(SocketError) -> Int32 {
        let client = try call("accept", target) { Glibc.accept(fd, nil, nil) }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        return client
    }

    /// `setsockopt(SO_RCVTIMEO)` and `SO_SNDTIMEO`: a blocked read or write fails with EAGAIN after `ms`.
    static func setTimeouts(_ fd: Int32, ms: Int) {
        var time = timeval(tv_sec: ms / 1000, tv_usec: suseconds_t((ms % 1000) * 1000))
        let size = socklen_t(MemoryLayout<timeval>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, size)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, size)
    }

    /// `read(2)` into `buffer`; 0 at end of stream.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, target: String) throws(SocketError) -> Int {
        try call("read", target) { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// Writes all of `bytes` (`send(2)` with `MSG_NOSIGNAL`, so a gone peer is EPIPE, not SIGPIPE).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], target: String) throws(SocketError) {
        var sent = 0
        while sent < bytes.count {
            let offset = sent
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n == -1 {
                let code = errno
                if code == EINTR { continue }
                throw SocketError(function: "send", target: target, errorNumber: code)
            }
            sent += n
        }
    }

    /// `fcntl(F_SETFL, O_NONBLOCK)`: reads, writes and accepts on `fd` fail with EAGAIN instead of blocking.
    static func setNonBlocking(_ fd: Int32, target: String) throws(SocketError) {
        let flags = try call("fcntl", target) { fcntl(fd, F_GETFL) }
        try call("fcntl", target) { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// `poll(2)` on `descriptors` for at most `timeoutMS`; returns how many have events. EINTR
    /// counts as "no events" (the caller loops anyway).
    static func poll(_ descriptors: inout [pollfd], timeoutMS: Int32) -> Int {
        let n = descriptors.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), timeoutMS) }
        return n < 0 ? 0 : Int(n)
    }

    /// One `send(2)` of what it takes of `bytes` (`MSG_NOSIGNAL | MSG_DONTWAIT`): the count sent,
    /// 0 when the socket's buffer is full (EAGAIN).
    static func sendSome(_ fd: Int32, _ bytes: ArraySlice<UInt8>, target: String) throws(SocketError) -> Int {
        while true {
            let n = bytes.withUnsafeBytes { raw in send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if n >= 0 { return n }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return 0 }
            throw SocketError(function: "send", target: target, errorNumber: code)
        }
    }

    /// One `recv(2)` with `MSG_DONTWAIT`: the count read, 0 at end of stream, nil when nothing is
    /// waiting (EAGAIN).
    static func receiveSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, target: String) throws(SocketError) -> Int? {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if n >= 0 { return n }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return nil }
            throw SocketError(function: "recv", target: target, errorNumber: code)
        }
    }

    /// `shutdown(2)` both ways: wakes a thread blocked in `accept` or `read` on `fd`.
    static func shutdown(_ fd: Int32) { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
}
