#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where systemd listens for notifications: `NOTIFY_SOCKET` parsed into a Unix socket address.
/// A path (`/run/systemd/notify`) or an abstract name (`@name`, a leading NUL on the wire).
/// Owns the address and the one `sendto(2)` of a datagram to it; knows nothing of the protocol's
/// `KEY=VALUE` assignments (that is `SystemdNotifier`).
struct NotifySocket: Sendable, Hashable {
    /// `NOTIFY_SOCKET` as given.
    let name: String
    /// The bytes of `sun_path` (for an abstract name, starting with NUL, without a terminator).
    let pathBytes: [UInt8]
    let isAbstract: Bool

    /// Parses `NOTIFY_SOCKET`. Throws for forms this implementation does not send to
    /// (`vsock:` addresses of systemd ≥ 253, relative paths) and for names too long for `sun_path`.
    init(_ name: String) throws(SystemdNotifyError) {
        self.name = name
        var bytes = Array(name.utf8)
        if bytes.first == UInt8(ascii: "@") {
            bytes[0] = 0
            isAbstract = true
        } else if bytes.first == UInt8(ascii: "/") {
            isAbstract = false
        } else {
            throw SystemdNotifyError(
                .unsupportedAddress, socket: name, detail: "expected an absolute path or an abstract '@name'")
        }
        // sun_path holds 108 bytes; a path needs its terminating NUL too.
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        guard bytes.count + (isAbstract ? 0 : 1) <= capacity, bytes.count > 1 else {
            throw SystemdNotifyError(
                .unsupportedAddress, socket: name, detail: "the name must be 1...\(capacity - 1) bytes long")
        }
        pathBytes = bytes
    }

    /// Sends `payload` as one datagram: `socket(2)` (AF_UNIX, SOCK_DGRAM, close-on-exec), `sendto(2)`
    /// retried on EINTR, `close(2)`. A fresh socket per message, as libsystemd's `sd_notify` does:
    /// nothing is shared between threads, and a restarted systemd (new socket inode) is picked up.
    func send(_ payload: [UInt8]) throws(SystemdNotifyError) {
        #if canImport(Darwin)
            let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #else
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard fd >= 0 else { throw SystemdNotifyError(.socketFailed, socket: name, errno: errno) }
        defer { close(fd) }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in pathBytes.enumerated() { raw[index] = byte }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // Abstract names are exactly their bytes long; paths include the terminating NUL.
        let length = socklen_t(pathOffset + pathBytes.count + (isAbstract ? 0 : 1))

        while true {
            let sent = payload.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, 0, $0, length)
                    }
                }
            }
            if sent >= 0 {
                guard sent == payload.count else {
                    throw SystemdNotifyError(.shortSend, socket: name, detail: "sent \(sent) of \(payload.count) bytes")
                }
                return
            }
            let code = errno
            if code == EINTR { continue }
            throw SystemdNotifyError(.sendFailed, socket: name, errno: code)
        }
    }
}
