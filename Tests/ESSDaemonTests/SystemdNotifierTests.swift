import ESSDaemon
import ESSTestSupport
import Foundation
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `SystemdNotifier`, `WatchdogGate` and `SystemdNotifyService` against a real datagram socket
/// passed as NOTIFY_SOCKET, as systemd would.
@Suite(.serialized) struct SystemdNotifierTests {
    let logger = Logger(label: "test")

    @Test func sendsTheDocumentedDatagrams() throws {
        let listener = try NotifyListener()
        let notifier = SystemdNotifier(environment: listener.environment(), logger: logger)
        #expect(notifier.isEnabled)
        #expect(notifier.socketName == listener.notifySocket)

        notifier.ready()
        #expect(listener.receive() == "READY=1")
        notifier.status("polling 9 devices, 1 failing,\nlast checkpoint 2 s ago")
        #expect(listener.receive() == "STATUS=polling 9 devices, 1 failing, last checkpoint 2 s ago")
        notifier.watchdog()
        #expect(listener.receive() == "WATCHDOG=1")
        notifier.reloading(monotonicUS: 123_456_789)
        #expect(listener.receive() == "RELOADING=1\nMONOTONIC_USEC=123456789")
        notifier.ready(status: "polling 3 devices, all up, no checkpoint yet")
        #expect(listener.receive() == "READY=1\nSTATUS=polling 3 devices, all up, no checkpoint yet")
        notifier.stopping()
        #expect(listener.receive() == "STOPPING=1")
        #expect(listener.receive(timeout: 0.1) == nil)
    }

    @Test func reloadingCarriesTheMonotonicClockNow() throws {
        let listener = try NotifyListener()
        let notifier = SystemdNotifier(environment: listener.environment(), logger: logger)
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let before = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        notifier.reloading()
        let message = try #require(listener.receive())
        let lines = message.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        let usec = try #require(lines.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(lines.last?.hasPrefix("MONOTONIC_USEC=") == true)
        #expect(usec >= before && usec < before + 5_000_000)
    }

    @Test func sendsToAnAbstractSocket() throws {
        let listener = try NotifyListener(abstract: true)
        #expect(listener.notifySocket.hasPrefix("@"))
        let notifier = SystemdNotifier(environment: listener.environment(), logger: logger)
        notifier.ready()
        #expect(listener.receive() == "READY=1")
    }

    @Test func doesNothingWithoutNotifySocket() throws {
        let notifier = SystemdNotifier(environment: [:], logger: logger)
        #expect(!notifier.isEnabled)
        #expect(notifier.watchdogInterval == nil)
        notifier.ready()
        try notifier.send("READY=1")  // no socket: nothing to fail
    }

