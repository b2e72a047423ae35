import ESSCriteria
import ESSStore
import Foundation
import Testing

@testable import ESSEvidence

@Suite struct EvidenceVerifierTests {
    /// A signed bundle of the fixture's hour.
    static func signedBundle(_ fixture: EvidenceFixture, key: EvidenceSigningKey = .generate()) throws -> String {
        let reader = try StoreReader(directory: fixture.storeDirectory)
        let out = fixture.out("signed")
        try EvidenceExporter.export(
            site: fixture.site, reader: reader, fromMS: EvidenceFixture.startMS, toMS: EvidenceFixture.startMS + 3_600_000,
            outDirectory: out, signingKey: key, generatedAtMS: 0, tariffLabeler: FixedLabeler())
        return out
    }

    static func copy(_ bundle: String, to name: String, in fixture: EvidenceFixture) throws -> String {
        let target = fixture.out(name)
        try FileManager.default.copyItem(atPath: bundle, toPath: target)
        return target
    }

    static func flipMiddleByte(_ path: String) throws {
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func intactSignedBundlePasses() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let key = EvidenceSigningKey.generate()
        let bundle = try Self.signedBundle(fixture, key: key)
        let report = EvidenceVerifier.verify(directory: bundle)
        #expect(report.problems == [])
        #expect(report.signatureValid)
        #expect(report.publicKeyHex == key.publicKeyHex)
        #expect(
            Set(report.verifiedFiles) == [
                "intervals.csv", "daily.csv", "devices.csv", "indicators.csv", "completeness.csv", "criteria.csv", "money.csv", "README.txt", "site.pub",
                "site.pem", "events.csv",
            ])
        let pub = String(decoding: FileManager.default.contents(atPath: bundle + "/site.pub")!, as: UTF8.self)
        #expect(pub == key.publicKeyHex + "\n" && key.publicKeyHex.count == 64)
    }

    @Test func oneChangedByteInAnyFileIsReportedWithItsName() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let bundle = try Self.signedBundle(fixture)
        let names = try FileManager.default.contentsOfDirectory(atPath: bundle).sorted()
        // The 11 of format 1, and SHA256SUMS, SHA256SUMS.sig, site.pem, events.csv.
        #expect(names.count == 15)
        for (i, name) in names.enumerated() {
            let copy = try Self.copy(bundle, to: "flip\(i)", in: fixture)
            try Self.flipMiddleByte("\(copy)/\(name)")
            let report = EvidenceVerifier.verify(directory: copy)
            #expect(!report.isValid, "flipping a byte of \(name) went unnoticed")
            #expect(report.problems.contains { $0.description.contains(name) }, "\(name): \(report.problems)")
        }
    }

    @Test func unsignedBundleChangedFileIsReported() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let reader = try StoreReader(directory: fixture.storeDirectory)
        let bundle = fixture.out("unsigned")
        let export = try EvidenceExporter.export(
            site: fixture.site, reader: reader, fromMS: EvidenceFixture.startMS, toMS: EvidenceFixture.startMS + 3_600_000,
            outDirectory: bundle, generatedAtMS: 0)
        #expect(EvidenceVerifier.verify(directory: bundle).isValid)
        for entry in export.manifest.files {
            let copy = try Self.copy(bundle, to: "u-\(entry.name)", in: fixture)
            try Self.flipMiddleByte("\(copy)/\(entry.name)")
            let problems = EvidenceVerifier.verify(directory: copy).problems
            #expect(problems.map(\.kind) == [.hashMismatch] && problems.first?.file == entry.name)
        }
    }

    @Test func missingAndExtraFilesAreReported() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let bundle = try Self.signedBundle(fixture)
        let removed = try Self.copy(bundle, to: "removed", in: fixture)
        try FileManager.default.removeItem(atPath: removed + "/daily.csv")
        #expect(EvidenceVerifier.verify(directory: removed).problems.map { "\($0.kind.rawValue):\($0.file)" } == ["file_missing:daily.csv"])

        let added = try Self.copy(bundle, to: "added", in: fixture)
        FileManager.default.createFile(atPath: added + "/extra.csv", contents: Data("a,b\r\n".utf8))
        #expect(EvidenceVerifier.verify(directory: added).problems.map { "\($0.kind.rawValue):\($0.file)" } == ["extra_file:extra.csv"])

        let noSignature = try Self.copy(bundle, to: "nosig", in: fixture)
        try FileManager.default.removeItem(atPath: noSignature + "/manifest.sig")
        #expect(EvidenceVerifier.verify(directory: noSignature).problems.map(\.kind) == [.signatureMissing])

        let noManifest = try Self.copy(bundle, to: "nomanifest", in: fixture)
        try FileManager.default.removeItem(atPath: noManifest + "/manifest.json")
        #expect(EvidenceVerifier.verify(directory: noManifest).problems.map(\.kind) == [.manifestMissing])
    }

    @Test func signatureTamperIsReported() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let bundle = try Self.signedBundle(fixture)
        // A valid signature, but of other bytes.
        let other = EvidenceSigningKey.generate()
        let forged = try Self.copy(bundle, to: "forged", in: fixture)
        let wrong = try other.signature(of: Array("something else".utf8))
        try Data((Hex.encode(wrong) + "\n").utf8).write(to: URL(fileURLWithPath: forged + "/manifest.sig"))
        // (SHA256SUMS lists manifest.sig's hash too: it no longer matches.)
        #expect(
            EvidenceVerifier.verify(directory: forged).problems.map { "\($0.kind.rawValue):\($0.file)" }
                == ["signature_invalid:manifest.sig", "checksums_mismatch:SHA256SUMS"])

        // Re-signed with another key after changing the manifest: the key listed in the manifest no longer matches.
        let resigned = try Self.copy(bundle, to: "resigned", in: fixture)
        let manifest = try #require(FileManager.default.contents(atPath: resigned + "/manifest.json"))
        try Data((Hex.encode(try other.signature(of: Array(manifest))) + "\n").utf8)
            .write(to: URL(fileURLWithPath: resigned + "/manifest.sig"))
        try Data((other.publicKeyHex + "\n").utf8).write(to: URL(fileURLWithPath: resigned + "/site.pub"))
        let problems = EvidenceVerifier.verify(directory: resigned).problems
        #expect(problems.contains { $0.kind == .hashMismatch && $0.file == "site.pub" })
    }

    @Test func signingKeyFileFormats() throws {
        let key = EvidenceSigningKey.generate()
        let fromHex = try EvidenceSigningKey(fileContents: Data((key.privateKeyHex + "\n").utf8))
        let fromRaw = try EvidenceSigningKey(fileContents: Data(Hex.decode(key.privateKeyHex)!))
        #expect(fromHex.publicKeyHex == key.publicKeyHex && fromRaw.publicKeyHex == key.publicKeyHex)
        #expect(throws: EvidenceError.self) { try EvidenceSigningKey(fileContents: Data("short".utf8)) }
    }
}

