public import ESSCore
public import ESSModbus
public import ESSStore
import Foundation
import Synchronization

/// The daemon's `StatusProvider`: answers from `LatestValues`, the poll engine's statistics,
/// the store's counters and files, and the site configuration. Takes closures, not the engine
/// and store themselves, so tests and reloads can swap them. Reads only.
public final class SiteStatusProvider: StatusProvider {
    private struct Config {
        var site: SiteConfiguration
        var retention: [TierRetention]
    }

    private let config: Mutex<Config>
    private let latestValues: LatestValues
    private let deviceStatistics: @Sendable () -> [DeviceStatistics]
    private let storeStatistics: @Sendable () -> ScanStore.Statistics?

    /// - Parameters:
    ///   - deviceStatistics: e.g. `{ polling.engine.statistics() }`.
    ///   - storeStatistics: e.g. `{ store.statistics() }`.
    public init(
        site: SiteConfiguration, latestValues: LatestValues,
        deviceStatistics: @escaping @Sendable () -> [DeviceStatistics],
        storeStatistics: @escaping @Sendable () -> ScanStore.Statistics?
    ) {
        config = Mutex(Config(site: site, retention: Self.retention(site)))
        self.latestValues = latestValues
        self.deviceStatistics = deviceStatistics
        self.storeStatistics = storeStatistics
    }

    /// After a reload: the new configuration.
    public func update(site: SiteConfiguration) {
        let retention = Self.retention(site)
        config.withLock { $0 = Config(site: site, retention: retention) }
    }

    private static func retention(_ site: SiteConfiguration) -> [TierRetention] {
        if let plan = try? StoreWriter.plan(
            siteID: site.site.id, schemas: site.seriesSchemas, tiers: site.store.tiers,
            rawBudgetBytes: site.store.rawBudgetBytes, pollIntervalsMS: site.seriesPollIntervalsMS)
        {
            return plan.files.map {
                TierRetention(tier: $0.tier.name, slotS: $0.tier.slotMS / 1000, retentionS: $0.retentionMS / 1000)
            }
        }
        return site.store.tiers.map {
            TierRetention(tier: $0.name, slotS: $0.slotMS / 1000, retentionS: $0.retentionMS / 1000)
        }
    }

    public func summary(nowMS: Int64) -> SiteSummary {
        let site = config.withLock { $0.site }
        let values = latestValues.site(atMS: nowMS)
        let stats = deviceStatistics()
        let up = stats.filter(\.isUp).count
        let lastGood = latestValues.lastGoodScanMS
        let power: Double? = values.activePowerKW.isFinite ? values.activePowerKW : nil
        let today = energyToday(site: site, nowMS: nowMS)
        return SiteSummary(
            siteID: site.site.id, siteName: site.site.name, timeZone: site.site.timeZone,
            ratedPowerKW: site.site.ratedPowerKW, ratedEnergyKWh: site.site.ratedEnergyKWh,
            socPercent: values.socPercent, socWeighting: values.socUsesEqualWeights ? "equal" : "rated_energy",
            powerKW: power, powerState: SiteSummary.powerState(powerKW: power, ratedPowerKW: site.site.ratedPowerKW),
            chargeTodayKWh: today?.charge, dischargeTodayKWh: today?.discharge, devicesUp: up,
            devicesDown: max(0, site.devices.filter(\.isPolled).count - up),
            devicesImportOnly: site.devices.count { !$0.isPolled }, lastGoodPollMS: lastGood,
            lastGoodPollAgeS: lastGood.map { Double(nowMS - $0) / 1000 }, store: store(nowMS: nowMS),
            generatedAtMS: nowMS)
    }

    /// The polled devices' statistics, then every import-only device (state `import_only`:
    /// never polled, so never up or down).
    public func devices(nowMS: Int64) -> [DeviceStatus] {
        let site = config.withLock { $0.site }
        let polled = deviceStatistics().map { statistics in
            var status = Self.status(statistics)
            let identity = latestValues.identityTexts(statistics.deviceID)
            status.identity = identity.isEmpty ? nil : identity
            return status
        }
        return polled + site.devices.filter { !$0.isPolled }.map(Self.importOnlyStatus)
    }

