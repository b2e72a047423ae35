public import ESSModbus
public import ESSStore

extension StoreMetrics {
    /// The store counters metrics expose.
    public init(_ statistics: ScanStore.Statistics) {
        self.init(
            lastCheckpointMS: statistics.lastCheckpointMS, scansStored: statistics.scansStored,
            scansDropped: statistics.scansDropped, checkpointFailures: statistics.checkpointFailures)
    }
}

extension MetricsSnapshot {
    /// Copies a scrape's worth out of the running daemon.
    public static func collect(
        version: String, siteID: String, latestValues: LatestValues, statistics: [DeviceStatistics],
        store: ScanStore.Statistics?, nowMS: Int64
    ) -> MetricsSnapshot {
        MetricsSnapshot(
            version: version, siteID: siteID, devices: latestValues.snapshot(), statistics: statistics,
            site: latestValues.site(atMS: nowMS), store: store.map(StoreMetrics.init))
    }
}
