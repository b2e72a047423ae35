import ESSCore
import ESSCriteria
import ESSStore
import Foundation
import Testing

@testable import ESSEvidence

/// `StoreIndicatorReader` reads the store a chunk at a time into `IndicatorAccumulator`; its
/// report equals `Indicators.compute` over the same slots read whole, whatever the chunk.
@Suite struct StoreIndicatorReaderTests {
    /// Every group's slots over the window in one read, as the whole-window input.
    static func wholeInput(_ source: StoreIndicatorReader, _ shape: IndicatorInput) throws -> IndicatorInput {
        var input = shape
        func slots(_ group: String) throws -> [ConsolidatedSlot] {
            guard source.reader.schemas.contains(where: { $0.groupID == group }) else { return [] }
            return try source.reader.slots(tier: source.tier.name, group: group, fromMS: shape.windowStartMS, toMS: shape.windowEndMS)
                .compactMap(\.slot)
        }
        input.site.slots = try slots(input.site.groupID)
        for k in input.devices.indices { input.devices[k].slots = try slots(input.devices[k].groupID) }
        if let meter = input.meter { input.meter!.slots = try slots(meter.groupID) }
        return input
    }

    static func same(_ a: IndicatorReport, _ b: IndicatorReport) -> Bool {
        func eq(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return a.values.count == b.values.count
            && zip(a.values, b.values).allSatisfy { $0.id == $1.id && eq($0.value, $1.value) && eq($0.coverage, $1.coverage) && $0.status == $1.status && $0.notes == $1.notes }
            && a.dayCompleteness == b.dayCompleteness && a.signalCompleteness == b.signalCompleteness
            && a.dischargeEvents.count == b.dischargeEvents.count
    }

    @Test(arguments: [900_000 as Int64, 1_000_000, 1_800_000, 86_400_000])
    func chunkedEqualsWhole(chunkMS: Int64) throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let reader = try StoreReader(directory: fixture.storeDirectory)
        let tier = try #require(reader.tiers.first { $0.name == "15m" })
        let source = StoreIndicatorReader(reader: reader, tier: tier, meterDeviceID: fixture.site.store.meterDeviceID)
        #expect(source.meterSchema?.groupID == "meter1")
        #expect(source.deviceSchemas.map(\.groupID) == ["pcs1"])
        // Windows around the fixture's hour: before it, on it, past it (missing slots), not on a slot boundary.
        for (from, to) in [
            (EvidenceFixture.startMS - 3_600_000, EvidenceFixture.startMS + 7_200_000),
            (EvidenceFixture.startMS, EvidenceFixture.startMS + 3_600_000),
            (EvidenceFixture.startMS + 300_000, EvidenceFixture.startMS + 2_000_000),
        ] {
            let shape = try source.shape(facts: fixture.site.site, fromMS: from, toMS: to, offsets: .chinaStandardTime)
            let streamed = try source.report(shape, tariff: BuiltInTariffs.guangdong2021, chunkMS: chunkMS)
            let whole = Indicators.compute(try Self.wholeInput(source, shape), tariff: BuiltInTariffs.guangdong2021)
            #expect(Self.same(streamed, whole), "window \(from)…\(to), chunk \(chunkMS)")
            #expect(streamed["meter.import_kwh"] != nil)
        }
    }
}
