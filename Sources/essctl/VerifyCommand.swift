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

    func run() throws {
        let report = EvidenceVerifier.verify(directory: directory)
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
