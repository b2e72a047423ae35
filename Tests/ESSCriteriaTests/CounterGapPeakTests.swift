import ESSCore
import Testing

@testable import ESSCriteria

/// Issue 12, finding 3, for peak shifting: a counter step across a communication gap landed in
/// the tariff period after the gap. Now it is spread back over the gap's periods (by integrated
/// power where power covers the gap, else by time). By hand (Guangdong 2021: valley 00:00–08:00,
/// flat 08:00–10:00): charging at 600 kW from 06:00 to 10:00 local is 10 kWh a minute, 1,200 kWh
/// in the valley and 1,200 in flat; nothing is read 07:00–09:00, so the store holds the 1,200 kWh
/// step in the 09:00 slot.
@Suite("Indicators: counter steps across gaps in peak shifting")
struct CounterGapPeakTests {
    static let schema = SeriesSchema(
        groupID: "site",
        signals: [
            SignalDefinition(name: "active_power_kw", role: .activePowerKW, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "charge_energy_total_kwh", role: .chargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "discharge_energy_total_kwh", role: .dischargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["1m"]),
        ],
        energy: EnergySources(activePower: 0, chargeCounter: 1, dischargeCounter: 2))

    static func input(gap: Range<Int>, powerInGap: Bool) -> IndicatorInput {
        let start = SyntheticHistory.march1
        var slots: [ConsolidatedSlot] = []
        var counter = 1000.0
        var pending = 0.0
        for m in 0..<1440 {
            let charging = (360..<600).contains(m)
            let step = charging ? 10.0 : 0
            let inGap = gap.contains(m)
            let power = SyntheticHistory.held(charging ? -600 : 0)
            let energy = EnergySummary(
                counterChargeKWh: inGap ? .nan : step + pending, counterDischargeKWh: inGap ? .nan : 0, counterResets: 0,
                integratedChargeKWh: step, integratedDischargeKWh: 0, integratedMS: 60_000, unaccountedMS: 0)
            if inGap {
                pending += step
                if powerInGap {
                    slots.append(ConsolidatedSlot(
                        groupID: "site", tier: "1m", startMS: start + Int64(m) * 60_000, signals: [power, .unknown, .unknown],
                        energy: energy))
                }
            } else {
                let first = counter
                let c = SlotSummary(count: 60, coveredMS: 60_000, min: first, max: first + step, mean: first + step / 2, first: first, last: first + step)
                slots.append(ConsolidatedSlot(
                    groupID: "site", tier: "1m", startMS: start + Int64(m) * 60_000,
                    signals: [power, c, SyntheticHistory.held(500)], energy: energy))
                pending = 0
            }
            counter += step
        }
        return IndicatorInput(
            windowStartMS: start, windowEndMS: start + 86_400_000, slotMS: 60_000, facts: SyntheticHistory.facts,
            site: GroupSeries(schema: schema, slots: slots))
    }

    @Test("no power in the gap: spread by time, half in the valley", arguments: [false, true])
    func spreadOverTheGap(powerInGap: Bool) {
        let r = Indicators.compute(Self.input(gap: 420..<540, powerInGap: powerInGap), tariff: BuiltInTariffs.guangdong2021)
        let charged = r["energy.charge_kwh"]?.value ?? .nan
        #expect(abs(charged - 2400) < 1e-6, "\(charged)")
        let share = r["peak.valley_charge_share_percent"]?.value ?? .nan
        #expect(abs(share - 50) < 1e-9, "valley share \(share) %")
    }

    @Test("a gap inside one period leaves the shares as they were")
    func gapInsideOnePeriod() {
        let r = Indicators.compute(Self.input(gap: 380..<420, powerInGap: false), tariff: BuiltInTariffs.guangdong2021)
        #expect(abs((r["peak.valley_charge_share_percent"]?.value ?? .nan) - 50) < 1e-9)
    }
}
