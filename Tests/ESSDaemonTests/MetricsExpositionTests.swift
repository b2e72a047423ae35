import ESSCore
@testable import ESSDaemon
@testable import ESSModbus
@testable import ESSStore
import ESSTestSupport
import Foundation
import Testing

enum MetricsFixture {
    static let bms = DeviceDefinition(
        id: "bms1", transport: .tcp(host: "127.0.0.1", port: 1502),
        profile: RegisterProfile(
            name: "bms",
            points: [
                PointDefinition(name: "soc", role: .socPercent, address: 0),
                PointDefinition(name: "charge_total", role: .chargeEnergyTotalKWh, address: 1),
                PointDefinition(name: "cell_temp_max", role: .cellTempMaxC, address: 2),
                PointDefinition(name: "serial", role: .identity, address: 3),
                PointDefinition(name: "odd \"name\"\\x\n", role: .dcVoltageV, address: 4, unit: "V"),
                PointDefinition(name: "failed", role: .dcCurrentA, address: 5),
            ]),
        ratedEnergyKWh: 1000)
    static let pcs = DeviceDefinition(
        id: "pcs1", transport: .tcp(host: "127.0.0.1", port: 1502), unitID: 2,
        profile: RegisterProfile(name: "pcs", points: [PointDefinition(name: "p", role: .activePowerKW, address: 0)]))

    static func snapshot() -> MetricsSnapshot {
        let latest = LatestValues(devices: [bms, pcs])
        latest.accept(
            Scan(
                deviceID: "bms1", timestampMS: 1_700_000_000_000, values: [55.5, 1234.25, 31, 7, 801.5, .nan],
                qualities: [.ok, .ok, .ok, .ok, .ok, .timeout]))
        latest.accept(Scan(deviceID: "pcs1", timestampMS: 1_700_000_000_000, values: [-250], qualities: [.ok]))
        var up = DeviceStatistics(
            deviceID: "bms1", endpoint: "tcp://127.0.0.1:1502", unitID: 1, state: .up, scans: 10, requests: 40,
            errorsByKind: ["timeout": 2, "exception_2": 1], lastSuccessMS: 1_700_000_000_000, reconnects: 1,
            missedCycles: 0)
        up.latencyP50US = 1200
        up.latencyP99US = 4500
        let down = DeviceStatistics(
            deviceID: "pcs1", endpoint: "tcp://127.0.0.1:1502", unitID: 2, state: .down, scans: 3, requests: 0,
            errorsByKind: [:], lastSuccessMS: nil, reconnects: 0, missedCycles: 2)
        return MetricsSnapshot.collect(
            version: "0.1.0 \"dev\"", siteID: "demo", latestValues: latest, statistics: [up, down],
            store: {
                var s = ScanStore.Statistics()
                s.scansStored = 99
                s.scansDropped = 1
                s.lastCheckpointMS = 1_700_000_000_500
                return s
            }(), nowMS: 1_700_000_000_100)
    }
}

struct MetricsExpositionTests {
    @Test func rendersTheFamiliesAndLabels() {
        let text = MetricsExposition.render(MetricsFixture.snapshot())
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "essd_build_info{site=\"demo\",version=\"0.1.0 \\\"dev\\\"\"} 1",
            "essd_signal{device=\"bms1\",point=\"soc\",role=\"soc_percent\",unit=\"%\"} 55.5",
            "essd_signal{device=\"pcs1\",point=\"p\",role=\"active_power_kw\",unit=\"kW\"} -250",
            "essd_signal{device=\"bms1\",point=\"odd \\\"name\\\"\\\\x\\n\",role=\"dc_voltage_v\",unit=\"V\"} 801.5",
            "essd_energy_kwh{device=\"bms1\",point=\"charge_total\",role=\"charge_energy_total_kwh\"} 1234.25",
            "essd_site_signal{signal=\"soc_percent\",unit=\"%\"} 55.5",
            "essd_site_signal{signal=\"active_power_kw\",unit=\"kW\"} -250",
            "essd_device_up{device=\"bms1\"} 1", "essd_device_up{device=\"pcs1\"} 0",
            "essd_device_requests_total{device=\"bms1\"} 40",
            "essd_device_errors_total{device=\"bms1\",kind=\"timeout\"} 2",
            "essd_device_errors_total{device=\"bms1\",kind=\"exception_2\"} 1",
            "essd_device_latency_seconds{device=\"bms1\",quantile=\"0.5\"} 0.0012",
            "essd_device_latency_seconds{device=\"bms1\",quantile=\"0.99\"} 0.0045",
            "essd_device_reconnects_total{device=\"bms1\"} 1",
            "essd_store_last_checkpoint_timestamp_seconds 1700000000.5",
            "essd_store_scans_stored_total 99", "essd_store_scans_dropped_total 1",
            "# TYPE essd_device_requests_total counter", "# TYPE essd_signal gauge",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        // Unknown values are left out, never 0; identity points are not gauges.
        #expect(!text.contains("point=\"failed\""))
        #expect(!text.contains("point=\"serial\""))
        #expect(!text.contains("essd_device_latency_seconds{device=\"pcs1\""))
        // One HELP and one TYPE per family.
        let types = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
        #expect(Set(types).count == types.count)
    }

    @Test func escapingAndValues() {
        #expect(MetricsExposition.escapeLabelValue("a\\b\"c\nd") == "a\\\\b\\\"c\\nd")
        #expect(MetricsExposition.formatValue(.nan) == "NaN")
        #expect(MetricsExposition.formatValue(.infinity) == "+Inf")
        #expect(MetricsExposition.formatValue(-.infinity) == "-Inf")
        #expect(MetricsExposition.formatValue(3) == "3")
        #expect(MetricsExposition.formatValue(0.25) == "0.25")
    }

    /// The exposition passes `promtool check metrics` (Debian package `prometheus`).
    @Test func passesPromtool() throws {
        guard let promtool = TestEnvironment.which("promtool") else {
            Issue.record("promtool not installed: apt-get install -y prometheus (scripts/setup-debian.sh does)")
            return
        }
        let text = MetricsExposition.render(MetricsFixture.snapshot())
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "promtool check metrics:\n\(report)\n--- exposition:\n\(text)")
    }
}
