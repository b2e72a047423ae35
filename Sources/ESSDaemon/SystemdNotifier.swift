import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Tells systemd how essd is doing, with the documented `sd_notify` datagram protocol
/// (`man 3 sd_notify`): newline-separated `KEY=VALUE` assignments in one AF_UNIX datagram to
/// `NOTIFY_SOCKET`. No libsystemd needed.
///
/// Owns: reading `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`, and sending `READY=1`,
/// `STATUS=`, `WATCHDOG=1`, `RELOADING=1` (with `MONOTONIC_USEC=`, as systemd ≥ 253 requires) and
/// `STOPPING=1`. Does not own *when* to send them: the daemon decides readiness, and
/// `WatchdogGate` decides whether a watchdog ping is deserved.
///
/// Without `NOTIFY_SOCKET` (a terminal, a test, a non-notify unit) every method does nothing.
/// Thread-safe: each message uses its own socket, as `sd_notify` does.
public final class SystemdNotifier: Sendable {
    let socket: NotifySocket?
    /// How often systemd expects `WATCHDOG=1` at the latest (`WatchdogSec=`), or nil when the
    /// watchdog is off or meant for another process (`WATCHDOG_PID` is not ours).
    public let watchdogInterval: Duration?
    private let logger: Logger
    /// Set after a failed send, so a dead socket is logged once, not every 15 s.
    private let failing = Atomic<Bool>(false)

    /// - Parameters:
    ///   - environment: where to read `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`
    ///     (the process environment by default; tests pass their own).
    ///   - processID: compared with `WATCHDOG_PID` (this process by default).
    ///   - logger: where failed sends are reported.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        processID: Int32 = getpid(),
        logger: Logger
    ) {
        self.logger = logger
        var socket: NotifySocket?
        if let name = environment["NOTIFY_SOCKET"], !name.isEmpty {
            do {
                socket = try NotifySocket(name)
            } catch {
                logger.warning("systemd notifications are off", metadata: ["error": "\(error)"])
            }
        }
        self.socket = socket
        watchdogInterval = Self.watchdogInterval(environment: environment, processID: processID)
    }

    /// True when `NOTIFY_SOCKET` names a socket: essd runs as a `Type=notify` service.
    public var isEnabled: Bool { socket != nil }

    /// `NOTIFY_SOCKET` as given, or nil.
    public var socketName: String? { socket?.name }

    /// The watchdog interval from `WATCHDOG_USEC`, if it is set, positive, and `WATCHDOG_PID` is
    /// unset or names `processID` (`man 3 sd_watchdog_enabled`).
    public static func watchdogInterval(environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let pidText = environment["WATCHDOG_PID"], !pidText.isEmpty {
            guard let pid = Int32(pidText), pid == processID else { return nil }
        }
        return .microseconds(Int64(clamping: usec))
    }

    // MARK: The messages

    /// `READY=1`: start-up (or a reload) is complete. essd sends it once the store is open and
    /// every poller is scheduled.
    public func ready() { notify("READY=1") }

    /// `READY=1` and `STATUS=` in one datagram.
    public func ready(status text: String) { notify("READY=1\nSTATUS=\(Self.singleLine(text))") }

    /// `STATUS=`: the one line `systemctl status essd` shows. Newlines become spaces.
    public func status(_ text: String) { notify("STATUS=\(Self.singleLine(text))") }

    /// `WATCHDOG=1`: essd is alive. Send it through `WatchdogGate`, not from a free-running timer.
    public func watchdog() { notify("WATCHDOG=1") }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (CLOCK_MONOTONIC now, µs): a reload has begun;
    /// send `ready()` when it is done, valid configuration or not.
    public func reloading(monotonicUS: UInt64 = SystemdNotifier.monotonicUS()) {
        notify("RELOADING=1\nMONOTONIC_USEC=\(monotonicUS)")
    }

    /// `STOPPING=1`: essd has begun to shut down.
    public func stopping() { notify("STOPPING=1") }

    /// Sends `assignments` (newline-separated `KEY=VALUE`) as one datagram; does nothing without
    /// `NOTIFY_SOCKET`. Throws what went wrong; the methods above log it instead.
    public func send(_ assignments: String) throws(SystemdNotifyError) {
        guard let socket else { return }
        try socket.send(Array(assignments.utf8))
    }

    private func notify(_ assignments: String) {
        guard socket != nil else { return }
        do {
            try send(assignments)
            if failing.exchange(false, ordering: .relaxed) {
                logger.notice("systemd notifications work again")
            }
        } catch {
            if !failing.exchange(true, ordering: .relaxed) {
                logger.warning("cannot notify systemd", metadata: ["error": "\(error)"])
            }
        }
    }

    /// CLOCK_MONOTONIC in microseconds, the clock systemd compares `MONOTONIC_USEC=` with.
    public static func monotonicUS() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    static func singleLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
