@testable import ESSDaemon
import Foundation
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A provider with fixed answers.
struct FakeStatusProvider: StatusProvider {
    func summary(nowMS: Int64) -> SiteSummary {
        SiteSummary(
            siteID: "demo", siteName: "Demo \"site\"", timeZone: "Asia/Shanghai", ratedPowerKW: 500, ratedEnergyKWh: 1000,
            socPercent: 62.5, socWeighting: "rated_energy", powerKW: -120,
            powerState: SiteSummary.powerState(powerKW: -120, ratedPowerKW: 500), chargeTodayKWh: 80,
            dischargeTodayKWh: .nan, devicesUp: 2, devicesDown: 1, lastGoodPollMS: nowMS - 1500,
            lastGoodPollAgeS: 1.5, store: store(nowMS: nowMS), generatedAtMS: nowMS)
    }

    func devices(nowMS: Int64) -> [DeviceStatus] {
        [
            DeviceStatus(
                deviceID: "bms1", endpoint: "tcp://127.0.0.1:1502", unitID: 1, state: "up", lastSuccessMS: nowMS,
                scans: 10, requests: 40, errors: 2, errorsByKind: ["timeout": 2], latencyP50MS: 1.2, latencyP99MS: 4.5,
                reconnects: 1, missedCycles: 0),
            DeviceStatus(
                deviceID: "pcs1", endpoint: "tcp://127.0.0.1:1503", unitID: 2, state: "never", lastSuccessMS: nil,
                scans: 3, requests: 0, errors: 3, errorsByKind: ["connection_refused": 3], latencyP50MS: nil,
                latencyP99MS: nil, reconnects: 0, missedCycles: 0),
        ]
    }

    func latest(nowMS: Int64) -> [LatestDevice] {
        [
            LatestDevice(
                deviceID: "bms1", timestampMS: nowMS,
                points: [LatestPoint(name: "soc", role: "soc_percent", unit: "%", value: 62.5, quality: "ok")])
        ]
    }

    func store(nowMS: Int64) -> StoreStatus {
        StoreStatus(
            directory: "/var/lib/essd", lastCheckpointMS: nowMS - 2000, lastCheckpointAgeS: 2, sizeBytes: 1 << 20,
            retention: [TierRetention(tier: "raw", slotS: 0, retentionS: 172_800)], scansStored: 100, scansDropped: 0,
            checkpointFailures: 0)
    }
}

/// A running server on a fresh temp path; `stop()` removes everything.
final class RunningStatusServer: Sendable {
    let directory: String
    let path: String
    let server: StatusSocketServer

    init(timeoutMS: Int = 2000) throws {
        directory = NSTemporaryDirectory() + "essd-status-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        path = directory + "/run/essd.sock"  // the "run" directory does not exist yet
        server = StatusSocketServer(
            path: path, provider: FakeStatusProvider(), group: "essd", timeoutMS: timeoutMS,
            logger: Logger(label: "test"), clock: { 1_700_000_000_000 })
        try server.start()
    }

