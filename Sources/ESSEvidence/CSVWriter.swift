import Crypto
import Foundation

/// Writes one RFC 4180 CSV file as it goes: CRLF line ends, a field quoted only when it holds
/// a comma, a double quote, CR or LF (quotes inside doubled), UTF-8, optionally led by the BOM
/// Excel needs to read Chinese headers. Rows are buffered and written in chunks of
/// `chunkBytes`, so memory stays flat however many rows are written; the SHA-256 and the byte
/// count are kept while writing. Owns the file's bytes; not what the columns mean (the
/// exporter's tables do) nor how numbers look (`FixedDecimal`). Not thread-safe.
public final class CSVWriter {
    /// The UTF-8 byte order mark, EF BB BF.
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public let path: String
    /// Data rows written (the header is not counted).
    public private(set) var rowCount = 0
    /// Bytes written so far, including the BOM and the header.
    public private(set) var byteCount = 0
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let chunkBytes: Int
    private var hasher = SHA256()
    private var closed = false
    private var digest: String?

    /// Creates (or truncates) `path` and writes the BOM when `byteOrderMark`, then `header`.
    public init(path: String, header: [String], byteOrderMark: Bool = false, chunkBytes: Int = 64 * 1024) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw EvidenceError("cannot create \(path): check that the directory exists and is writable")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw EvidenceError("cannot open \(path) for writing")
        }
        self.path = path
        self.handle = handle
        self.chunkBytes = max(1, chunkBytes)
        buffer.reserveCapacity(self.chunkBytes + 1024)
        if byteOrderMark { buffer.append(contentsOf: Self.byteOrderMark) }
        Self.append(record: header, to: &buffer)
        try flushIfFull()
    }

    deinit {
        if !closed { try? handle.close() }
    }

    /// Appends one data row. Fields are written as given (use `FixedDecimal` for numbers and
    /// "" for unknown values).
    public func write(_ fields: [String]) throws {
        precondition(!closed, "CSVWriter: write after close")
        Self.append(record: fields, to: &buffer)
        rowCount += 1
        try flushIfFull()
    }

    /// Writes what is buffered, syncs and closes the file; returns the SHA-256 of its bytes (hex).
    @discardableResult
    public func close() throws -> String {
        if let digest { return digest }
        try flush()
        try handle.synchronize()
        try handle.close()
        closed = true
        let text = Hex.encode(Array(hasher.finalize()))
        digest = text
        return text
    }

    /// The record as RFC 4180 text, CRLF included.
    public static func record(_ fields: [String]) -> String {
        var bytes: [UInt8] = []
        append(record: fields, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A field as it appears in the file: quoted when it holds `,` `"` CR or LF, quotes doubled.
    public static func escape(_ field: String) -> String {
        var bytes: [UInt8] = []
        append(field: field, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func append(record fields: [String], to out: inout [UInt8]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            append(field: field, to: &out)
        }
        out.append(13)
        out.append(10)
    }

    static func append(field: String, to out: inout [UInt8]) {
        let utf8 = field.utf8
        let needsQuotes = utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 13 || $0 == 10 }
        guard needsQuotes else {
            out.append(contentsOf: utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    private func flushIfFull() throws {
        if buffer.count >= chunkBytes { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        hasher.update(data: buffer)
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw EvidenceError("cannot write \(path): \(error) (disk full?)")
        }
        byteCount += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Lower-case hexadecimal text of bytes, and back.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil unless `text` (surrounding whitespace ignored) is an even number of hex digits.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let high = value(chars[i]), let low = value(chars[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        return bytes
    }
}

/// A failure of export or verification: what happened and where, and what to do next.
public struct EvidenceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
