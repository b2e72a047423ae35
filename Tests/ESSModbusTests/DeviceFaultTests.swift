import ESSCore
import ESSModbus
import ESSTestSupport
import Foundation
import Logging
import Testing

/// Issue 11, findings 2–4 against a real peer on loopback (Tests/Peers/hostile_peer.py): an
/// unreadable register inside a merged read, a busy device, and a device that goes away and
/// comes back. Expected values come from the peer's documented image, not from essd.
@Suite(.serialized) struct DeviceFaultTests {
    let logger = Logger(label: "test")

    /// Ten neighbouring holding registers 200..<210 read in one merged request.
    static let profile = RegisterProfile(
        name: "fault-test", points: (0..<10).map { PointDefinition(name: "r\(200 + $0)", kind: .holding, address: 200 + $0) })

    func device(_ peer: HostilePeer, unit: Int = 2, pollIntervalMS: Int = 300) -> DeviceDefinition {
        DeviceDefinition(
            id: "dev", transport: peer.transport, unitID: unit, profile: Self.profile, pollIntervalMS: pollIntervalMS,
            responseTimeoutMS: 300)
    }

    /// Finding 2: register 204 refused. From the second scan on, only r204 is lost; every other
    /// point has the peer's value (1000 * unit + address); the hole shows in the statistics.
    @Test func anUnreadableRegisterCostsOnlyItsOwnPoint() throws {
        let peer = try HostilePeer(mode: "refuse:204-204")
        let sink = InMemoryScanSink()
        let engine = PollEngine(devices: [device(peer)], sink: sink, logger: logger)
        engine.start()
        usleep(1_700_000)
        engine.stop()
        let scans = sink.scans("dev")
        #expect(scans.count >= 4, "\(scans.count) scans")
        for (n, scan) in scans.enumerated() {
            for (i, point) in Self.profile.points.enumerated() {
                let quality = scan.qualities[i]
                let value = scan.values[i]
                if point.address == 204 {
                    #expect(quality == .exception(2) && value.isNaN, "scan \(n): r204 \(quality.name) \(value)")
                } else {
                    #expect(quality == .ok, "scan \(n): \(point.name) is \(quality.name): the hole cost more than its point")
                    #expect(value == Double(2000 + point.address), "scan \(n): \(point.name) = \(value)")
                }
            }
        }
        let stats = try #require(engine.statistics().first)
        let ranges = stats.refusedRanges.map(\.description)
        #expect(ranges == ["holding 204..<205 (exception 2)"], "learnt \(ranges)")
        #expect(stats.state == .degraded, "state \(stats.state)")
        // The split happens once: from the second cycle on, two requests per cycle (200..204, 205..210).
        let splits = stats.splitRequests
        #expect(splits <= 16, "\(splits) split requests: the search must not be repeated every cycle")
    }

    /// Finding 3: every third request answered busy: 0 cycles lost, every point good, the device up.
    /// (A retry is sent when pause + response timeout end before the next boundary: 20 + 200 < 400 ms.)
    @Test func busyEveryThirdRequestLosesNoCycle() throws {
        let peer = try HostilePeer(mode: "busy-every:3")
        let sink = InMemoryScanSink()
        // Two requests per cycle: registers and a far register (no merging across 300 addresses).
        let profile = RegisterProfile(
            name: "busy", points: Self.profile.points + [PointDefinition(name: "r600", kind: .holding, address: 600)])
        let device = DeviceDefinition(
            id: "dev", transport: peer.transport, unitID: 2, profile: profile, pollIntervalMS: 400, responseTimeoutMS: 200)
        let engine = PollEngine(devices: [device], sink: sink, logger: logger)
        engine.start()
        usleep(3_000_000)
        engine.stop()
        let scans = sink.scans("dev")
        #expect(scans.count >= 6, "\(scans.count) scans in 3 s at 400 ms")
        let bad = scans.filter { !$0.qualities.allSatisfy { $0 == .ok } }.map { $0.qualities.map(\.name) }
        #expect(bad.isEmpty, "scans with failed points: \(bad)")
        let stats = try #require(engine.statistics().first)
        #expect(stats.busyRetries >= scans.count / 2, "busy retries \(stats.busyRetries) for \(scans.count) scans")
        #expect(stats.missedCycles == 0 && stats.state == .up, "missed \(stats.missedCycles), state \(stats.state)")
        // Consecutive scans are one interval apart: no cycle was lost.
        let gaps = zip(scans.dropFirst(), scans).map { $0.timestampMS - $1.timestampMS }
        #expect(gaps.allSatisfy { $0 < 600 }, "gaps between scans \(gaps) ms")
    }

    /// Finding 4: the peer goes away for 6 s and comes back; the first good scan after it is
    /// back comes within two poll intervals plus the connect time (here: 2 × 500 ms + 300 ms).
    @Test func aReturningDeviceIsReadWithinTwoIntervals() throws {
        let peer = try HostilePeer(mode: "ok", extraArguments: ["--outage-after", "1", "--outage-for", "6"])
        let sink = InMemoryScanSink()
        let engine = PollEngine(devices: [device(peer, pollIntervalMS: 500)], sink: sink, logger: logger)
        engine.start()
        defer { engine.stop() }
        let start = try peer.process.waitForLine(containing: "outage start", timeout: 10)
        let end = try peer.process.waitForLine(containing: "outage end", timeout: 15)
        let startMS = try #require(Int64(start.split(separator: " ").last ?? ""))
        let endMS = try #require(Int64(end.split(separator: " ").last ?? ""))
        let first = try waitForScan(sink, device: "dev", timeout: 10) {
            $0.timestampMS > endMS && $0.qualities.allSatisfy { $0 == .ok }
        }
        let delayMS = first.timestampMS - endMS
        #expect(delayMS <= 2 * 500 + 300, "first good scan \(delayMS) ms after the peer was back")
        let during = sink.scans("dev").filter { $0.timestampMS > startMS + 100 && $0.timestampMS < endMS }
        #expect(!during.isEmpty && during.allSatisfy { $0.values.allSatisfy(\.isNaN) }, "scans during the outage")
        let stats = try #require(engine.statistics().first)
        #expect(stats.state == .up && stats.reconnects >= 1, "state \(stats.state), reconnects \(stats.reconnects)")
    }
}
