import ESSCore
import ESSCriteria
import ESSStore
import Foundation
import Testing

@testable import ESSEvidence

@Suite struct EvidenceExportTests {
    static func lines(_ path: String) throws -> [String] {
        let text = String(decoding: try #require(FileManager.default.contents(atPath: path)), as: UTF8.self)
        #expect(text.hasSuffix("\r\n"))
        return text.components(separatedBy: "\r\n").dropLast()
    }

    @Test func knownSlotsGiveKnownRowsAndUnknownSlotsEmptyFields() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let reader = try StoreReader(directory: fixture.storeDirectory)
        let out = fixture.out("bundle")
        var progress: [Int] = []
        let result = try EvidenceExporter.export(
            site: fixture.site, reader: reader, fromMS: EvidenceFixture.startMS, toMS: EvidenceFixture.startMS + 3_600_000,
            outDirectory: out, essdVersion: "test", generatedAtMS: EvidenceFixture.startMS, tariffLabeler: FixedLabeler(),
            progress: { progress.append($0.intervalsDone) })
        #expect(progress == [1, 2, 3, 4])

        let intervals = try Self.lines(out + "/intervals.csv")
        #expect(intervals[0] == EvidenceTables.intervalHeader(hasMeter: true).joined(separator: ","))
        #expect(
            intervals[1]
                == "2024-04-30T16:00:00Z,2024-05-01T00:00:00+08:00,900,1.500,0.000,1.250,0.000,1.500,0.000,50.00,55.00,50.00,55.00,-6.000,-5.000,30.5,100.00,valley,measured,"
        )
        // The meter's step between adjacent slots (101.5 → 101.75) counts in the later one.
        #expect(
            intervals[2]
                == "2024-04-30T16:15:00Z,2024-05-01T00:15:00+08:00,900,1.500,0.000,1.250,0.000,1.500,0.000,55.00,60.00,55.00,60.00,-6.000,-5.000,30.5,100.00,valley,measured,"
        )
        #expect(
            intervals[3]
                == "2024-04-30T16:30:00Z,2024-05-01T00:30:00+08:00,900,0.750,0.000,0.500,0.000,0.500,0.000,60.00,61.00,60.00,61.00,-6.000,-5.000,30.5,100.00,peak,partial:50.0,"
        )
        // Never written: every value empty (never 0), quality missing.
        #expect(intervals[4] == "2024-04-30T16:45:00Z,2024-05-01T00:45:00+08:00,900,,,,,,,,,,,,,,,peak,missing,")
        #expect(intervals.count == 5)

        let daily = try Self.lines(out + "/daily.csv")
        #expect(daily.count == 2)
        #expect(daily[1] == "2024-05-01,1.00,3.750,0.000,3.000,0.000,3.500,0.000,50.00,61.00,62.50,2,1,1")

        let devices = try Self.lines(out + "/devices.csv")
        #expect(devices.count == 3)
        let pcsHash = CanonicalDescription.sha256(of: fixture.site.devices[0].profile)
        // No identity log in this store: serial, firmware and history empty.
        #expect(devices[1] == "pcs1,\"Acme, Inc.\",PCS-100,pcs-test,\(pcsHash),,,tcp://127.0.0.1:502,1,6,")
        #expect(pcsHash.count == 64)

        // One row per signal of the one local day: 2.5 of 4 slots covered → 62.50 %; samples:
        // 3 slots of 900 (the half-covered one too) of 3,600 expected at a 1 s poll → 75.00 %.
        let completeness = try Self.lines(out + "/completeness.csv")
        #expect(completeness.first == "date_local,signal,coverage_percent,samples_percent")
        #expect(completeness.count == 1 + 13, "\(completeness)")
        #expect(completeness.contains("2024-05-01,site/soc_percent,62.50,75.00"))
        #expect(completeness.contains("2024-05-01,pcs1/cell_temp_max,75.00,75.00"))
        #expect(completeness.contains("2024-05-01,meter1/import_total,62.50,75.00"))
        // Without a policy: indicators are computed, criteria.csv is the header only.
        #expect(try Self.lines(out + "/indicators.csv").count > 1)
        #expect(try Self.lines(out + "/criteria.csv") == [EvidenceTables.criteriaHeader.joined(separator: ",")])

        let m = result.manifest
        #expect(m.siteID == "test-site")
        #expect(m.storeID == reader.storeID)
        #expect(m.timeZone == "Asia/Shanghai")
        #expect(m.intervalSeconds == 900)
        #expect(m.sourceTier == "15m")
        #expect(m.tariffID == "test-tariff")
        #expect(m.configurationSHA256 == CanonicalDescription.sha256(of: fixture.site))
        #expect(
            m.files.map(\.name) == [
                "intervals.csv", "daily.csv", "devices.csv", "indicators.csv", "completeness.csv", "criteria.csv", "money.csv",
                "events.csv", "README.txt",
            ])
        // The half-covered third slot and the missing fourth are one gap of the site's data:
        // 450 s + 900 s of the last 1800 s (by hand from the fixture).
        let events = try Self.lines(out + "/events.csv")
        #expect(events.first == EvidenceEvents.header.joined(separator: ","))
        #expect(
            events.contains("2024-04-30T16:30:00Z,2024-04-30T17:00:00Z,2024-05-01T00:30:00+08:00,communication_gap,site,no data for 1350 s of the 1800 s"),
            "\(events)")
        #expect(try Self.lines(out + "/money.csv") == [EvidenceTables.moneyHeader.joined(separator: ",")])
        #expect(m.files.first { $0.name == "intervals.csv" }?.rows == 4)
        let readme = String(decoding: try #require(FileManager.default.contents(atPath: out + "/README.txt")), as: UTF8.self)
        #expect(readme.contains("meter_import_kwh") && readme.contains("储能计量表"))
        #expect(EvidenceVerifier.verify(directory: out).isValid)
    }


    /// Serial and firmware come from the store's identity log: the text read last before the
    /// window's end; a firmware update after the window shows in the history only.
    @Test func devicesCarryTheIdentityTheDevicesReported() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let start = EvidenceFixture.startMS
        try IdentityLog.append(
            [
                IdentityRecord(deviceID: "pcs1", point: "serial_number", text: "PCS-SN-42", observedMS: start - 86_400_000),
                IdentityRecord(deviceID: "pcs1", point: "firmware_version", text: "2.1.0", observedMS: start - 86_400_000),
                IdentityRecord(deviceID: "pcs1", point: "model", text: "PCS-100B", observedMS: start - 86_400_000),
                IdentityRecord(deviceID: "pcs1", point: "firmware_version", text: "2.2.0", observedMS: start + 7_200_000),
            ], directory: fixture.storeDirectory)
        let reader = try StoreReader(directory: fixture.storeDirectory)
        let out = fixture.out("bundle-identity")
        _ = try EvidenceExporter.export(
            site: fixture.site, reader: reader, fromMS: start, toMS: start + 3_600_000, outDirectory: out, essdVersion: "test",
            generatedAtMS: start, tariffLabeler: FixedLabeler())
        let devices = try Self.lines(out + "/devices.csv")
        let pcsHash = CanonicalDescription.sha256(of: fixture.site.devices[0].profile)
        #expect(
            devices[1]
                == "pcs1,\"Acme, Inc.\",PCS-100B,pcs-test,\(pcsHash),PCS-SN-42,2.1.0,tcp://127.0.0.1:502,1,6,"
                + "serial_number=PCS-SN-42@2024-04-29T16:00:00Z; firmware_version=2.1.0@2024-04-29T16:00:00Z; "
                + "model=PCS-100B@2024-04-29T16:00:00Z; firmware_version=2.2.0@2024-04-30T18:00:00Z")
        // The meter reported nothing: its profile's vendor and model, no serial.
        let meter = devices[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(meter.prefix(4)) == ["meter1", "Meters", "M1", "meter-test"])
        #expect(meter.count == 11 && meter[5] == "" && meter[6] == "" && meter[10] == "", "\(meter)")
    }
    @Test func hourIntervalsSpanTariffPeriodsAndExcelAddsBOM() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let reader = try StoreReader(directory: fixture.storeDirectory)
        let out = fixture.out("hour")
        try EvidenceExporter.export(
            site: fixture.site, reader: reader, fromMS: EvidenceFixture.startMS, toMS: EvidenceFixture.startMS + 3_600_000,
            intervalMS: 3_600_000, outDirectory: out, excel: true, generatedAtMS: 0, tariffLabeler: FixedLabeler())
        for name in ["intervals.csv", "daily.csv", "devices.csv", "indicators.csv", "criteria.csv"] {
            let bytes = [UInt8](try #require(FileManager.default.contents(atPath: "\(out)/\(name)")))
            #expect(Array(bytes.prefix(3)) == CSVWriter.byteOrderMark, "\(name)")
        }
        let text = String(decoding: FileManager.default.contents(atPath: out + "/intervals.csv")!.dropFirst(3), as: UTF8.self)
        let row = text.components(separatedBy: "\r\n")[1]
        #expect(row.hasPrefix("2024-04-30T16:00:00Z,2024-05-01T00:00:00+08:00,3600,3.750,0.000,3.000,0.000,3.500,0.000,50.00,61.00,50.00,61.00,"))
        // Coverage (1 + 1 + 0.5 + 0) / 4 of the hour.
        #expect(row.hasSuffix(",valley+peak,partial:62.5,"))
    }

    @Test func policyFillsCriteria() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let reader = try StoreReader(directory: fixture.storeDirectory)
        let policy = try #require(BuiltInPolicies.policy(id: "gbt36549"))
        let out = fixture.out("policy")
        try EvidenceExporter.export(
            site: fixture.site, reader: reader, policy: policy, fromMS: EvidenceFixture.startMS,
            toMS: EvidenceFixture.startMS + 3_600_000, outDirectory: out, generatedAtMS: 0)
        let criteria = try Self.lines(out + "/criteria.csv")
        #expect(criteria.count == policy.criteria.count + 1)
        // A window a quarter missing: no measured criterion may pass on it.
        #expect(!criteria.contains { $0.hasPrefix("gbt36549,gbt.completeness,") && $0.contains(",pass,") })
    }

    /// A policy that is not built in (as read from the site's policy folder), the site's own
    /// tariff, its extra facts, settings and maintenance windows: all reach the bundle, and the
    /// money estimates are written with their inputs.
    @Test func siteTariffPolicyAndMoneyEstimates() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let reader = try StoreReader(directory: fixture.storeDirectory)
        let clause = Clause(document: "test doc", article: "art. 1")
        let policy = Policy(
            id: "site-policy", titleEN: "Site policy", titleZH: "站点政策", document: "test doc", issuer: "test", date: "2024-01-01",
            tariffID: "guangdong-2021",
            criteria: [
                Criterion(
                    id: "site.efficiency", titleEN: "Efficiency", titleZH: "效率", clause: clause,
                    subject: .indicator("efficiency.ac_round_trip_percent"), comparison: .atLeast(80), unit: "%",
                    provenance: "site choice", confidence: .siteChoice)
            ],
            money: [
                MoneyRule(
                    id: "m.reward", titleEN: "Reward", titleZH: "奖励", clause: clause,
                    formula: .shareCapped(share: 0.3, capCNY: 10_000_000, base: "small_batch_test_investment_cny"),
                    provenance: "test doc art. 1", confidence: .verified),
                MoneyRule(
                    id: "m.band", titleEN: "Band", titleZH: "区间", clause: clause, formula: .band(minCNY: 2_000_000, maxCNY: 10_000_000),
                    provenance: "test doc art. 2", confidence: .secondary),
                MoneyRule(
                    id: "m.discharge", titleEN: "Discharge subsidy", titleZH: "放电补贴", clause: clause,
                    formula: .perKWhDischarged(rateCNYPerKWh: 0.5, capCNY: 1_000), provenance: "test doc art. 3", confidence: .inferred),
            ])
        let out = fixture.out("money")
        let result = try EvidenceExporter.export(
            site: fixture.site, reader: reader, policy: policy, tariff: BuiltInTariffs.beijing2023,
            extraFacts: ["small_batch_test_investment_cny": 50_000_000], settings: IndicatorSettings(minimumCoverage: 0.5),
            maintenance: [MaintenanceWindow(startMS: EvidenceFixture.startMS, endMS: EvidenceFixture.startMS + 900_000, reason: "test")],
            fromMS: EvidenceFixture.startMS, toMS: EvidenceFixture.startMS + 3_600_000, outDirectory: out, generatedAtMS: 0)
        // The site's tariff wins over the policy's, for the periods and the indicators.
        #expect(result.manifest.tariffID == "beijing-2023")
        #expect(result.manifest.policyID == "site-policy")
        let indicators = try Self.lines(out + "/indicators.csv")
        #expect(indicators.contains { $0.hasPrefix("peak.valley_charge_share_percent,") && $0.contains("tariff beijing-2023") })
        // Maintenance windows reach availability.
        #expect(indicators.contains { $0.hasPrefix("availability.planned_outage_hours,") })
        #expect(try Self.lines(out + "/criteria.csv").count == 2)

        let money = try Self.lines(out + "/money.csv")
        #expect(money.count == 4)
        #expect(money[0] == EvidenceTables.moneyHeader.joined(separator: ","))
        // min(CNY 10M, 30 % × 50M) = 10M, from the extra fact.
        #expect(money[1].hasPrefix("site-policy,m.reward,Reward,奖励,test doc,art. 1,estimated,10000000.00,,,"))
        #expect(money[1].contains("small_batch_test_investment_cny = 50000000.0000 CNY (site configuration)"))
        #expect(money[1].contains("cap = 10000000.0000 CNY (test doc art. 1 [V])"))
        // A band: no point estimate, its limits.
        #expect(money[2].hasPrefix("site-policy,m.band,Band,区间,test doc,art. 1,estimated,,2000000.00,10000000.00,"))
        // Discharge-based: rate × metered export over the window (the fixture's export counter stands still: 0 kWh).
        #expect(money[3].hasPrefix("site-policy,m.discharge,Discharge subsidy,放电补贴,test doc,art. 1,estimated,0.00,,,"))
        #expect(money[3].contains("rate = 0.5000 CNY/kWh"))
        #expect(money[3].contains("metered discharge (meter export E_on) = 0.0000 kWh"))
        #expect(money[3].contains("cap = 1000.0000 CNY"))
        let readme = String(decoding: try #require(FileManager.default.contents(atPath: out + "/README.txt")), as: UTF8.self)
        #expect(readme.contains("money.csv"))
        #expect(EvidenceVerifier.verify(directory: out).isValid)
    }

    @Test func refusesUnalignedWindowAndNonEmptyDirectory() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let reader = try StoreReader(directory: fixture.storeDirectory)
        #expect(throws: EvidenceError.self) {
            try EvidenceExporter.export(
                site: fixture.site, reader: reader, fromMS: EvidenceFixture.startMS + 60_000,
                toMS: EvidenceFixture.startMS + 3_600_000, outDirectory: fixture.out("a"), generatedAtMS: 0)
        }
        let busy = fixture.out("busy")
        try FileManager.default.createDirectory(atPath: busy, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: busy + "/other.txt", contents: Data("x".utf8))
        #expect(throws: EvidenceError.self) {
            try EvidenceExporter.export(
                site: fixture.site, reader: reader, fromMS: EvidenceFixture.startMS, toMS: EvidenceFixture.startMS + 3_600_000,
                outDirectory: busy, generatedAtMS: 0)
        }
    }
}
