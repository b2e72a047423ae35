import ArgumentParser
import ESSConfig
import ESSCore
import ESSCriteria
import ESSEvidence
import ESSStore
import Foundation

/// `essctl export`: an evidence bundle (CSV, manifest, optional signature) for a window.
struct ExportCommand: ParsableCommand {
    /// Written to manifests; keep in step with `Essd.version`.
    static let essdVersion = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an audit-ready evidence bundle (CSV files, manifest, optional Ed25519 signature) for a window.",
        discussion: """
            --from/--to: ISO 8601 (without an offset: site time), a bare date (site midnight), now, or -2d style; \
            both must fall on the source tier's slots (15 min for intervals that are a multiple of 15 min, else 1 min). \
            --out must be a new or empty directory. --sign-key FILE: a 32-byte Ed25519 private key, raw or as 64 hex \
            digits; the public key is written beside the manifest as site.pub. Check a bundle with `essctl verify DIR`. \
            --policy and the tariff are read exactly as `essctl check` reads them: <policy_directory>/NAME.toml, else \
            the built-in policy; the site's [site] tariff, else the policy's (tariff_directory, else built in). The \
            policy's money estimates are written with their inputs to money.csv; maintenance windows \
            ([[site.maintenance]]) split planned from unplanned outage. \
            Exit 78 configuration, 74 when the store cannot be read or the files written.
            """)

    @OptionGroup var options: SiteOptions

    @Option(name: .long, help: "Policy whose criteria and tariff to use (a file in policy_directory, or a built-in name).")
    var policy: String

    @Option(name: .long, parsing: .unconditional, help: "Start of the window (inclusive).")
    var from: String

    @Option(name: .long, parsing: .unconditional, help: "End of the window (exclusive).")
    var to: String

    @Option(name: .long, help: "Interval length, a whole number of minutes: 15m, 1h, 5m ...")
    var interval: String = "15m"

    @Option(name: .long, help: "Directory to write (new or empty).")
    var out: String

    @Flag(name: .long, help: "Start CSV files with the UTF-8 BOM Excel needs for Chinese headers.")
    var excel = false

    @Option(name: .customLong("sign-key"), help: "Ed25519 private key file to sign the manifest with.")
    var signKey: String?

    func validate() throws {
        guard let ms = SeriesCommand.durationMS(interval), ms % 60_000 == 0 else {
            throw ValidationError("--interval must be a whole number of minutes, e.g. 15m, 1h or 1d")
        }
    }

    func run() throws {
        try reporting {
            let site = try options.loadSite()
            let criteria: SiteCriteriaSettings
            let loaded: (policy: Policy, path: String?)
            let tariff: (tariff: TariffCalendar, path: String?)?
            do {
                criteria = try ConfigurationLoader.loadSiteCriteria(path: options.config)
                loaded = try ConfigurationLoader.policy(id: policy, directory: criteria.policyDirectory)
                tariff = try (criteria.tariffID ?? loaded.policy.tariffID).map {
                    try ConfigurationLoader.tariff(id: $0, directory: criteria.tariffDirectory)
                }
            } catch {
                throw CommandFailure(message: "\(error)", exitCode: 78)
            }
            let zone = TimeZone(identifier: site.site.timeZone) ?? TimeZone(identifier: "UTC")!
            let nowMS = Int64(Date().timeIntervalSince1970 * 1000)
            guard let fromMS = TimeArgument.parse(from, nowMS: nowMS, zone: zone) else {
                throw CommandFailure(message: "cannot read --from '\(from)': use ISO 8601 such as 2024-05-01 or 2024-05-01T00:00:00+08:00", exitCode: 64)
            }
            guard let toMS = TimeArgument.parse(to, nowMS: nowMS, zone: zone) else {
                throw CommandFailure(message: "cannot read --to '\(to)': use ISO 8601 such as 2024-06-01 or now", exitCode: 64)
            }
            var key: EvidenceSigningKey?
            if let signKey {
                guard let data = FileManager.default.contents(atPath: signKey) else {
                    throw CommandFailure(message: "cannot read the signing key \(signKey)", exitCode: 66)
                }
                do { key = try EvidenceSigningKey(fileContents: data) } catch {
                    throw CommandFailure(message: "\(signKey): \(error)", exitCode: 65)
                }
            }
            let reader: StoreReader
            do { reader = try StoreReader(directory: site.stateDirectory) } catch {
                throw CommandFailure(message: "\(error)", exitCode: 74)
            }
            let bar = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
            do {
                let result = try EvidenceExporter.export(
                    site: site, reader: reader, policy: loaded.policy, tariff: tariff?.tariff, extraFacts: criteria.extraFacts,
                    settings: IndicatorSettings(flatPriceCNYPerKWh: criteria.flatPriceCNYPerKWh),
                    maintenance: criteria.maintenance, fromMS: fromMS, toMS: toMS,
                    intervalMS: SeriesCommand.durationMS(interval)!, outDirectory: out, excel: excel, signingKey: key,
                    essdVersion: Self.essdVersion, generatedAtMS: nowMS, progress: bar.update)
                bar.finish()
                let rows = result.manifest.files.first { $0.name == EvidenceExporter.intervalsFile }?.rows ?? 0
                let written = (try? FileManager.default.contentsOfDirectory(atPath: result.directory).count) ?? 0
                if options.json {
                    return try printJSON(
                        ExportOutput(
                            directory: result.directory, files: written, intervals: rows, policy: loaded.policy.id,
                            tariff: tariff?.tariff.id, manifest_sha256: result.manifestSHA256, public_key_hex: key?.publicKeyHex))
                }
                print("wrote \(written) files to \(result.directory): \(rows) intervals")
                print("policy \(loaded.policy.id) (\(loaded.path ?? "built in")); tariff \(tariff.map { "\($0.tariff.id) (\($0.path ?? "built in"))" } ?? "none")")
                print("manifest sha256 \(result.manifestSHA256)" + (key.map { "; signed, public key \($0.publicKeyHex)" } ?? ""))
            } catch let error as EvidenceError {
                bar.finish()
                throw CommandFailure(message: error.description, exitCode: 74)
            } catch let error as StoreError {
                bar.finish()
                throw CommandFailure(message: "\(error)", exitCode: 74)
            }
        }
    }
}

/// A one-line progress bar on stderr, drawn at most every 1 % (only when stderr is a terminal).
final class ProgressBar {
    let enabled: Bool
    private var lastPermille = -1

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: ExportProgress) {
        guard enabled, p.intervalsTotal > 0 else { return }
        let permille = p.intervalsDone * 1000 / p.intervalsTotal
        guard permille / 10 != lastPermille / 10 else { return }
        lastPermille = permille
        let width = 30
        let filled = width * p.intervalsDone / p.intervalsTotal
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            + "] \(permille / 10) % \(p.intervalsDone)/\(p.intervalsTotal) intervals"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled, lastPermille >= 0 else { return }
        FileHandle.standardError.write(Data("\n".utf8))
        lastPermille = -1
    }
}

/// `essctl export --json`: what was written. `tariff` and `public_key_hex` are absent when
/// there is none (the project's convention for unknown or not applicable: absent, never 0).
struct ExportOutput: Encodable {
    var directory: String
    var files: Int
    var intervals: Int
    var policy: String
    var tariff: String?
    var manifest_sha256: String
    var public_key_hex: String?
}
