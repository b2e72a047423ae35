public import ESSCore

/// What `StoreWriter.ingest(group:timestampsMS:values:qualities:into:destination:)` did with a batch.
public struct BulkIngestResult: Sendable, Hashable {
    /// The raw tier's part (`appendRaw` of the batch).
    public var raw = RawBatchResult()
    /// The consolidator's part.
    public var consolidated = BatchIngestOutcome()
    /// Consolidated slots written (closed slots the writer refused are not counted).
    public var slotsWritten = 0

    public init() {}
}

extension StoreWriter {
    /// Stores a batch of `group`'s scans as essd stores each scan: the raw rows
    /// (`appendRaw(group:timestampsMS:values:qualities:)`), then the consolidation, every slot
    /// that closes written to `destination` (`write(_:to:)`). For bulk paths: imports,
    /// replays, benchmarks. Nothing is written when the group, the destination or the sizes do
    /// not match. (Writing the raw rows on a second thread meanwhile was tried and measured no
    /// faster on a 2-core machine: both halves are bound by memory and page faults.)
    @discardableResult
    public func ingest(
        group: String, timestampsMS: [Int64], values: [Double], qualities: [PointQuality],
        into consolidator: inout SeriesConsolidator, destination: SlotDestination
    ) throws(StoreError) -> BulkIngestResult {
        guard let g = index(ofGroup: group), g == destination.group else {
            throw StoreError(
                .invalidArgument, "ingest: group '\(group)' is not the group of the destination (or unknown)")
        }
        let width = schemas[g].signals.count
        guard values.count == timestampsMS.count * width, qualities.count == timestampsMS.count * width,
            consolidator.schema.signals.count == width
        else {
            throw StoreError(
                .invalidArgument,
                "ingest: group '\(group)' has \(width) signals (consolidator \(consolidator.schema.signals.count)), got \(values.count) values and \(qualities.count) qualities for \(timestampsMS.count) row(s)"
            )
        }
        var result = BulkIngestResult()
        result.raw = try appendRaw(group: group, timestampsMS: timestampsMS, values: values, qualities: qualities)
        var failure: StoreError?
        var written = 0
        result.consolidated = consolidator.ingest(timestampsMS: timestampsMS, values: values, qualities: qualities) {
            (slot: borrowing ClosedSlot) in
            guard failure == nil else { return }
            do throws(StoreError) {
                if case .written = try write(slot, to: destination) { written += 1 }
            } catch {
                failure = error
            }
        }
        result.slotsWritten = written
        if let failure { throw failure }
        return result
    }
}
