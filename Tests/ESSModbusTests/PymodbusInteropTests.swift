import ESSConfig
import ESSCore
import ESSModbus
import ESSTestSupport
import Foundation
import Logging
import Testing

/// essd against a Modbus server it did not write: pymodbus, with a register image encoded by
/// Python's `struct` for every type and word order (Tests/Peers/pymodbus_peer.py).
@Suite(.serialized) struct PymodbusInteropTests {
    @Test func decodesEveryTypeAndWordOrderLikePymodbusEncodedThem() throws {
        let python = try #require(
            TestEnvironment.python, "no Python with pymodbus: run scripts/test.sh (it makes .venv-peers) or set ESSD_TEST_PYTHON")
        let out = try TestEnvironment.temporaryDirectory("essd-peer")
        defer { try? FileManager.default.removeItem(at: out) }
        let port = TestEnvironment.freePort()
        let peer = try ChildProcess(
            python,
            [TestEnvironment.repository.appendingPathComponent("Tests/Peers/pymodbus_peer.py").path,
             "--port", "\(port)", "--out", out.path],
            name: "pymodbus peer")
        defer { peer.terminate() }
        try peer.waitForLine(containing: "pymodbus peer ready")
        usleep(300_000)  // the server binds right after printing

        let profile = try ConfigurationLoader.loadProfile(path: out.appendingPathComponent("pymodbus-peer.toml").path)
        let expectedData = try Data(contentsOf: out.appendingPathComponent("expected.json"))
        let expected = try #require(try JSONSerialization.jsonObject(with: expectedData) as? [String: Any])
        #expect(expected.count == profile.points.count)

        let device = DeviceDefinition(
            id: "peer", transport: .tcp(host: "127.0.0.1", port: port), unitID: 1, profile: profile,
            pollIntervalMS: 200, responseTimeoutMS: 1000, maxHoleRegisters: 4)
        let sink = InMemoryScanSink()
        let engine = PollEngine(devices: [device], sink: sink, logger: Logger(label: "test"))
        engine.start()
        defer { engine.stop() }
        let scan = try waitForScan(sink, device: "peer") { $0.goodCount > 0 }

        var checked = 0
        for (i, point) in profile.points.enumerated() {
            let want = expected[point.name]
            if want is NSNull {
                #expect(scan.qualities[i] == .notImplemented, "\(point.name) should read as not implemented")
            } else if let text = want as? String {
                #expect(scan.qualities[i] == .ok, "\(point.name): \(scan.qualities[i].name)")
                #expect(scan.texts[i] == text, "\(point.name)")
            } else {
                let number = try #require(want as? Double ?? (want as? NSNumber)?.doubleValue, "\(point.name)")
                #expect(scan.qualities[i] == .ok, "\(point.name): \(scan.qualities[i].name)")
                let tolerance = max(abs(number) * 1e-12, point.scale / 2 * 1e-6)
                #expect(abs(scan.values[i] - number) <= tolerance, "\(point.name): got \(scan.values[i]), want \(number)")
            }
            checked += 1
        }
        #expect(checked > 90)
        // Holes were read through, so far fewer requests than points.
        let stats = try #require(engine.statistics().first)
        #expect(stats.totalErrors == 0, "errors: \(stats.errorsByKind)")
    }
}

/// Waits until the sink holds a scan of `device` that satisfies `condition`.
func waitForScan(
    _ sink: InMemoryScanSink, device: String, timeout: Double = 15, after: Int64 = 0, _ condition: (Scan) -> Bool = { _ in true }
) throws -> Scan {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let scan = sink.scans(device).last(where: { $0.timestampMS > after && condition($0) }) { return scan }
        usleep(20_000)
    }
    let later = sink.scans(device).filter { $0.timestampMS > after }
    throw TestFailure(
        "no matching scan of \(device) within \(timeout) s (\(later.count) scans after \(after)); last: \(String(describing: sink.latest(device)))")
}
