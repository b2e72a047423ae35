public import ESSCore
public import Logging
import Synchronization

/// Keeps the latest scan of each device and the most recent scans in memory: the sink for
/// tests and for essd until a persistent store exists.
public final class InMemoryScanSink: ScanSink {
    private struct State {
        var latest: [String: Scan] = [:]
        var recent: [String: [Scan]] = [:]
    }

    private let state = Mutex(State())
    /// Scans kept per device.
    public let capacityPerDevice: Int

    public init(capacityPerDevice: Int = 10_000) { self.capacityPerDevice = capacityPerDevice }

    public func accept(_ scan: Scan) {
        state.withLock { state in
            state.latest[scan.deviceID] = scan
            state.recent[scan.deviceID, default: []].append(scan)
            if state.recent[scan.deviceID]!.count > capacityPerDevice {
                state.recent[scan.deviceID]!.removeFirst(capacityPerDevice / 10 + 1)
            }
        }
    }

    /// The latest scan of a device, if any.
    public func latest(_ deviceID: String) -> Scan? { state.withLock { $0.latest[deviceID] } }

    /// The scans kept for a device, oldest first.
    public func scans(_ deviceID: String) -> [Scan] { state.withLock { $0.recent[deviceID] ?? [] } }
}

/// Logs one line per scan with the values of a device's role points: for demos and debugging.
public struct LoggingScanSink: ScanSink {
    private let logger: Logger
    private let profiles: [String: RegisterProfile]
    private let level: Logger.Level

    public init(devices: [DeviceDefinition], logger: Logger, level: Logger.Level = .info) {
        self.logger = logger
        self.level = level
        profiles = Dictionary(devices.map { ($0.id, $0.profile) }, uniquingKeysWith: { a, _ in a })
    }

    public func accept(_ scan: Scan) {
        guard logger.logLevel <= level, let profile = profiles[scan.deviceID] else { return }
        logger.log(level: level, "\(Self.summary(scan, profile: profile))")
    }

    /// "pcs1 ok 14/16 active_power=-50.00kW soc=..." for the points with a role.
    public static func summary(_ scan: Scan, profile: RegisterProfile) -> String {
        let due = scan.qualities.reduce(0) { $0 + ($1 == .stale ? 0 : 1) }
        var parts = ["\(scan.deviceID) ok \(scan.goodCount)/\(due) due"]
        for (i, point) in profile.points.enumerated() where point.role != .other && point.role != .identity && point.role != .scaleFactor {
            let quality = scan.qualities[i]
            if quality == .ok {
                let unit = point.unit ?? point.role.unit ?? ""
                parts.append("\(point.name)=\(format(scan.values[i]))\(unit)")
            } else if quality != .stale {
                parts.append("\(point.name)=<\(quality.name)>")
            }
        }
        return parts.joined(separator: " ")
    }

    private static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let scaled = (value * 1000).rounded() / 1000
        return "\(scaled)"
    }
}

/// Hands every scan to several sinks in order.
public struct FanOutScanSink: ScanSink {
    private let sinks: [any ScanSink]
    public init(_ sinks: [any ScanSink]) { self.sinks = sinks }
    public func accept(_ scan: Scan) { for sink in sinks { sink.accept(scan) } }
}
