import ArgumentParser
import ESSEvidence
import Foundation

/// `essctl verify DIR`: recomputes every hash of an evidence bundle and checks its signature.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an evidence bundle: every file's SHA-256 against manifest.json, no missing or extra file, and the signature.",
        discussion: "Prints each problem with the file it is in; exit 0 when the bundle is intact, 1 on any problem.")

    @Argument(help: "The bundle's directory.")
    var directory: String

    @Flag(name: .long, help: "Machine-readable JSON instead of text (same exit status).")
    var json = false

    /// `--json`: the verdict, the files that matched, the signature and every problem.
    struct Output: Encodable {
        struct Problem: Encodable {
            var kind: String
            var file: String
            var detail: String
        }
        var directory: String
        var valid: Bool
        var verified_files: [String]
        var signed: Bool
        var signature_valid: Bool
        /// Absent when the bundle is not signed or the key could not be read.
        var public_key_hex: String?
        var problems: [Problem]
    }

    func run() throws {
        let report = EvidenceVerifier.verify(directory: directory)
        if json {
            try printJSON(
                Output(
                    directory: report.directory, valid: report.isValid, verified_files: report.verifiedFiles.sorted(),
                    signed: report.publicKeyHex != nil || report.problems.contains { $0.kind == .signatureMissing },
                    signature_valid: report.signatureValid, public_key_hex: report.publicKeyHex,
                    problems: report.problems.map { Output.Problem(kind: $0.kind.rawValue, file: $0.file, detail: $0.detail) }))
            if !report.isValid { throw ExitCode(1) }
            return
        }
        if report.isValid {
            var line = "\(report.directory): ok, \(report.verifiedFiles.count + 1) files match manifest.json"
            if let key = report.publicKeyHex, report.signatureValid {
                line += "; signature valid (public key \(key): compare it with the site's key)"
            } else {
                line += "; not signed"
            }
            print(line)
            return
        }
        for problem in report.problems { print("\(report.directory)/\(problem)") }
        FileHandle.standardError.write(
            Data("essctl: \(report.directory): \(report.problems.count) problem(s); the bundle cannot be trusted as it is\n".utf8))
        throw ExitCode(1)
    }
}
