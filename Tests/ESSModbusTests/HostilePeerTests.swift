import ESSCore
import ESSModbus
import ESSTestSupport
import Foundation
import Logging
import Testing

/// essd's poll engine against a hostile peer (Tests/Peers/hostile_peer.py) that serves a healthy
/// unit 1 and a lying unit 2 behind one endpoint, as in the example site (issue 11, finding 1).
/// The healthy unit shares the lying unit's link and thread: it must keep its schedule and its
/// values, and nothing from a lying answer may reach the sink.
@Suite(.serialized) struct HostilePeerTests {
    let logger = Logger(label: "test")

    /// How unit 2's points must come out for each mode of the peer.
    static let tcpModes: [(mode: String, quality: PointQuality)] = [
        ("wrong-unit", .protocolError), ("wrong-tid", .protocolError), ("wrong-protocol", .protocolError),
        ("wrong-function", .protocolError), ("wrong-exception", .protocolError), ("wrong-bytecount", .protocolError),
        ("truncated", .protocolError), ("overlong", .protocolError), ("trailing", .protocolError),
        ("short", .timeout), ("silence", .timeout),
        ("exception:2", .exception(2)), ("exception:4", .exception(4)), ("exception:6", .exception(6)),
    ]

    static let rtuModes: [(mode: String, quality: PointQuality)] = [
        ("wrong-unit", .protocolError), ("bad-crc", .protocolError), ("overlong", .protocolError),
        ("wrong-bytecount", .protocolError), ("wrong-function", .protocolError), ("short", .timeout),
        ("exception:6", .exception(6)),
    ]

    /// Polls units 1 (healthy) and 2 (hostile) for `seconds` and checks both.
    func check(peer: HostilePeer, mode: String, quality: PointQuality, pollIntervalMS: Int, seconds: Double) throws {
        let good = peer.device("good", unit: 1, pollIntervalMS: pollIntervalMS)
        let bad = peer.device("bad", unit: 2, pollIntervalMS: pollIntervalMS)
        let sink = InMemoryScanSink()
        let engine = PollEngine(devices: [good, bad], sink: sink, logger: logger)
        if case .rtu = peer.transport {
            #expect(engine.connectionCount == 1, "one serial line, one link shared by both units")
        }
        engine.start()
        usleep(UInt32(seconds * 1_000_000))
        engine.stop()

        let goodScans = sink.scans("good")
        let badScans = sink.scans("bad")
        let cycles = Int(seconds * 1000) / pollIntervalMS
        #expect(goodScans.count >= cycles - 1, "\(mode): healthy unit scanned \(goodScans.count) times in \(cycles) cycles")
        // A unit that times out waits out its link's reconnect backoff (TCP), so it may skip cycles;
        // it is still scanned (and marked) every time it is due.
        let minimumBad = quality == .timeout ? 1 : cycles - 1
        #expect(badScans.count >= minimumBad, "\(mode): hostile unit scanned \(badScans.count) times")
        let want = HostilePeer.expectedValues(unit: 1)
        for scan in goodScans {
            #expect(scan.qualities.allSatisfy { $0 == .ok }, "\(mode): healthy unit \(scan.qualities.map(\.name))")
            #expect(scan.values == want, "\(mode): healthy unit values \(scan.values)")
        }
        for scan in badScans {
            #expect(scan.qualities.allSatisfy { $0 == quality }, "\(mode): hostile unit \(scan.qualities.map(\.name))")
            let delivered = scan.values.filter { !$0.isNaN }
            #expect(delivered.isEmpty, "\(mode): a value from a hostile answer was delivered: \(delivered)")
        }
        let stats = engine.statistics()
        let goodStats = try #require(stats.first { $0.deviceID == "good" })
        let badStats = try #require(stats.first { $0.deviceID == "bad" })
        #expect(goodStats.missedCycles == 0, "\(mode): the healthy unit missed \(goodStats.missedCycles) cycles")
        #expect(goodStats.totalErrors == 0, "\(mode): healthy unit errors \(goodStats.errorsByKind)")
        #expect(badStats.errorsByKind[Self.errorKind(quality)] ?? 0 >= 1, "\(mode): \(badStats.errorsByKind)")
        if quality == .protocolError, case .tcp = peer.transport {
            // The link was reopened after each lying answer (counted on whichever device connects).
            #expect(goodStats.reconnects + badStats.reconnects >= 1, "\(mode): no reconnect after a protocol error")
        }
    }

    static func errorKind(_ quality: PointQuality) -> String {
        switch quality {
        case .protocolError: "protocol_error"
        case .timeout: "timeout"
        case .exception(let c): "exception_\(c)"
        default: quality.name
        }
    }

    @Test(arguments: tcpModes.map(\.mode))
    func tcpPeerLiesAndNothingOfItIsStored(mode: String) throws {
        let quality = Self.tcpModes.first { $0.mode == mode }!.quality
        let peer = try HostilePeer(mode: mode)
        try check(peer: peer, mode: mode, quality: quality, pollIntervalMS: 500, seconds: 2.2)
    }

    @Test(arguments: rtuModes.map(\.mode))
    func rtuPeerLiesAndNothingOfItIsStored(mode: String) throws {
        let quality = Self.rtuModes.first { $0.mode == mode }!.quality
        let pty = try PseudoTerminalPair()
        let peer = try HostilePeer(mode: mode, serial: (pty.endA, pty.endB))
        try check(peer: peer, mode: mode, quality: quality, pollIntervalMS: 1000, seconds: 3.2)
    }

    /// A frame written in three pieces with 50 ms pauses (within libmodbus' 500 ms byte
    /// timeout) is one valid answer: split is not lying.
    @Test func aFrameSplitAcrossWritesIsAccepted() throws {
        let peer = try HostilePeer(mode: "split", pauseMS: 50)
        let sink = InMemoryScanSink()
        let engine = PollEngine(devices: [peer.device("bad", unit: 2)], sink: sink, logger: logger)
        engine.start()
        defer { engine.stop() }
        let scan = try waitForScan(sink, device: "bad") { $0.qualities.allSatisfy { $0 == .ok } }
        #expect(scan.values == HostilePeer.expectedValues(unit: 2))
    }

    /// Finding 1 end to end, beside a real ess-sim site: unit 2 answers as unit 1 with huge
    /// values; the ess-sim devices, on their own links, keep their schedule and their values.
    @Test func wrongUnitBesideASimulatedSite() throws {
        let sim = try SimulatorHarness()
        let peer = try HostilePeer(mode: "wrong-unit")
        let sink = InMemoryScanSink()
        let devices = sim.site.devices + [peer.device("bad", unit: 2)]
        let engine = PollEngine(devices: devices, sink: sink, logger: logger)
        engine.start()
        usleep(2_600_000)
        engine.stop()
        let bad = sink.scans("bad")
        #expect(bad.count >= 4)
        #expect(bad.allSatisfy { $0.values.allSatisfy(\.isNaN) && $0.qualities.allSatisfy { $0 == .protocolError } })
        for device in sim.site.devices {
            let scans = sink.scans(device.id)
            #expect(scans.count >= 4, "\(device.id): \(scans.count) scans")
            let incomplete = scans.filter { !$0.isComplete }.map { $0.qualities.map(\.name) }
            #expect(incomplete.isEmpty, "\(device.id): \(incomplete)")
        }
        for stats in engine.statistics() where stats.deviceID != "bad" {
            #expect(stats.missedCycles == 0 && stats.totalErrors == 0, "\(stats.deviceID): \(stats)")
        }
    }
}
