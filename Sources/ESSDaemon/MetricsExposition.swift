import Foundation
public import ESSCore
public import ESSModbus

/// Everything one scrape shows, copied out of the daemon at scrape time.
public struct MetricsSnapshot: Sendable {
    /// essd's version, for `essd_build_info`.
    public var version: String
    public var siteID: String
    public var devices: [DeviceLatest]
    public var statistics: [DeviceStatistics]
    /// Site-derived values (NaN when unknown), or nil to leave `essd_site_signal` out.
    public var site: SiteValues?
    public var store: StoreMetrics?

    public init(
        version: String, siteID: String, devices: [DeviceLatest], statistics: [DeviceStatistics], site: SiteValues?,
        store: StoreMetrics?
    ) {
        self.version = version
        self.siteID = siteID
        self.devices = devices
        self.statistics = statistics
        self.site = site
        self.store = store
    }
}

/// The store's counters for metrics (a copy of `ScanStore.Statistics`' fields we expose).
public struct StoreMetrics: Sendable, Hashable {
    public var lastCheckpointMS: Int64?
    public var scansStored: Int
    public var scansDropped: Int
    public var checkpointFailures: Int

    public init(lastCheckpointMS: Int64?, scansStored: Int, scansDropped: Int, checkpointFailures: Int) {
        self.lastCheckpointMS = lastCheckpointMS
        self.scansStored = scansStored
        self.scansDropped = scansDropped
        self.checkpointFailures = checkpointFailures
    }
}

