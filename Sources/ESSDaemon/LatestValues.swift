public import ESSCore
import Synchronization

/// A device's definition with its latest scan (nil before the first).
public struct DeviceLatest: Sendable, Hashable {
    public var device: DeviceDefinition
    public var scan: Scan?

    public init(device: DeviceDefinition, scan: Scan?) {
        self.device = device
        self.scan = scan
    }

    /// The point's unit: the profile's, else its role's.
    public static func unit(of point: PointDefinition) -> String? { point.unit ?? point.role.unit }

    /// Point by point, in profile order, for the `latest` request.
    public var latestDevice: LatestDevice {
        guard let scan else { return LatestDevice(deviceID: device.id, timestampMS: nil, points: []) }
        let points = device.profile.points.enumerated().compactMap { index, point -> LatestPoint? in
            guard index < scan.values.count else { return nil }
            let quality = scan.qualities[index]
            let usable = quality == .ok || quality == .stale
            return LatestPoint(
                name: point.name, role: point.role.rawValue, unit: Self.unit(of: point),
                value: usable ? scan.values[index] : nil, quality: quality.name, text: scan.texts[index])
        }
        return LatestDevice(deviceID: device.id, timestampMS: scan.timestampMS, points: points)
    }
}

/// The site's derived values now (see `SiteAggregator`): NaN when unknown.
public struct SiteValues: Sendable, Hashable {
    public var socPercent: Double
    /// True when SoC is a plain mean because some battery has no rated energy.
    public var socUsesEqualWeights: Bool
    /// + = discharging.
    public var activePowerKW: Double
    public var chargeEnergyTotalKWh: Double
    public var dischargeEnergyTotalKWh: Double
}

/// Keeps the latest scan of every device, for the status socket and the metrics. A `ScanSink`:
/// `accept` (on polling threads) takes a lock, stores the scan and feeds the site aggregator,
/// nothing more. Owns no history (the store does) and no statistics (the poll engine does).
public final class LatestValues: ScanSink, Sendable {
    private struct State {
        var devices: [DeviceDefinition]
        var index: [String: Int]
        var scans: [Scan?]
        /// Per device: the last text read of each text point (identity points are read rarely,
        /// so most scans carry none).
        var texts: [[Int: String]]
        var aggregator: SiteAggregator
        var lastGoodScanMS: Int64?
    }

    private let state: Mutex<State>

    /// Latest values of `devices`; `meterDeviceID` names the storage meter (as `[store] meter_device`).
    public init(devices: [DeviceDefinition], meterDeviceID: String? = nil) {
        state = Mutex(Self.state(devices: devices, meterDeviceID: meterDeviceID, keeping: nil))
    }

    private static func state(devices: [DeviceDefinition], meterDeviceID: String?, keeping old: State?) -> State {
        var index: [String: Int] = [:]
        for (i, device) in devices.enumerated() where index[device.id] == nil { index[device.id] = i }
        var aggregator = SiteAggregator(devices: devices, meterDeviceID: meterDeviceID)
        var scans = [Scan?](repeating: nil, count: devices.count)
        var texts = [[Int: String]](repeating: [:], count: devices.count)
        if let old {
            // Keep the scans of devices whose profile did not change.
            for (i, device) in devices.enumerated() {
                guard let j = old.index[device.id], old.devices[j].profile == device.profile, let scan = old.scans[j]
                else { continue }
                scans[i] = scan
                texts[i] = old.texts[j]
                aggregator.accept(scan)
            }
        }
        return State(
            devices: devices, index: index, scans: scans, texts: texts, aggregator: aggregator,
            lastGoodScanMS: old?.lastGoodScanMS)
    }

    /// Scan `i` with the last texts read of its device (nil before the first scan).
    private static func withTexts(_ state: State, _ i: Int) -> Scan? {
        guard var scan = state.scans[i] else { return nil }
        scan.texts = state.texts[i]
        return scan
    }

    public func accept(_ scan: Scan) {
        state.withLock { state in
            guard let i = state.index[scan.deviceID] else { return }
            state.scans[i] = scan
            if !scan.texts.isEmpty { state.texts[i].merge(scan.texts) { _, new in new } }
            state.aggregator.accept(scan)
            if scan.goodCount > 0 { state.lastGoodScanMS = max(state.lastGoodScanMS ?? .min, scan.timestampMS) }
        }
    }

    /// After a reload: the new device list; scans of unchanged devices are kept.
    public func reconfigure(devices: [DeviceDefinition], meterDeviceID: String? = nil) {
        state.withLock { state in
            state = Self.state(devices: devices, meterDeviceID: meterDeviceID, keeping: state)
        }
    }

    /// Every device with its latest scan, in configuration order.
    public func snapshot() -> [DeviceLatest] {
        state.withLock { state in
            state.devices.indices.map { DeviceLatest(device: state.devices[$0], scan: Self.withTexts(state, $0)) }
        }
    }

    /// The latest scan of one device.
    public func latest(_ deviceID: String) -> Scan? {
        state.withLock { state in state.index[deviceID].flatMap { Self.withTexts(state, $0) } }
    }

    /// The last texts read of a device's identity points, by point name.
    public func identityTexts(_ deviceID: String) -> [String: String] {
        state.withLock { state in
            guard let i = state.index[deviceID] else { return [:] }
            var texts: [String: String] = [:]
            for (index, point) in state.devices[i].profile.points.enumerated() where point.role == .identity {
                if let text = state.texts[i][index], !text.isEmpty { texts[point.name] = text }
            }
            return texts
        }
    }

    /// UTC ms of the newest scan with at least one good point.
    public var lastGoodScanMS: Int64? { state.withLock { $0.lastGoodScanMS } }

    /// The site's SoC, power and energy counters at `nowMS`, derived as the store derives the
    /// `site` series: a value is unknown (NaN) when a contributing point is invalid or older
    /// than its heartbeat.
    public func site(atMS nowMS: Int64) -> SiteValues {
        state.withLock { state in
            let sample = state.aggregator.sample(atMS: nowMS)
            let signals = state.aggregator.schema.signals
            func value(_ role: SignalRole) -> Double {
                guard let i = signals.firstIndex(where: { $0.role == role }), sample.qualities[i] == .ok else {
                    return .nan
                }
                return sample.values[i]
            }
            return SiteValues(
                socPercent: value(.socPercent), socUsesEqualWeights: state.aggregator.socUsesEqualWeights,
                activePowerKW: value(.activePowerKW), chargeEnergyTotalKWh: value(.chargeEnergyTotalKWh),
                dischargeEnergyTotalKWh: value(.dischargeEnergyTotalKWh))
        }
    }
}
