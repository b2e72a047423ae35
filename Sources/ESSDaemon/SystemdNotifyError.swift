#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A notification that could not be sent to systemd: which socket, what failed, and what to do.
/// Owns the description only; whether to carry on is the caller's decision (essd logs and goes on:
/// a lost `STATUS=` is harmless, a lost `READY=1` shows up as a start timeout in `systemctl status`).
public struct SystemdNotifyError: Error, Hashable, CustomStringConvertible {
    enum Code: Hashable {
        case unsupportedAddress
        case socketFailed
        case sendFailed
        case shortSend
    }

    let code: Code
    /// `NOTIFY_SOCKET` as given.
    public let socket: String
    /// `errno` of the failed call, if one failed.
    public let errno: Int32?
    let detail: String?

    init(_ code: Code, socket: String, errno: Int32? = nil, detail: String? = nil) {
        self.code = code
        self.socket = socket
        self.errno = errno
        self.detail = detail
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.socket == rhs.socket && lhs.errno == rhs.errno
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(socket)
    }

    /// NOTIFY_SOCKET is in a form this implementation does not send to.
    public var isUnsupportedAddress: Bool { code == .unsupportedAddress }

    public var description: String {
        let reason = errno.map { String(cString: strerror($0)) } ?? detail ?? ""
        switch code {
        case .unsupportedAddress:
            return "NOTIFY_SOCKET=\(socket) is not usable (\(reason)); systemd sets it for Type=notify units — "
                + "unset it when not running under systemd"
        case .socketFailed:
            return "cannot create a datagram socket for NOTIFY_SOCKET=\(socket): \(reason)"
        case .sendFailed:
            return "cannot notify systemd at NOTIFY_SOCKET=\(socket): \(reason); "
                + "check that the unit has NotifyAccess=main and essd is its main process"
        case .shortSend:
            return "systemd notification to NOTIFY_SOCKET=\(socket) was truncated (\(reason))"
        }
    }
}
