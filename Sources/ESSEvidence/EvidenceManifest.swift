import Foundation

/// `manifest.json` of an evidence bundle: who made it, from what, over which window, and the
/// size, row count and SHA-256 of every other file. The optional signature (`manifest.sig`)
/// covers its exact bytes, so it is written once and never re-serialised for checking.
/// Owns the format; the exporter fills it, the verifier reads it.
public struct EvidenceManifest: Codable, Sendable, Hashable {
    /// One file of the bundle.
    public struct FileEntry: Codable, Sendable, Hashable {
        public var name: String
        public var bytes: Int
        /// Data rows of a CSV file (header not counted); nil for other files.
        public var rows: Int?
        public var sha256: String

        public init(name: String, bytes: Int, rows: Int?, sha256: String) {
            self.name = name
            self.bytes = bytes
            self.rows = rows
            self.sha256 = sha256
        }
    }

    /// The bundle's format, "essd-evidence/1".
    public var format: String
    public var essdVersion: String
    /// UTC ISO 8601 time the bundle was made.
    public var generatedAt: String
    /// SHA-256 of the canonical text of the site configuration (`CanonicalDescription`).
    public var configurationSHA256: String
    public var storeID: String
    public var siteID: String
    public var windowStartUTC: String
    public var windowEndUTC: String
    public var windowStartMS: Int64
    public var windowEndMS: Int64
    /// IANA name, e.g. "Asia/Shanghai".
    public var timeZone: String
    public var intervalSeconds: Int64
    /// The store tier the intervals were read from ("15m", "1m").
    public var sourceTier: String
    public var policyID: String?
    public var tariffID: String?
    /// Every file of the bundle except `manifest.json`, `manifest.sig`, `SHA256SUMS` and `SHA256SUMS.sig`.
    public var files: [FileEntry]
    /// "manifest.sig" when the manifest is signed (its public key is `site.pub`, listed in `files`).
    public var signatureFile: String?
    public var publicKeyFile: String?

    /// Format 2 adds `SHA256SUMS` (and, when signed, `SHA256SUMS.sig` and `site.pem`) so a bundle
    /// is checked with `sha256sum -c` and `openssl`; format 1 bundles have neither.
    public static let currentFormat = "essd-evidence/2"
    public static let fileName = "manifest.json"
    public static let signatureFileName = "manifest.sig"
    public static let publicKeyFileName = "site.pub"
    /// `sha256sum -c` input: every file of the bundle but itself and its signature, manifest.json included.
    public static let checksumsFileName = "SHA256SUMS"
    /// Raw 64-byte Ed25519 signature over the exact bytes of `SHA256SUMS` (with `site.pem`, for openssl).
    public static let checksumsSignatureFileName = "SHA256SUMS.sig"
    /// The public key as PEM (listed in `files`, like `site.pub`).
    public static let publicKeyPEMFileName = "site.pem"

    /// Whether bundles of this format carry `SHA256SUMS`.
    public var hasChecksumsFile: Bool { format != "essd-evidence/1" }

    enum CodingKeys: String, CodingKey {
        case format, files, essdVersion = "essd_version", generatedAt = "generated_at"
        case configurationSHA256 = "configuration_sha256", storeID = "store_id", siteID = "site_id"
        case windowStartUTC = "window_start_utc", windowEndUTC = "window_end_utc"
        case windowStartMS = "window_start_ms", windowEndMS = "window_end_ms", timeZone = "time_zone"
        case intervalSeconds = "interval_s", sourceTier = "source_tier", policyID = "policy", tariffID = "tariff"
        case signatureFile = "signature_file", publicKeyFile = "public_key_file"
    }

    /// The bytes written to `manifest.json`: sorted keys, indented, ending in a newline.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [10]
    }

    public static func decode(_ bytes: [UInt8]) throws -> EvidenceManifest {
        try JSONDecoder().decode(EvidenceManifest.self, from: Data(bytes))
    }
}

extension EvidenceManifest.FileEntry {
    enum CodingKeys: String, CodingKey { case name, bytes, rows, sha256 }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(rows, forKey: .rows)  // null for non-CSV files
        try c.encode(sha256, forKey: .sha256)
    }
}

extension EvidenceManifest {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(essdVersion, forKey: .essdVersion)
        try c.encode(generatedAt, forKey: .generatedAt)
        try c.encode(configurationSHA256, forKey: .configurationSHA256)
        try c.encode(storeID, forKey: .storeID)
        try c.encode(siteID, forKey: .siteID)
        try c.encode(windowStartUTC, forKey: .windowStartUTC)
        try c.encode(windowEndUTC, forKey: .windowEndUTC)
        try c.encode(windowStartMS, forKey: .windowStartMS)
        try c.encode(windowEndMS, forKey: .windowEndMS)
        try c.encode(timeZone, forKey: .timeZone)
        try c.encode(intervalSeconds, forKey: .intervalSeconds)
        try c.encode(sourceTier, forKey: .sourceTier)
        try c.encode(policyID, forKey: .policyID)
        try c.encode(tariffID, forKey: .tariffID)
        try c.encode(files, forKey: .files)
        try c.encode(signatureFile, forKey: .signatureFile)
        try c.encode(publicKeyFile, forKey: .publicKeyFile)
    }
}