/// Issue 12, finding 9: an auditor checks a bundle with standard tools, without essctl:
/// `sha256sum -c SHA256SUMS` (GNU coreutils) and `openssl pkeyutl -verify` (OpenSSL 3) with
/// `site.pem` over `SHA256SUMS`. Run as real processes in the bundle's directory.
@Suite struct EvidenceStandardToolsTests {
    static func run(_ tool: String, _ arguments: [String], in directory: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    static let openssl = ["pkeyutl", "-verify", "-pubin", "-inkey", "site.pem", "-rawin", "-in", "SHA256SUMS", "-sigfile", "SHA256SUMS.sig"]

    @Test func sha256sumAndOpensslVerifyABundle() throws {
        let fixture = try EvidenceFixture()
        defer { fixture.remove() }
        let bundle = try EvidenceVerifierTests.signedBundle(fixture)
        let (sumStatus, sumOut) = try Self.run("sha256sum", ["-c", "--strict", "SHA256SUMS"], in: bundle)
        #expect(sumStatus == 0, "\(sumOut)")
        // Every file but SHA256SUMS and its signature is checked, manifest.json included.
        let checked = sumOut.split(separator: "\n").filter { $0.hasSuffix(": OK") }.map { String($0.dropLast(4)) }
        let files = try FileManager.default.contentsOfDirectory(atPath: bundle).filter { !$0.hasPrefix("SHA256SUMS") }
        #expect(Set(checked) == Set(files) && checked.count == files.count, "\(sumOut)")
        let (sslStatus, sslOut) = try Self.run("openssl", Self.openssl, in: bundle)
        #expect(sslStatus == 0 && sslOut.contains("Signature Verified Successfully"), "\(sslOut)")

        // A changed file: sha256sum names it.
        let changed = try EvidenceVerifierTests.copy(bundle, to: "tools-changed", in: fixture)
        try EvidenceVerifierTests.flipMiddleByte(changed + "/intervals.csv")
        let (changedStatus, changedOut) = try Self.run("sha256sum", ["-c", "--quiet", "SHA256SUMS"], in: changed)
        #expect(changedStatus != 0 && changedOut.contains("intervals.csv: FAILED"), "\(changedOut)")
        // SHA256SUMS rewritten to match the change: the signature no longer holds.
        let rewritten = try EvidenceVerifierTests.copy(changed, to: "tools-rewritten", in: fixture)
        let (_, newSum) = try Self.run("sha256sum", ["intervals.csv"], in: rewritten)
        let sums = try String(contentsOfFile: rewritten + "/SHA256SUMS", encoding: .utf8).split(separator: "\n")
            .map { $0.hasSuffix("  intervals.csv") ? newSum.trimmingCharacters(in: .newlines) : String($0) }
        try (sums.joined(separator: "\n") + "\n").write(toFile: rewritten + "/SHA256SUMS", atomically: true, encoding: .utf8)
        #expect(try Self.run("sha256sum", ["-c", "--quiet", "SHA256SUMS"], in: rewritten).0 == 0)
        let (forgedStatus, forgedOut) = try Self.run("openssl", Self.openssl, in: rewritten)
        #expect(forgedStatus != 0, "openssl accepted a rewritten SHA256SUMS: \(forgedOut)")
        #expect(EvidenceVerifier.verify(directory: rewritten).problems.contains { $0.file == "SHA256SUMS.sig" })
    }
}

/// Issue 12, finding 9: `events.csv` lists what a reviewer must know, in time order.
@Suite struct EvidenceEventsTests {
    @Test func everyKindInTimeOrder() throws {
        let t0: Int64 = 1_709_251_200_000  // 2024-03-01T00:00:00Z
        let report = IndicatorReport(
            windowStartMS: t0, windowEndMS: t0 + 86_400_000, slotMS: 60_000, values: [], dischargeEvents: [], signalCompleteness: [],
            dayCompleteness: [], tariffID: nil,
            counterResets: [CounterReset(groupID: "site", counter: "charge", atMS: t0 + 7_200_000, fromKWh: 10_750, toKWh: 750)],
            communicationGaps: [CommunicationGap(groupID: "pcs1", startMS: t0 + 3_600_000, endMS: t0 + 5_400_000, missingMS: 1_750_000)])
        let events = EvidenceEvents.events(
            report: report,
            storeEvents: [
                .stopped(atMS: t0 - 1000, clean: true),  // before the window: not listed
                .stopped(atMS: t0 + 3_600_000, clean: false),
            ],
            maintenance: [MaintenanceWindow(startMS: t0 + 36_000_000, endMS: t0 + 39_600_000, reason: "PCS service")],
            fromMS: t0, toMS: t0 + 86_400_000)
        let offsets = try #require(UTCOffsetTable(timeZoneIdentifier: "Asia/Shanghai", fromUTCMS: t0 - 86_400_000, toUTCMS: t0 + 2 * 86_400_000))
        let rows = events.map { EvidenceEvents.row($0, offsets: offsets) }
        #expect(rows.map { $0[3] } == ["essd_ended_uncleanly", "communication_gap", "counter_reset", "planned_outage"], "\(rows)")
        #expect(rows[1] == [
            "2024-03-01T01:00:00Z", "2024-03-01T01:30:00Z", "2024-03-01T09:00:00+08:00", "communication_gap", "pcs1",
            "no data for 1750 s of the 1800 s",
        ])
        #expect(rows[2][0] == "2024-03-01T02:00:00Z" && rows[2][1] == "" && rows[2][4] == "site")
        #expect(rows[2][5] == "charge counter 10750.000 → 750.000 kWh (never counted as energy)")
        #expect(rows[3][5] == "maintenance window: PCS service" && rows[3][1] == "2024-03-01T11:00:00Z")
    }

    /// Restarts, reloads (configuration changes) and clock steps, as the store records them.
    @Test func runEventsAreListed() throws {
        let t0: Int64 = 1_709_251_200_000  // 2024-03-01T00:00:00Z
        let report = IndicatorReport(
            windowStartMS: t0, windowEndMS: t0 + 86_400_000, slotMS: 60_000, values: [], dischargeEvents: [], signalCompleteness: [],
            dayCompleteness: [], tariffID: nil, counterResets: [], communicationGaps: [])
        let events = EvidenceEvents.events(
            report: report,
            storeEvents: [
                .started(atMS: t0 + 60_000), .reconfigured(atMS: t0 + 120_000, groups: ["pcs1", "site"]),
                .clockStepped(atMS: t0 + 180_000, stepMS: -2_500), .started(atMS: t0 + 86_400_000),  // after the window
            ],
            maintenance: [], fromMS: t0, toMS: t0 + 86_400_000)
        #expect(events.map(\.kind) == ["essd_started", "configuration_reloaded", "clock_stepped"])
        #expect(events[1].detail.hasSuffix("series groups after it: pcs1 site"), "\(events[1].detail)")
        #expect(events[2].detail.contains("stepped back by 2.500 s"), "\(events[2].detail)")
    }
}