    /// How an import-only device is shown: endpoint "none", state "import_only", no counts.
    public static func importOnlyStatus(_ device: DeviceDefinition) -> DeviceStatus {
        DeviceStatus(
            deviceID: device.id, endpoint: device.transport.endpoint, unitID: device.unitID,
            state: DeviceStatus.importOnlyState, lastSuccessMS: nil, scans: 0, requests: 0, errors: 0,
            errorsByKind: [:], latencyP50MS: nil, latencyP99MS: nil, reconnects: 0, missedCycles: 0)
    }

    /// A device's statistics as the protocol shows them.
    public static func status(_ s: DeviceStatistics) -> DeviceStatus {
        var status = DeviceStatus(
            deviceID: s.deviceID, endpoint: s.endpoint, unitID: s.unitID,
            state: s.state.rawValue, lastSuccessMS: s.lastSuccessMS,
            scans: s.scans, requests: s.requests, errors: s.totalErrors, errorsByKind: s.errorsByKind,
            latencyP50MS: s.latencyP50US.map { Double($0) / 1000 }, latencyP99MS: s.latencyP99US.map { Double($0) / 1000 },
            reconnects: s.reconnects, missedCycles: s.missedCycles,
            startLatenessP50MS: s.startLatenessP50US.map { Double($0) / 1000 },
            startLatenessP99MS: s.startLatenessP99US.map { Double($0) / 1000 })
        if !s.refusedRanges.isEmpty {
            status.refusedRanges = s.refusedRanges.map {
                RefusedRangeStatus(
                    table: $0.kind.rawValue, firstAddress: $0.registers.lowerBound, count: $0.registers.count,
                    exception: Int($0.exceptionCode))
            }
        }
        status.busyRetries = s.busyRetries
        return status
    }

    public func latest(nowMS: Int64) -> [LatestDevice] {
        latestValues.snapshot().map(\.latestDevice)
    }

    public func store(nowMS: Int64) -> StoreStatus {
        let (site, retention) = config.withLock { ($0.site, $0.retention) }
        let stats = storeStatistics()
        let checkpoint = stats?.lastCheckpointMS
        return StoreStatus(
            directory: site.stateDirectory, lastCheckpointMS: checkpoint,
            lastCheckpointAgeS: checkpoint.map { Double(nowMS - $0) / 1000 },
            sizeBytes: Self.directoryBytes(site.stateDirectory), retention: retention,
            scansStored: stats?.scansStored ?? 0, scansDropped: stats?.scansDropped ?? 0,
            checkpointFailures: stats?.checkpointFailures ?? 0)
    }

    /// Bytes allocated to the regular files directly in `directory` (the tier files are
    /// created at full size), or nil when it cannot be read.
    static func directoryBytes(_ directory: String) -> Int64? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        var total: Int64 = 0
        for name in names {
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            total += Int64(info.st_size)
        }
        return total
    }

    /// The site's charge and discharge since local midnight, read from the store files (a
    /// reader per call: `StoreReader` is one per thread). Counter deltas when the site has
    /// counters, else integrated power; nil when there is no store or no energy accounting.
    func energyToday(site: SiteConfiguration, nowMS: Int64) -> (charge: Double, discharge: Double)? {
        guard let zone = TimeZone(identifier: site.site.timeZone) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let midnight = calendar.startOfDay(for: Date(timeIntervalSince1970: Double(nowMS) / 1000))
        let fromMS = Int64(midnight.timeIntervalSince1970 * 1000)
        guard let reader = try? StoreReader(directory: site.stateDirectory),
            let energy = try? reader.energy(group: "site", fromMS: fromMS, toMS: nowMS)
        else { return nil }
        let e = energy.energy
        let charge = e.counterChargeKWh.isFinite ? e.counterChargeKWh : e.integratedChargeKWh
        let discharge = e.counterDischargeKWh.isFinite ? e.counterDischargeKWh : e.integratedDischargeKWh
        return (charge, discharge)
    }
}
