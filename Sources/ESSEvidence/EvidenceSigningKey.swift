import Crypto
import Foundation

/// A site's Ed25519 key for signing evidence manifests (swift-crypto `Curve25519.Signing`).
/// Owns the private key's 32-byte seed in memory; never writes it. The key file holds the 32-byte private
/// seed, raw or as 64 hex digits.
public struct EvidenceSigningKey: Sendable {
    /// The private seed (kept as bytes: swift-crypto's key type is not `Sendable`).
    let seed: [UInt8]

    /// A new random key (for tests and `essctl` key generation).
    public static func generate() -> EvidenceSigningKey {
        EvidenceSigningKey(seed: Array(Curve25519.Signing.PrivateKey().rawRepresentation))
    }

    init(seed: [UInt8]) { self.seed = seed }

    var key: Curve25519.Signing.PrivateKey {
        // The seed was checked at init: 32 bytes always make a key.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// The key from a file's bytes: 32 raw bytes, or 64 hex digits (surrounding whitespace ignored).
    public init(fileContents: Data) throws {
        var seed = [UInt8](fileContents)
        if seed.count != 32, let text = String(data: fileContents, encoding: .utf8), let hex = Hex.decode(text) {
            seed = hex
        }
        guard seed.count == 32 else {
            throw EvidenceError(
                "signing key: expected a 32-byte Ed25519 private key (raw, or 64 hex digits), got \(fileContents.count) bytes")
        }
        _ = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        self.seed = seed
    }

    /// The 32-byte private seed as hex (what a key file holds).
    public var privateKeyHex: String { Hex.encode(key.rawRepresentation) }

    /// The raw 32-byte public key as hex (what `site.pub` holds).
    public var publicKeyHex: String { Hex.encode(key.publicKey.rawRepresentation) }

    /// The public key as a PEM SubjectPublicKeyInfo (what `site.pem` holds), for standard tools:
    /// `openssl pkeyutl -verify -pubin -inkey site.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig`.
    public var publicKeyPEM: String { Self.pem(publicKey: Array(key.publicKey.rawRepresentation)) }

    /// A raw 32-byte Ed25519 public key as PEM: the fixed DER prefix of its SubjectPublicKeyInfo
    /// (RFC 8410: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING }) and the key, in base64.
    public static func pem(publicKey: [UInt8]) -> String {
        let der: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00] + publicKey
        return "-----BEGIN PUBLIC KEY-----\n\(Data(der).base64EncodedString())\n-----END PUBLIC KEY-----\n"
    }

    /// Ed25519 signature of `bytes` (64 bytes).
    public func signature(of bytes: [UInt8]) throws -> [UInt8] { Array(try key.signature(for: bytes)) }

    /// Whether `signature` is a valid signature of `bytes` by the raw 32-byte `publicKey`.
    public static func isValid(signature: [UInt8], of bytes: [UInt8], publicKey: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: bytes)
    }
}