/// Formats a `MetricsSnapshot` in the Prometheus text exposition format 0.0.4: `# HELP` and
/// `# TYPE` once per family, label values escaped (`\\`, `\"`, `\n`), unknown values left out
/// (never 0). Pure: no I/O, no clock. Owns the metric names; not the HTTP (`MetricsServer`).
public enum MetricsExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Roles whose values are not measurements worth a gauge.
    static let skippedRoles: Set<SignalRole> = [.other, .identity, .scaleFactor]

    public static func render(_ snapshot: MetricsSnapshot) -> String {
        var out = Output()

        out.family("essd_build_info", .gauge, "essd build and site; always 1.")
        out.sample("essd_build_info", ["version": snapshot.version, "site": snapshot.siteID], 1)

        if let site = snapshot.site {
            out.family("essd_site_signal", .gauge, "Site-derived signal (SoC weighted by rated energy, power sum or meter, + = discharge).")
            let signals: [(String, String, Double)] = [
                ("soc_percent", "%", site.socPercent), ("active_power_kw", "kW", site.activePowerKW),
            ]
            for (name, unit, value) in signals where value.isFinite {
                out.sample("essd_site_signal", ["signal": name, "unit": unit], value)
            }
            out.family("essd_site_energy_kwh", .gauge, "Site cumulative energy counter (sum of devices or meter), kWh.")
            for (name, value) in [
                ("charge_energy_total_kwh", site.chargeEnergyTotalKWh),
                ("discharge_energy_total_kwh", site.dischargeEnergyTotalKWh),
            ] where value.isFinite {
                out.sample("essd_site_energy_kwh", ["signal": name], value)
            }
        }

        var signalLines: [(labels: [String: String], value: Double)] = []
        var energyLines: [(labels: [String: String], value: Double)] = []
        for entry in snapshot.devices {
            guard let scan = entry.scan else { continue }
            for (i, point) in entry.device.profile.points.enumerated() where i < scan.values.count {
                guard !skippedRoles.contains(point.role) else { continue }
                let quality = scan.qualities[i]
                let value = scan.values[i]
                guard quality == .ok || quality == .stale, value.isFinite else { continue }
                var labels = ["device": entry.device.id, "point": point.name, "role": point.role.rawValue]
                if point.role.isEnergyCounter {
                    energyLines.append((labels, value))
                } else {
                    labels["unit"] = DeviceLatest.unit(of: point) ?? ""
                    signalLines.append((labels, value))
                }
            }
        }
        out.family("essd_signal", .gauge, "Latest good value of a device point with a role, in its unit.")
        for line in signalLines { out.sample("essd_signal", line.labels, line.value) }
        out.family("essd_energy_kwh", .gauge, "Latest value of a device's cumulative energy counter, kWh (may reset when a controller is replaced).")
        for line in energyLines { out.sample("essd_energy_kwh", line.labels, line.value) }
        out.family("essd_signal_timestamp_seconds", .gauge, "Time of the device's latest scan, seconds since 1970.")
        for entry in snapshot.devices {
            if let scan = entry.scan {
                out.sample("essd_signal_timestamp_seconds", ["device": entry.device.id], Double(scan.timestampMS) / 1000)
            }
        }

        let stats = snapshot.statistics
        out.family("essd_device_up", .gauge, "1 when the device answered its last poll (state up or degraded), else 0.")
        for s in stats { out.sample("essd_device_up", ["device": s.deviceID], s.isUp ? 1 : 0) }
        out.family("essd_device_state", .gauge, "1 for the device's state (never, down, up, degraded), 0 for the others.")
        for s in stats {
            for state in DeviceState.allCases {
                out.sample("essd_device_state", ["device": s.deviceID, "state": state.rawValue], s.state == state ? 1 : 0)
            }
        }
        out.family("essd_device_refused_ranges", .gauge, "Register ranges the device refuses (exception 2 or 3), read around.")
        for s in stats { out.sample("essd_device_refused_ranges", ["device": s.deviceID], Double(s.refusedRanges.count)) }
        out.family("essd_device_refused_registers", .gauge, "Registers inside the ranges the device refuses.")
        for s in stats {
            out.sample("essd_device_refused_registers", ["device": s.deviceID], Double(s.refusedRanges.reduce(0) { $0 + $1.registers.count }))
        }
        out.family("essd_device_busy_retries_total", .counter, "Requests sent again after a busy (6) or acknowledge (5) answer.")
        for s in stats { out.sample("essd_device_busy_retries_total", ["device": s.deviceID], Double(s.busyRetries)) }
        out.family("essd_device_last_success_timestamp_seconds", .gauge, "Time of the device's last scan with a good point.")
        for s in stats {
            if let ms = s.lastSuccessMS {
                out.sample("essd_device_last_success_timestamp_seconds", ["device": s.deviceID], Double(ms) / 1000)
            }
        }
        out.family("essd_device_scans_total", .counter, "Polls of the device.")
        for s in stats { out.sample("essd_device_scans_total", ["device": s.deviceID], Double(s.scans)) }
        out.family("essd_device_requests_total", .counter, "Modbus requests answered by the device.")
        for s in stats { out.sample("essd_device_requests_total", ["device": s.deviceID], Double(s.requests)) }
        out.family("essd_device_errors_total", .counter, "Failed requests and connects of the device, by kind.")
        for s in stats {
            for (kind, count) in s.errorsByKind.sorted(by: { $0.key < $1.key }) {
                out.sample("essd_device_errors_total", ["device": s.deviceID, "kind": kind], Double(count))
            }
        }
        out.family(
            "essd_device_latency_seconds", .summary,
            "Request round-trip time: quantiles over the last 1024 requests; _count counts every request.")
        for s in stats {
            if let p50 = s.latencyP50US {
                out.sample("essd_device_latency_seconds", ["device": s.deviceID, "quantile": "0.5"], Double(p50) / 1e6)
            }
            if let p99 = s.latencyP99US {
                out.sample("essd_device_latency_seconds", ["device": s.deviceID, "quantile": "0.99"], Double(p99) / 1e6)
            }
            out.sample("essd_device_latency_seconds_count", ["device": s.deviceID], Double(s.requests))
        }
        out.family("essd_device_reconnects_total", .counter, "Connections opened to the device after the first.")
        for s in stats { out.sample("essd_device_reconnects_total", ["device": s.deviceID], Double(s.reconnects)) }
        out.family("essd_device_missed_cycles_total", .counter, "Polls skipped because the previous one overran.")
        for s in stats { out.sample("essd_device_missed_cycles_total", ["device": s.deviceID], Double(s.missedCycles)) }

        if let store = snapshot.store {
            out.family("essd_store_last_checkpoint_timestamp_seconds", .gauge, "Time of the store's last durable checkpoint.")
            if let ms = store.lastCheckpointMS {
                out.sample("essd_store_last_checkpoint_timestamp_seconds", [:], Double(ms) / 1000)
            }
            out.family("essd_store_scans_stored_total", .counter, "Scans written to the store.")
            out.sample("essd_store_scans_stored_total", [:], Double(store.scansStored))
            out.family("essd_store_scans_dropped_total", .counter, "Scans dropped because the store's queue was full.")
            out.sample("essd_store_scans_dropped_total", [:], Double(store.scansDropped))
            out.family("essd_store_checkpoint_failures_total", .counter, "Checkpoints that failed.")
            out.sample("essd_store_checkpoint_failures_total", [:], Double(store.checkpointFailures))
        }
        return out.text
    }

    enum MetricType: String {
        case gauge, counter, summary
    }

    /// Escapes a label value: backslash, double quote and line feed.
    public static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Escapes HELP text: backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A sample value: integers without a fraction, `NaN`, `+Inf`, `-Inf` spelled as the format wants.
    public static func formatValue(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A label name is safe when it matches `[a-zA-Z_][a-zA-Z0-9_]*` (ours always are).
    struct Output {
        var text = ""

        mutating func family(_ name: String, _ type: MetricType, _ help: String) {
            text += "# HELP \(name) \(MetricsExposition.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
        }

        mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
            text += name
            if !labels.isEmpty {
                text += "{"
                text += labels.sorted { $0.key < $1.key }
                    .map { "\($0.key)=\"\(MetricsExposition.escapeLabelValue($0.value))\"" }
                    .joined(separator: ",")
                text += "}"
            }
            text += " \(MetricsExposition.formatValue(value))\n"
        }
    }
}
