/// One sample of a derived series group (the site's): schema-ordered values and qualities.
public struct SeriesSample: Sendable, Hashable {
    public var timestampMS: Int64
    public var values: [Double]
    public var qualities: [PointQuality]

    public init(timestampMS: Int64, values: [Double], qualities: [PointQuality]) {
        self.timestampMS = timestampMS
        self.values = values
        self.qualities = qualities
    }
}

/// Derives the site's signals (group id "site") from the latest scans of its devices.
/// Owns the latest valid value of each contributing point; not the consolidation of the
/// site series (feed `sample(atMS:)` to a `SeriesConsolidator` of `schema`) nor storage.
///
/// Site signals, each present only when some device can contribute to it:
/// - `soc_percent`: mean of the devices' `soc_percent` weighted by each device's
///   `ratedEnergyKWh`; when some such device has no (positive) rating, a plain mean, and
///   `socUsesEqualWeights` is true so the caller can say so.
/// - `active_power_kw`: the storage meter's, when `meterDeviceID` names a device with an
///   active-power point; otherwise the sum over every device with one.
/// - `available`: 1 when every device with an `available` point reports non-zero and no
///   device with a `fault` point reports non-zero; else 0.
/// - `charge_energy_total_kwh` / `discharge_energy_total_kwh`: the meter's counters (its
///   charge/discharge counters, else its import/export ones) when a meter is named and has
///   them; otherwise the sum of the devices' charge/discharge counters. A counter reset on one
///   device is a drop of the sum, which the consolidator counts as a reset.
///
/// Validity: a site value is valid only when every contributing point's latest value is
/// valid (quality `.ok`, finite) and recent (read within its heartbeat, 3 × its poll
/// interval, of the sample time); otherwise the site value is a gap: NaN with quality
/// `.communicationFailure`. `.stale` scan values keep the point's last read value and time.
public struct SiteAggregator: Sendable {
    /// The site's series: group id "site", one signal per derivable site value.
    public let schema: SeriesSchema
    /// True when site SoC is a plain mean because some battery device lacks `ratedEnergyKWh`.
    public let socUsesEqualWeights: Bool
    /// The storage meter whose power and counters stand for the site, if configured and found.
    public let meterDeviceID: String?

    private let derivations: [Derivation]
    private let deviceIndex: [String: Int]
    /// Per device, per point: the latest reading (nil when never read or the last read failed).
    private var latest: [[Reading?]]
    private let heartbeats: [[Int64]]

    /// The site's aggregator for `devices`. `meterDeviceID` names the storage meter, if any
    /// (ignored when no such device exists).
    public init(devices: [DeviceDefinition], meterDeviceID: String? = nil, tiers: [TierDefinition] = TierDefinition.defaults) {
        var index: [String: Int] = [:]
        for (i, d) in devices.enumerated() where index[d.id] == nil { index[d.id] = i }
        deviceIndex = index
        latest = devices.map { Array(repeating: nil, count: $0.profile.points.count) }
        heartbeats = devices.map { d in
            d.profile.points.map { SignalDefinition.heartbeat(intervalMS: Int64(d.pollIntervalMS * max(1, $0.pollMultiple))) }
        }
        let meter = meterDeviceID.flatMap { index[$0] }
        self.meterDeviceID = meter.map { devices[$0].id }

        func points(_ role: SignalRole, in deviceIndices: [Int]) -> [PointRef] {
            deviceIndices.compactMap { d in
                devices[d].profile.points.firstIndex { $0.role == role }.map { PointRef(device: d, point: $0) }
            }
        }
        let all = Array(devices.indices)
        var derivations: [Derivation] = []

        let soc = points(.socPercent, in: all)
        let ratings = soc.map { devices[$0.device].ratedEnergyKWh ?? 0 }
        let equal = ratings.contains { !($0 > 0) || !$0.isFinite }
        socUsesEqualWeights = !soc.isEmpty && equal
        if !soc.isEmpty {
            derivations.append(Derivation(role: .socPercent, kind: .weightedMean(equal ? ratings.map { _ in 1 } : ratings), inputs: soc))
        }

        var power = meter.map { points(.activePowerKW, in: [$0]) } ?? []
        if power.isEmpty { power = points(.activePowerKW, in: all) }
        if !power.isEmpty { derivations.append(Derivation(role: .activePowerKW, kind: .sum, inputs: power)) }

        let available = points(.available, in: all)
        let fault = points(.fault, in: all)
        if !available.isEmpty || !fault.isEmpty {
            derivations.append(Derivation(role: .available, kind: .availability(availableCount: available.count), inputs: available + fault))
        }

        for (role, meterRole) in [(SignalRole.chargeEnergyTotalKWh, SignalRole.meterImportEnergyTotalKWh), (.dischargeEnergyTotalKWh, .meterExportEnergyTotalKWh)] {
            var counter: [PointRef] = []
            if let meter {
                counter = points(role, in: [meter])
                if counter.isEmpty { counter = points(meterRole, in: [meter]) }
            }
            if counter.isEmpty { counter = points(role, in: all) }
            if !counter.isEmpty { derivations.append(Derivation(role: role, kind: .sum, inputs: counter)) }
        }
        self.derivations = derivations

        let heartbeats = self.heartbeats
        let signals = derivations.map { derivation in
            SignalDefinition(
                name: derivation.role.rawValue, role: derivation.role,
                heartbeatMS: derivation.inputs.map { heartbeats[$0.device][$0.point] }.max() ?? 3000,
                tiers: SignalDefinition.defaultTiers(for: derivation.role, all: tiers))
        }
        let roles = derivations.map(\.role)
        schema = SeriesSchema(
            groupID: "site", signals: signals,
            energy: EnergySources(
                activePower: roles.firstIndex(of: .activePowerKW),
                chargeCounter: roles.firstIndex(of: .chargeEnergyTotalKWh),
                dischargeCounter: roles.firstIndex(of: .dischargeEnergyTotalKWh)))
    }

