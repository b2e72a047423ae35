import Crypto
import Foundation

/// One thing wrong with a bundle, naming the file.
public struct VerificationProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case manifestMissing = "manifest_missing"
        case manifestUnreadable = "manifest_unreadable"
        case fileMissing = "file_missing"
        case extraFile = "extra_file"
        case sizeMismatch = "size_mismatch"
        case hashMismatch = "hash_mismatch"
        case signatureMissing = "signature_missing"
        case signatureInvalid = "signature_invalid"
        case publicKeyInvalid = "public_key_invalid"
    }

    public var kind: Kind
    /// The file the problem is in (or about).
    public var file: String
    public var detail: String

    public var description: String { "\(file): \(detail)" }
}

/// The outcome of checking a bundle: problems (none means every hash and the signature hold).
public struct VerificationReport: Sendable, Hashable {
    public var directory: String
    public var problems: [VerificationProblem]
    /// Files whose hash was checked and matched.
    public var verifiedFiles: [String]
    /// True when `manifest.sig` was checked and is valid.
    public var signatureValid: Bool
    /// The public key (hex) the signature was checked with, to compare with the site's known key.
    public var publicKeyHex: String?

    public var isValid: Bool { problems.isEmpty }
}

/// Checks an evidence bundle: reads `manifest.json`, recomputes the size and SHA-256 of every
/// file it lists (streamed, 1 MiB at a time), reports listed files that are missing and files
/// present but not listed, and checks the Ed25519 signature `manifest.sig` over the manifest's
/// exact bytes with `site.pub` when the manifest says it is signed (or a signature is present).
/// Owns checking only; it trusts nothing in the directory but the manifest's own bytes.
public enum EvidenceVerifier {
    public static func verify(directory: String) -> VerificationReport {
        let dir = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        var report = VerificationReport(directory: dir, problems: [], verifiedFiles: [], signatureValid: false, publicKeyHex: nil)
        func problem(_ kind: VerificationProblem.Kind, _ file: String, _ detail: String) {
            report.problems.append(VerificationProblem(kind: kind, file: file, detail: detail))
        }
        let manifestName = EvidenceManifest.fileName
        guard let manifestBytes = FileManager.default.contents(atPath: "\(dir)/\(manifestName)").map(Array.init) else {
            problem(.manifestMissing, manifestName, "missing or unreadable: nothing can be verified without it")
            return report
        }
        let manifest: EvidenceManifest
        do {
            manifest = try EvidenceManifest.decode(manifestBytes)
        } catch {
            problem(.manifestUnreadable, manifestName, "not a valid evidence manifest (changed or damaged): \(error)")
            return report
        }

        var expected: Set<String> = [manifestName]
        for entry in manifest.files {
            expected.insert(entry.name)
            guard isPlainName(entry.name) else {
                problem(.manifestUnreadable, manifestName, "lists '\(entry.name)', which is not a plain file name")
                continue
            }
            let path = "\(dir)/\(entry.name)"
            guard let (bytes, digest) = hash(path: path) else {
                problem(.fileMissing, entry.name, "listed in the manifest but missing or unreadable")
                continue
            }
            if bytes != entry.bytes {
                problem(.sizeMismatch, entry.name, "\(bytes) bytes, the manifest says \(entry.bytes)")
            }
            if digest != entry.sha256.lowercased() {
                problem(.hashMismatch, entry.name, "SHA-256 \(digest) differs from the manifest's \(entry.sha256): the file was changed")
            } else if bytes == entry.bytes {
                report.verifiedFiles.append(entry.name)
            }
        }

        let signatureName = manifest.signatureFile ?? EvidenceManifest.signatureFileName
        let signaturePresent = FileManager.default.fileExists(atPath: "\(dir)/\(signatureName)")
        if manifest.signatureFile != nil || signaturePresent {
            expected.insert(signatureName)
            let keyName = manifest.publicKeyFile ?? EvidenceManifest.publicKeyFileName
            if manifest.signatureFile == nil {
                problem(.signatureInvalid, signatureName, "present but the manifest does not say it is signed")
            }
            if manifest.publicKeyFile != nil, !manifest.files.contains(where: { $0.name == keyName }) {
                problem(.publicKeyInvalid, keyName, "the public key is not listed (with its hash) in the manifest")
            }
            let keyText = FileManager.default.contents(atPath: "\(dir)/\(keyName)").flatMap { String(data: $0, encoding: .utf8) }
            let signatureText = FileManager.default.contents(atPath: "\(dir)/\(signatureName)").flatMap {
                String(data: $0, encoding: .utf8)
            }
            if !signaturePresent {
                problem(.signatureMissing, signatureName, "the manifest is signed but the signature file is missing")
            } else if let keyText, let key = Hex.decode(keyText), key.count == 32 {
                report.publicKeyHex = Hex.encode(key)
                if let signatureText, let signature = Hex.decode(signatureText), signature.count == 64,
                    EvidenceSigningKey.isValid(signature: signature, of: manifestBytes, publicKey: key)
                {
                    report.signatureValid = true
                } else {
                    problem(
                        .signatureInvalid, signatureName,
                        "the Ed25519 signature does not match manifest.json and \(keyName): the manifest or the signature was changed")
                }
            } else {
                problem(.publicKeyInvalid, keyName, "missing, or not a 32-byte Ed25519 public key in hex")
            }
        }

        let present = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for name in present.sorted() where !expected.contains(name) {
            problem(.extraFile, name, "present but not listed in the manifest")
        }
        return report
    }

    /// Size and SHA-256 (hex) of a file, read 1 MiB at a time; nil when it cannot be read.
    static func hash(path: String) -> (Int, String)? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let handle = FileHandle(forReadingAtPath: path)
        else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256()
        var total = 0
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                total += chunk.count
            }
        } catch {
            return nil
        }
        return (total, Hex.encode(Array(hasher.finalize())))
    }

    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}