    @Test func rejectsUnusableAddresses() {
        for name in ["relative/notify", "vsock:2:1234", "/" + String(repeating: "x", count: 200)] {
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name], logger: logger)
            #expect(!notifier.isEnabled, "\(name)")
        }
    }

    @Test func reportsASocketNobodyListensOn() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("essd-no-listener-\(getpid())").path
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path], logger: logger)
        #expect(notifier.isEnabled)
        #expect(throws: SystemdNotifyError.self) { try notifier.send("READY=1") }
        notifier.ready()  // logs once, does not crash
    }

    @Test(arguments: [
        (["WATCHDOG_USEC": "30000000"], Duration?.some(.seconds(30))),
        (["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"], Duration?.some(.seconds(30))),
        (["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4243"], nil),
        (["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "x"], nil),
        (["WATCHDOG_USEC": "0"], nil),
        (["WATCHDOG_USEC": "soon"], nil),
        ([:], nil),
    ])
    func watchdogIntervalFromTheEnvironment(environment: [String: String], expected: Duration?) {
        #expect(SystemdNotifier.watchdogInterval(environment: environment, processID: 4242) == expected)
    }

    @Test func watchdogIntervalChecksThisProcessByDefault() throws {
        let listener = try NotifyListener()
        var environment = listener.environment(watchdogUS: 2_000_000)
        environment["WATCHDOG_PID"] = "\(getpid())"
        let notifier = SystemdNotifier(environment: environment, logger: logger)
        #expect(notifier.watchdogInterval == .seconds(2))
        #expect(WatchdogGate(notifier: notifier).pingInterval == .seconds(1))
    }

    // MARK: The watchdog gate

    @Test func gateWithoutProgressSendsNoWatchdog() throws {
        let listener = try NotifyListener()
        let notifier = SystemdNotifier(environment: listener.environment(watchdogUS: 200_000), logger: logger)
        let gate = WatchdogGate(notifier: notifier)
        #expect(gate.tick() == false)
        #expect(gate.tick() == false)
        #expect(listener.receive(timeout: 0.2) == nil)

        gate.progress()
        gate.progress()
        #expect(gate.tick() == true)
        #expect(listener.receive() == "WATCHDOG=1")
        #expect(gate.tick() == false)  // progress is consumed by one ping
        #expect(listener.receive(timeout: 0.2) == nil)
        #expect(gate.counts.sent == 1)
        #expect(gate.counts.withheld == 3)
    }

    @Test func gateTickerPingsOnlyWhileThePollLoopProgresses() async throws {
        let listener = try NotifyListener()
        // WatchdogSec=200ms: the gate ticks every 100 ms.
        let notifier = SystemdNotifier(environment: listener.environment(watchdogUS: 200_000), logger: logger)
        let gate = WatchdogGate(notifier: notifier)
        #expect(gate.pingInterval == .milliseconds(100))
        let ticker = Task { await gate.run() }
        defer { ticker.cancel() }

        // A poll loop completing a cycle every 20 ms for 0.6 s.
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(600)
        while clock.now < end {
            gate.progress()
            try await Task.sleep(for: .milliseconds(20))
        }
        let whileProgressing = (await listener.drainOffPool(window: 0.05))
        #expect(whileProgressing.count >= 3, "\(whileProgressing)")
        #expect(whileProgressing.allSatisfy { $0 == "WATCHDOG=1" })

        // The loop wedges: at most the ping already earned, then silence.
        try await Task.sleep(for: .milliseconds(150))
        _ = (await listener.drainOffPool(window: 0.01))
        let whileWedged = (await listener.drainOffPool(window: 0.5))
        #expect(whileWedged.isEmpty, "\(whileWedged)")

        ticker.cancel()
        await ticker.value
    }

    @Test func gateWithoutWatchdogWaitsForCancellation() async throws {
        let notifier = SystemdNotifier(environment: [:], logger: logger)
        let gate = WatchdogGate(notifier: notifier)
        #expect(gate.pingInterval == nil)
        let ticker = Task { await gate.run() }
        try await Task.sleep(for: .milliseconds(50))
        ticker.cancel()
        await ticker.value
    }

    // MARK: The service

    @Test func serviceSendsReadyStatusWatchdogAndStopping() async throws {
        let listener = try NotifyListener()
        let notifier = SystemdNotifier(environment: listener.environment(watchdogUS: 200_000), logger: logger)
        let gate = WatchdogGate(notifier: notifier)
        let status = Mutex("polling 2 devices, all up, no checkpoint yet")
        let service = SystemdNotifyService(notifier: notifier, gate: gate, statusInterval: .milliseconds(30)) {
            status.withLock { $0 }
        }
        let running = Task { try await service.run() }

        #expect((await listener.receiveOffPool()) == "READY=1\nSTATUS=polling 2 devices, all up, no checkpoint yet")
        status.withLock { $0 = "polling 2 devices, 1 failing, last checkpoint 1 s ago" }
        #expect((await listener.receiveOffPool()) == "STATUS=polling 2 devices, 1 failing, last checkpoint 1 s ago")
        gate.progress()
        #expect((await listener.receiveOffPool()) == "WATCHDOG=1")

        running.cancel()
        try await running.value
        #expect((await listener.drainOffPool(window: 0.2)).last == "STOPPING=1")
    }

    @Test func statusText() {
        #expect(
            ServiceStatusText.format(deviceCount: 3, failing: 1, lastCheckpointMS: 10_000, nowMS: 12_500)
                == "polling 3 devices, 1 failing, last checkpoint 2 s ago")
        #expect(
            ServiceStatusText.format(deviceCount: 1, failing: 0, lastCheckpointMS: nil, nowMS: 0)
                == "polling 1 device, all up, no checkpoint yet")
        #expect(
            ServiceStatusText.format(devices: [], lastCheckpointMS: 0, nowMS: 0)
                == "polling 0 devices, all up, last checkpoint 0 s ago")
        #expect(ServiceStatusText.age(ms: -5) == "0 s")
        #expect(ServiceStatusText.age(ms: 119_999) == "119 s")
        #expect(ServiceStatusText.age(ms: 600_000) == "10 min")
        #expect(ServiceStatusText.age(ms: 7_200_000) == "2 h")
    }
}
