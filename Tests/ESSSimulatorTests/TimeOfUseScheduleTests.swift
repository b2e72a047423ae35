import Testing

@testable import ESSSimulator

@Suite("TimeOfUseSchedule")
struct TimeOfUseScheduleTests {
    @Test func parsesTheGuangdongTable() throws {
        let parsed = try TimeOfUseSchedule(parsing: "valley=0-8;peak=10-12,14-19")
        #expect(parsed == .guangdong)
        #expect(parsed.description == "valley=0-8;peak=10-12,14-19")
    }

    @Test func fractionalHoursAndWrapAround() throws {
        let s = try TimeOfUseSchedule(parsing: "valley=22-6; sharp=11.5-12 ;peak=10-11.5")
        #expect(s.kind(atHour: 23) == .valley)
        #expect(s.kind(atHour: 5.99) == .valley)
        #expect(s.kind(atHour: 6) == .flat)
        #expect(s.kind(atHour: 11.4) == .peak)
        #expect(s.kind(atHour: 11.5) == .sharp)
        #expect(s.kind(atHour: 12) == .flat)
        #expect(s.kind(atHour: 24 + 11.75) == .sharp, "hours wrap modulo 24")
    }

    @Test(arguments: ["", "valley", "night=0-8", "valley=0-25", "valley=8-8", "valley=0-8;peak=7-9", "peak=a-b"])
    func rejects(text: String) {
        #expect(throws: SimulatorError.self) { try TimeOfUseSchedule(parsing: text) }
    }

    @Test func operations() {
        #expect(TariffPeriodKind.valley.operation == .charge)
        #expect(TariffPeriodKind.peak.operation == .discharge)
        #expect(TariffPeriodKind.sharp.operation == .discharge)
        #expect(TariffPeriodKind.flat.operation == .idle)
    }
}