    var client: StatusClient { StatusClient(path: path, timeoutMS: 3000) }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

func json(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

@Suite(.serialized) struct StatusSocketTests {
    @Test func summaryOverTheSocket() throws {
        let running = try RunningStatusServer()
        defer { running.stop() }
        let response = try running.client.request(.summary)
        let summary = try #require(response.summary)
        #expect(response.version == 1 && response.ok)
        #expect(summary.siteID == "demo")
        #expect(summary.socPercent == 62.5)
        #expect(summary.powerState == "charging")
        #expect(summary.dischargeTodayKWh == nil)  // NaN is unknown, not 0
        #expect(summary.store?.retention.first?.tier == "raw")

        // The wire form: snake_case keys, unknown values absent.
        let raw = try json(running.client.exchange(Array("{\"version\":1,\"request\":\"summary\"}\n".utf8)))
        #expect(raw["ok"] as? Bool == true)
        let object = try #require(raw["summary"] as? [String: Any])
        #expect(object["site_name"] as? String == "Demo \"site\"")
        #expect(object["soc_percent"] as? Double == 62.5)
        #expect(object["power_kw"] as? Double == -120)
        #expect(object["last_good_poll_age_s"] as? Double == 1.5)
        #expect(object["discharge_today_kwh"] == nil)
        #expect(object["generated_at_ms"] as? Int == 1_700_000_000_000)
    }

    @Test func devicesAndLatestAndStore() throws {
        let running = try RunningStatusServer()
        defer { running.stop() }
        let devices = try #require(try running.client.request(.devices).devices)
        #expect(devices.map(\.deviceID) == ["bms1", "pcs1"])
        #expect(devices[0].errorsByKind == ["timeout": 2])
        #expect(devices[1].state == "never")
        let raw = try json(running.client.exchange(Array("{\"version\":1,\"request\":\"devices\"}\n".utf8)))
        let first = try #require((raw["devices"] as? [[String: Any]])?.first)
        #expect(first["latency_p99_ms"] as? Double == 4.5)
        #expect((first["errors_by_kind"] as? [String: Int]) == ["timeout": 2])
        #expect(try running.client.request(.latest).latest?.first?.points.first?.value == 62.5)
        #expect(try running.client.request(.store).store?.scansStored == 100)
    }

    @Test func errorsForUnknownMalformedAndWrongVersion() throws {
        let running = try RunningStatusServer()
        defer { running.stop() }
        let unknown = try json(running.client.exchange(Array("{\"version\":1,\"request\":\"reboot\"}\n".utf8)))
        #expect(unknown["ok"] as? Bool == false)
        #expect(unknown["version"] as? Int == 1)
        #expect((unknown["error"] as? String)?.contains("unknown request \"reboot\"") == true)
        let malformed = try json(running.client.exchange(Array("hello\n".utf8)))
        #expect((malformed["error"] as? String)?.hasPrefix("malformed request") == true)
        let version = try json(running.client.exchange(Array("{\"version\":2,\"request\":\"summary\"}\n".utf8)))
        #expect((version["error"] as? String)?.contains("unsupported protocol version 2") == true)
    }

    @Test func oversizedRequestIsRejected() throws {
        let running = try RunningStatusServer()
        defer { running.stop() }
        let big = Array("{\"version\":1,\"request\":\"summary\",\"pad\":\"".utf8)
            + [UInt8](repeating: UInt8(ascii: "x"), count: 10_000) + Array("\"}\n".utf8)
        let answer = try json(running.client.exchange(big))
        #expect(answer["ok"] as? Bool == false)
        #expect((answer["error"] as? String)?.contains("larger than the limit of 4096") == true)
    }

    @Test func severalRequestsOnOneConnectionAndManyClients() throws {
        let running = try RunningStatusServer()
        defer { running.stop() }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = try SocketCalls.unixAddress(running.path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(connected == 0)
        let two = Array("{\"version\":1,\"request\":\"store\"}\n{\"version\":1,\"request\":\"devices\"}\n".utf8)
        try SocketCalls.writeAll(fd, two, target: "test")
        SocketCalls.setTimeouts(fd, ms: 3000)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while received.filter({ $0 == UInt8(ascii: "\n") }).count < 2 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            received += chunk[0..<n]
        }
        let lines = received.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 2)
        #expect(try json(Array(lines[0]))["store"] != nil)
        #expect(try json(Array(lines[1]))["devices"] != nil)

        // Many clients at once.
        let results = Mutex<[Bool]>([])
        DispatchQueue.concurrentPerform(iterations: 12) { _ in
            let ok = (try? running.client.request(.summary).summary?.siteID) == "demo"
            results.withLock { $0.append(ok) }
        }
        #expect(results.withLock { $0 } == [Bool](repeating: true, count: 12))
    }

    @Test func socketIsMode0660AndReplacedWhenStale() throws {
        let running = try RunningStatusServer()
        var info = stat()
        #expect(lstat(running.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)

        // A second server refuses a path a live one answers on.
        let second = StatusSocketServer(path: running.path, provider: FakeStatusProvider(), logger: Logger(label: "t"))
        #expect(throws: SocketError.self) { try second.start() }

        // A stale socket file (no listener) is replaced.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let stalePath = running.directory + "/stale.sock"
        try SocketCalls.bind(stale, unixPath: stalePath)
        close(stale)
        let third = StatusSocketServer(path: stalePath, provider: FakeStatusProvider(), logger: Logger(label: "t"))
        try third.start()
        #expect(try StatusClient(path: stalePath).request(.summary).ok)
        third.stop()
        #expect(access(stalePath, F_OK) != 0)  // removed on stop
        running.stop()
    }

    @Test func unreachableDaemonIsAClearError() throws {
        let client = StatusClient(path: NSTemporaryDirectory() + "essd-none-\(getpid())/essd.sock")
        do {
            _ = try client.request(.summary)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .unreachable)
            #expect(error.message.hasPrefix("essd is not running or "))
            #expect(error.message.hasSuffix("is not accessible: No such file or directory"))
        }
    }

    @Test func idleConnectionTimesOut() throws {
        let running = try RunningStatusServer(timeoutMS: 200)
        defer { running.stop() }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        try SocketCalls.connect(fd, unixPath: running.path)
        SocketCalls.setTimeouts(fd, ms: 3000)
        var byte: UInt8 = 0
        let start = Date()
        let n = read(fd, &byte, 1)  // the server closes after 200 ms without a request
        #expect(n == 0)
        #expect(Date().timeIntervalSince(start) < 2)
    }
}

struct StatusSummaryRuleTests {
    @Test(arguments: [
        (10.0, "discharging"), (5.0, "idle"), (-5.0, "idle"), (-5.01, "charging"), (0, "idle"), (Double.nan, "unknown"),
    ])
    func powerStateDeadBandIsOnePercentOfRatedPower(power: Double, expected: String) {
        #expect(SiteSummary.powerState(powerKW: power, ratedPowerKW: 500) == expected)
    }
}
