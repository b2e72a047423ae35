import ESSCore
import Testing

@testable import ESSStore

@Suite struct StoreCompatibilityTests {
    let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000

    func refusal(_ fixture: StoreFixture, allowDropping: Bool = false) -> StoreError? {
        do {
            _ = try fixture.writer(allowDropping: allowDropping)
            return nil
        } catch { return error as? StoreError }
    }

    @Test func differentSiteIsRefusedNamingBothSites() throws {
        let fixture = StoreFixture()
        _ = try fixture.writer()
        fixture.siteID = "site-b"
        let error = try #require(refusal(fixture))
        #expect(error.kind == .siteMismatch)
        #expect(
            error.message.contains("'site-a'") && error.message.contains("'site-b'") && error.message.contains("aside"))
    }

    @Test func changedTierIsRefusedNamingTheTier() throws {
        let fixture = StoreFixture()
        _ = try fixture.writer()
        fixture.tiers[1].retentionMS *= 2
        let error = try #require(refusal(fixture))
        #expect(error.kind == .tierMismatch)
        #expect(error.message.contains("tier '1m' capacity changed from 60 to 120 slots"))
        fixture.tiers[1].retentionMS /= 2
        fixture.tiers[2].slotMS = 600_000
        #expect(
            try #require(refusal(fixture)).message.contains(
                "tier '15m' slot length changed from 900000 ms to 600000 ms"))
    }

    @Test func changedRoleIsRefused() throws {
        let fixture = StoreFixture()
        _ = try fixture.writer()
        fixture.schemas[0].signals[0].role = .sohPercent
        let error = try #require(refusal(fixture))
        #expect(error.kind == .roleChanged)
        #expect(error.message.contains("'bess1/soc' changed role from soc_percent to soh_percent"))
    }

    @Test func droppedSignalIsRefusedUnlessAllowed() throws {
        let fixture = StoreFixture()
        _ = try fixture.writer()
        fixture.schemas[0].signals.remove(at: 2)
        let error = try #require(refusal(fixture))
        #expect(error.kind == .signalsRemoved)
        #expect(error.message.contains("signal 'bess1/temp'") && error.message.contains("allowDroppingSignals"))
        #expect(refusal(fixture, allowDropping: true) == nil)
        #expect(try fixture.reader().schemas[0].signals.count == 2)
    }

    @Test func addingSignalsAndGroupsMigratesWithHistoryIntact() throws {
        let fixture = StoreFixture()
        var expected: [ConsolidatedSlot] = []
        do {
            let writer = try fixture.writer()
            for minute in 0..<20 {
                let slot = makeSlot(
                    fixture.schemas[0], tier: "1m", startMS: t0 + Int64(minute) * 60_000, slotMS: 60_000,
                    base: Double(minute))
                try writer.write(slot)
                expected.append(slot)
            }
            try writer.write(makeSlot(fixture.schemas[0], tier: "15m", startMS: t0, slotMS: 900_000, base: 7))
            for second in 0..<30 {
                try writer.appendRaw(
                    group: "bess1", timestampMS: t0 + Int64(second) * 1000, values: [Double(second), 1, 2],
                    qualities: [.ok, .ok, .ok])
            }
            try writer.checkpoint(nowMS: t0)
        }
        let storeID = try fixture.reader().storeID
        // A new point in the middle of the profile, and a new device.
        fixture.schemas[0].signals.insert(
            SignalDefinition(name: "dc_v", role: .dcVoltageV, heartbeatMS: 3000, tiers: ["raw", "1m", "15m", "1d"]),
            at: 1)
        fixture.schemas[0].energy = EnergySources(activePower: 2)
        fixture.schemas.append(
            SeriesSchema(
                groupID: "bess2",
                signals: [SignalDefinition(name: "soc", role: .socPercent, heartbeatMS: 3000, tiers: ["raw", "1m"])],
                energy: EnergySources()))
        fixture.polls["bess2"] = 1000
        let writer = try fixture.writer()
        #expect(writer.storeID == storeID)
        for file in try fixture.plan().files {
            #expect(try fileSize(fixture.path(file.fileName)) == file.bytes)
        }
        let reader = try fixture.reader()
        #expect(reader.schemas.count == 3)
        let slots = try reader.slots(tier: "1m", group: "bess1", fromMS: t0, toMS: t0 + 20 * 60_000)
        #expect(slots.count == 20)
        for (old, stored) in zip(expected, slots) {
            let slot = try #require(stored.slot)
            #expect(isClose(old.signals[0], slot.signals[0], slotMS: 60_000))
            #expect(slot.signals[1].isUnknown)
            #expect(isClose(old.signals[1], slot.signals[2], slotMS: 60_000))
            #expect(slot.energy?.integratedDischargeKWh == 0.5)
        }
        #expect(
            try reader.slots(tier: "15m", group: "bess1", fromMS: t0, toMS: t0 + 1).first?.slot?.signals[3].mean == 9)
        let raw = try reader.raw(group: "bess1", fromMS: t0, toMS: t0 + 30_000).rows
        #expect(raw.count == 30)
        #expect(raw[4].values[0] == 4 && raw[4].values[1].isNaN && raw[4].qualities[1] == nil && raw[4].values[2] == 1)
        // The migrated writer continues where the old one stopped.
        #expect(
            try writer.appendRaw(
                group: "bess1", timestampMS: t0 + 30_000, values: [1, 2, 3, 4], qualities: [.ok, .ok, .ok, .ok])
                == .written(sequence: 31))
        #expect(
            try writer.write(makeSlot(fixture.schemas[2], tier: "1m", startMS: t0, slotMS: 60_000, base: 1)) == .written
        )
    }
}
