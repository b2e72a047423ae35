import ESSCore
import Logging

/// Polls one device once per call: runs the cycle's read plan on a connection and turns
/// the answers into a `Scan` with a quality per point. A failing request marks only its own
/// points; after a timeout the device's remaining requests in this cycle are not sent (one
/// timeout is a dead device's whole budget per cycle, so it cannot hold up a shared bus).
///
/// Confined to its connection's thread, like the connection.
struct DevicePoller {
    let device: DeviceDefinition
    let plan: DevicePollPlan
    /// For each point, the index of its scale-factor point, if any.
    private let scaleFactorIndex: [Int?]
    /// The points reduced for decoding (no strings: no retain/release per point).
    private let compiled: [CompiledPoint]
    private let addresses: [Int]
    private var lastGoodValues: [Double]
    private(set) var isUp: Bool?
    private var hasReadEveryPoint = false

    init(device: DeviceDefinition) {
        self.device = device
        let points = device.profile.points
        plan = DevicePollPlan(
            points: points,
            limits: ReadPlanLimits(
                maxRegisters: device.maxRegistersPerRequest, maxBits: device.maxBitsPerRequest,
                maxHole: device.maxHoleRegisters))
        scaleFactorIndex = points.map { point in
            point.scaleFactorPoint.flatMap { name in points.firstIndex { $0.name == name } }
        }
        lastGoodValues = [Double](repeating: .nan, count: points.count)
        compiled = points.map(CompiledPoint.init)
        addresses = points.map(\.address)
    }

    /// Outcome of one poll, for the connection's bookkeeping.
    struct Outcome {
        var scan: Scan
        var goodRequests: Int
        var failedRequests: Int
        /// The connection must be closed before the next request (timeout on TCP, reset, ...).
        var connectionSuspect: Bool
    }

    /// Polls once. `connection` is nil (with `connectError`) when the link could not be opened
    /// (now, or during the backoff after a failed attempt): then every due point is marked bad
    /// without any I/O.
    mutating func poll(
        connection: ModbusConnection?, connectError: ModbusError?, connectAttempted: Bool, cycle: Int, timestampMS: Int64,
        buffer: UnsafeMutableBufferPointer<UInt16>,
        record: (_ update: (inout DeviceStatisticsRecorder) -> Void) -> Void
    ) -> Outcome {
        let points = device.profile.points
        var values = [Double](repeating: .nan, count: points.count)
        var qualities = [PointQuality](repeating: .stale, count: points.count)
        var texts: [Int: String] = [:]
        for i in points.indices where lastGoodValues[i].isFinite { values[i] = lastGoodValues[i] }

        var good = 0
        var failed = 0
        var suspect = false
        var budgetSpent: PointQuality? = connectError.map { Self.quality(for: $0) }
        // Count a failed connect once per attempt, not once per cycle spent in backoff.
        if let connectError, connectAttempted { record { $0.recordError(connectError) } }

        // Until every point has been read once, read them all (cycle 0 of the plan), so slow
        // points such as serial numbers are known from the first poll, not after 3600 cycles.
        let requests = plan.requests(cycle: hasReadEveryPoint ? cycle : 0)
        for (n, request) in requests.enumerated() {
            if let spent = budgetSpent {
                for i in request.pointIndices { qualities[i] = spent; values[i] = .nan }
                continue
            }
            guard let connection else { continue }
            if n > 0, device.interRequestDelayMS > 0 {
                PollClock.sleep(untilMonotonicNS: PollClock.monotonicNS() + Int64(device.interRequestDelayMS) * 1_000_000)
            }
            let started = PollClock.monotonicNS()
            do {
                try connection.read(
                    unitID: device.unitID, kind: request.kind, address: request.startAddress, count: request.count,
                    into: buffer)
                let latencyUS = Int((PollClock.monotonicNS() - started) / 1000)
                record { $0.recordRequest(latencyUS: latencyUS) }
                good += 1
                decode(request: request, words: UnsafeBufferPointer(buffer), values: &values, qualities: &qualities, texts: &texts)
            } catch {
                let latencyUS = Int((PollClock.monotonicNS() - started) / 1000)
                record {
                    $0.recordRequest(latencyUS: latencyUS)
                    $0.recordError(error)
                }
                failed += 1
                let quality = Self.quality(for: error)
                for i in request.pointIndices { qualities[i] = quality; values[i] = .nan }
                switch error.kind {
                case .timeout:
                    budgetSpent = .timeout
                    suspect = true
                case .badResponse:
                    suspect = true
                case .protocolError:
                    // The link was resynchronised; a device that lied spends its cycle (as a timeout).
                    budgetSpent = .protocolError
                    suspect = true
                case .connectionRefused, .connectionReset, .system:
                    budgetSpent = .communicationFailure
                    suspect = true
                case .exception, .invalidRequest:
                    break
                }
            }
        }
        if good > 0 || failed > 0 || connectError != nil {
            isUp = good > 0
        }
        if good > 0 && failed == 0 && connectError == nil { hasReadEveryPoint = true }
        let scan = Scan(deviceID: device.id, timestampMS: timestampMS, values: values, qualities: qualities, texts: texts)
        return Outcome(scan: scan, goodRequests: good, failedRequests: failed, connectionSuspect: suspect)
    }

    private mutating func decode(
        request: ReadRequest, words: UnsafeBufferPointer<UInt16>, values: inout [Double],
        qualities: inout [PointQuality], texts: inout [Int: String]
    ) {
        for i in request.pointIndices {
            let point = compiled[i]
            let offset = addresses[i] - request.startAddress
            if case .string = point.type {
                texts[i] = RegisterDecoder.decodeText(device.profile.points[i], words: words, offset: offset)
                qualities[i] = .ok
                values[i] = .nan
                continue
            }
            var exponent: Int16? = nil
            if let sf = scaleFactorIndex[i] {
                exponent = RegisterDecoder.scaleFactorExponent(words: words, offset: addresses[sf] - request.startAddress)
            }
            if let value = point.decode(words: words, at: offset, scaleFactorExponent: exponent) {
                values[i] = value
                qualities[i] = .ok
                lastGoodValues[i] = value
            } else {
                values[i] = .nan
                qualities[i] = .notImplemented
            }
        }
    }

    static func quality(for error: ModbusError) -> PointQuality {
        switch error.kind {
        case .timeout: .timeout
        case .exception(let code): .exception(code)
        case .protocolError: .protocolError
        case .connectionRefused, .connectionReset, .badResponse, .invalidRequest, .system: .communicationFailure
        }
    }
}
