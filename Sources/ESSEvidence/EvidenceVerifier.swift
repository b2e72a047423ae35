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
        /// `SHA256SUMS` does not list the bundle's files with their true hashes.
        case checksumsMismatch = "checksums_mismatch"
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
    /// True when `manifest.sig` (and, in format 2, `SHA256SUMS.sig`) was checked and is valid.
    public var signatureValid: Bool
    /// The public key (hex) the signature was checked with, to compare with the site's known key.
    public var publicKeyHex: String?

    public var isValid: Bool { problems.isEmpty }
}

/// Checks an evidence bundle: reads `manifest.json`, recomputes the size and SHA-256 of every
/// file it lists (streamed, 1 MiB at a time), reports listed files that are missing and files
/// present but not listed, and checks the Ed25519 signature `manifest.sig` over the manifest's
/// exact bytes with `site.pub` when the manifest says it is signed (or a signature is present).
/// In format 2 it also checks what standard tools check: `SHA256SUMS` (every file but itself and
/// its signature, with its true hash, as `sha256sum -c` reads it) and `SHA256SUMS.sig`.
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

        var publicKey: [UInt8]?
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
            publicKey = keyText.flatMap(Hex.decode).flatMap { $0.count == 32 ? $0 : nil }
            if !signaturePresent {
                problem(.signatureMissing, signatureName, "the manifest is signed but the signature file is missing")
            } else if let key = publicKey {
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
        let sumsName = EvidenceManifest.checksumsFileName
        let sumsBytes = FileManager.default.contents(atPath: "\(dir)/\(sumsName)").map(Array.init)
        if manifest.hasChecksumsFile || sumsBytes != nil {
            expected.insert(sumsName)
            if let sumsBytes {
                // What SHA256SUMS must say: the manifest's hashes (a changed file is the
                // manifest's finding, not repeated here), and the true hashes of the manifest
                // and its signature (nil: missing, reported above).
                var wanted: [String: String?] = [manifestName: Hex.encode(Array(SHA256.hash(data: manifestBytes)))]
                for entry in manifest.files { wanted[entry.name] = entry.sha256.lowercased() }
                if manifest.signatureFile != nil || signaturePresent {
                    wanted[signatureName] = .some(hash(path: "\(dir)/\(signatureName)")?.1)
                }
                for (kind, detail) in checkChecksums(sumsBytes, wanted: wanted) { problem(kind, sumsName, detail) }
            } else {
                problem(.fileMissing, sumsName, "missing: `sha256sum -c SHA256SUMS` cannot check this bundle")
            }
            let sumsSignatureName = EvidenceManifest.checksumsSignatureFileName
            if manifest.signatureFile != nil {
                expected.insert(sumsSignatureName)
                let signature = FileManager.default.contents(atPath: "\(dir)/\(sumsSignatureName)").map(Array.init)
                if let signature, let sumsBytes, let publicKey, signature.count == 64,
                    EvidenceSigningKey.isValid(signature: signature, of: sumsBytes, publicKey: publicKey)
                {
                    // Both signatures hold.
                } else {
                    report.signatureValid = false
                    problem(
                        signature == nil ? .signatureMissing : .signatureInvalid, sumsSignatureName,
                        signature == nil
                            ? "the bundle is signed but SHA256SUMS.sig is missing"
                            : "the Ed25519 signature (64 raw bytes) does not match SHA256SUMS and the site's key: SHA256SUMS or the signature was changed")
                }
            }
        }
        for name in present.sorted() where !expected.contains(name) {
            problem(.extraFile, name, "present but not listed in the manifest")
        }
        return report
    }

    /// What is wrong with `SHA256SUMS` (`bytes`): lines as GNU `sha256sum` writes and
    /// `sha256sum -c` reads them ("<64 hex><space><space or *><name>"), each of the `wanted`
    /// files once with the hash it must have (nil: the file is missing, already reported), and
    /// no other file.
    static func checkChecksums(_ bytes: [UInt8], wanted: [String: String?]) -> [(VerificationProblem.Kind, String)] {
        var problems: [(VerificationProblem.Kind, String)] = []
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return [(.checksumsMismatch, "not UTF-8 text")]
        }
        var seen = Set<String>()
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() } else { problems.append((.checksumsMismatch, "the last line does not end in a newline")) }
        for (index, line) in lines.enumerated() {
            let utf8 = Array(line.utf8)
            let hex = utf8.prefix(64)
            guard utf8.count > 66, hex.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }), utf8[64] == 32,
                utf8[65] == 32 || utf8[65] == 42
            else {
                problems.append((.checksumsMismatch, "line \(index + 1) is not '<64 lowercase hex>  <file>'"))
                continue
            }
            let name = String(decoding: utf8[66...], as: UTF8.self)
            guard seen.insert(name).inserted else {
                problems.append((.checksumsMismatch, "line \(index + 1): \(name) is listed twice"))
                continue
            }
            guard let want = wanted[name] else {
                problems.append((.checksumsMismatch, "line \(index + 1): '\(name)' is not a file of the bundle"))
                continue
            }
            if let want, want != String(decoding: hex, as: UTF8.self) {
                problems.append((.checksumsMismatch, "line \(index + 1): \(name): the hash differs from the file's (\(want))"))
            }
        }
        for name in Set(wanted.keys).subtracting(seen).sorted() {
            problems.append((.checksumsMismatch, "\(name) is not listed"))
        }
        return problems
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
