public import ESSCore
import Synchronization

/// A snapshot of one device's polling health, for status queries and metrics.
public struct DeviceStatistics: Sendable, Hashable {
    public var deviceID: String
    public var endpoint: String
    public var unitID: Int
    /// never / down / up / degraded, from the last poll (see `DeviceState`).
    public var state: DeviceState
    /// True while the device answers (up or degraded).
    public var isUp: Bool { state.isAnswering }
    public var scans: Int
    public var requests: Int
    /// Failed requests (and failed connects) by `ModbusError.kindName`.
    public var errorsByKind: [String: Int]
    /// UTC ms of the last scan with at least one good point, or nil if none yet.
    public var lastSuccessMS: Int64?
    /// Request round-trip latency percentiles over the recent window, in microseconds.
    public var latencyP50US: Int?
    public var latencyP99US: Int?
    /// How late polls started after their scheduled instant, percentiles in microseconds.
    public var startLatenessP50US: Int?
    public var startLatenessP99US: Int?
    /// Connections opened after the first one.
    public var reconnects: Int
    /// Polls skipped because the previous one overran its interval.
    public var missedCycles: Int
    /// Requests sent again after a busy (6) or acknowledge (5) answer.
    public var busyRetries: Int = 0
    /// Extra requests sent to split reads the device refused (exception 2 or 3).
    public var splitRequests: Int = 0
    /// The register ranges the device refuses, learnt by splitting; the planner reads around them.
    public var refusedRanges: [RefusedRange] = []

    public var totalErrors: Int { errorsByKind.values.reduce(0, +) }
}

/// Collects one device's statistics on its polling thread; `snapshot()` copies them out.
/// Fixed-size latency windows: recording allocates nothing.
struct DeviceStatisticsRecorder {
    var stats: DeviceStatistics
    private var latencies = PercentileWindow(capacity: 1024)
    private var lateness = PercentileWindow(capacity: 1024)

    init(deviceID: String, endpoint: String, unitID: Int) {
        stats = DeviceStatistics(
            deviceID: deviceID, endpoint: endpoint, unitID: unitID, state: .never, scans: 0, requests: 0,
            errorsByKind: [:], lastSuccessMS: nil, reconnects: 0, missedCycles: 0)
    }

    mutating func recordRequest(latencyUS: Int) {
        stats.requests += 1
        latencies.add(latencyUS)
    }

    mutating func recordError(_ error: ModbusError) {
        stats.errorsByKind[error.kindName, default: 0] += 1
    }

    mutating func recordStart(latenessUS: Int) { lateness.add(latenessUS) }

    func snapshot() -> DeviceStatistics {
        var copy = stats
        copy.latencyP50US = latencies.percentile(0.50)
        copy.latencyP99US = latencies.percentile(0.99)
        copy.startLatenessP50US = lateness.percentile(0.50)
        copy.startLatenessP99US = lateness.percentile(0.99)
        return copy
    }
}

/// The last `capacity` samples, for percentiles (nearest-rank).
struct PercentileWindow {
    private var samples: [Int]
    private var next = 0
    private var filled = 0

    init(capacity: Int) { samples = [Int](repeating: 0, count: capacity) }

    mutating func add(_ value: Int) {
        samples[next] = value
        next = (next + 1) % samples.count
        filled = min(filled + 1, samples.count)
    }

    func percentile(_ p: Double) -> Int? {
        guard filled > 0 else { return nil }
        let sorted = samples[0..<filled].sorted()
        let rank = Int((p * Double(filled)).rounded(.up)) - 1
        return sorted[max(0, min(filled - 1, rank))]
    }
}

/// A device's recorder behind a lock: written by its polling thread, read by status queries.
final class SharedStatisticsRecorder: Sendable {
    private let state: Mutex<DeviceStatisticsRecorder>

    init(_ recorder: DeviceStatisticsRecorder) { state = Mutex(recorder) }

    func withLock<T>(_ body: (inout DeviceStatisticsRecorder) -> T) -> T {
        state.withLock { body(&$0) }
    }
}
