public import ServiceLifecycle

/// essd's conversation with systemd as a service of its `ServiceGroup`: on `run()` it sends
/// `READY=1` with a first `STATUS=`, then keeps `STATUS=` current and runs the `WatchdogGate`
/// ticker; on graceful shutdown (or cancellation) it sends `STOPPING=1`.
///
/// Put it *last* in the group: it starts after the store and polling services and, since a group
/// stops in reverse order, it is the first to see SIGTERM, so `STOPPING=1` goes out at once.
/// Start the poll engine before `group.run()` (`PollEngine.start()` returns at once and
/// `PollingService` then finds it running), so `READY=1` really means "every poller scheduled".
///
/// Owns the timing of these messages; the wording of `STATUS=` comes from the `status` closure
/// (`ServiceStatusText.format`), readiness across a reload is the reload handler's job
/// (`notifier.reloading()` … `notifier.ready(status:)`).
public struct SystemdNotifyService: Service {
    public let notifier: SystemdNotifier
    public let gate: WatchdogGate
    public let statusInterval: Duration
    private let status: @Sendable () -> String

    /// - Parameters:
    ///   - statusInterval: how often `STATUS=` is refreshed (only when its text changed).
    ///   - status: the current status line; called on a cooperative thread, keep it cheap.
    public init(
        notifier: SystemdNotifier, gate: WatchdogGate, statusInterval: Duration = .seconds(5),
        status: @escaping @Sendable () -> String
    ) {
        self.notifier = notifier
        self.gate = gate
        self.statusInterval = statusInterval
        self.status = status
    }

    public func run() async throws {
        let first = status()
        notifier.ready(status: first)
        await cancelWhenGracefulShutdown { [notifier, gate, statusInterval, status] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await gate.run() }
                group.addTask {
                    var last = first
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: statusInterval) } catch { return }
                        let text = status()
                        if text != last {
                            notifier.status(text)
                            last = text
                        }
                    }
                }
            }
        }
        notifier.stopping()
    }
}