    /// Remembers a device's scan (scans of unknown devices are ignored).
    public mutating func accept(_ scan: Scan) {
        guard let d = deviceIndex[scan.deviceID] else { return }
        let n = min(latest[d].count, scan.values.count, scan.qualities.count)
        for p in 0..<n {
            switch scan.qualities[p] {
            case .stale: continue
            case .ok where scan.values[p].isFinite: latest[d][p] = Reading(value: scan.values[p], timestampMS: scan.timestampMS)
            default: latest[d][p] = nil
            }
        }
    }

    /// The site's values at `nowMS` from the scans accepted so far, in `schema` order.
    public func sample(atMS nowMS: Int64) -> SeriesSample {
        var values: [Double] = []
        var qualities: [PointQuality] = []
        for derivation in derivations {
            var inputs: [Double] = []
            inputs.reserveCapacity(derivation.inputs.count)
            for ref in derivation.inputs {
                guard let reading = latest[ref.device][ref.point],
                    nowMS >= reading.timestampMS, nowMS - reading.timestampMS <= heartbeats[ref.device][ref.point]
                else { break }
                inputs.append(reading.value)
            }
            if inputs.count == derivation.inputs.count {
                values.append(derivation.kind.combine(inputs))
                qualities.append(.ok)
            } else {
                values.append(.nan)
                qualities.append(.communicationFailure)
            }
        }
        return SeriesSample(timestampMS: nowMS, values: values, qualities: qualities)
    }
}

private struct PointRef: Sendable, Hashable {
    var device: Int
    var point: Int
}

private struct Reading: Sendable, Hashable {
    var value: Double
    var timestampMS: Int64
}

private struct Derivation: Sendable {
    enum Kind: Sendable {
        case weightedMean([Double])
        case sum
        /// Inputs: the `available` points first, then the `fault` points.
        case availability(availableCount: Int)

        func combine(_ inputs: [Double]) -> Double {
            switch self {
            case .weightedMean(let weights):
                var sum = 0.0
                var weight = 0.0
                for (v, w) in zip(inputs, weights) {
                    sum += v * w
                    weight += w
                }
                return sum / weight
            case .sum:
                return inputs.reduce(0, +)
            case .availability(let availableCount):
                let allAvailable = inputs[..<availableCount].allSatisfy { $0 != 0 }
                let anyFault = inputs[availableCount...].contains { $0 != 0 }
                return allAvailable && !anyFault ? 1 : 0
            }
        }
    }

    var role: SignalRole
    var kind: Kind
    var inputs: [PointRef]
}
