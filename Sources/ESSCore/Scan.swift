/// How good one point's value in one scan is.
public enum PointQuality: Sendable, Hashable {
    /// Read and decoded in this scan.
    case ok
    /// The request that carries this point timed out.
    case timeout
    /// The device answered the request with a Modbus exception (1 illegal function,
    /// 2 illegal data address, 6 busy, ...).
    case exception(UInt8)
    /// Not read in this scan (its own poll interval is longer); the value is the last good one.
    case stale
    /// The device reports the point as not implemented (sentinel value).
    case notImplemented
    /// No usable answer: connection refused or reset, malformed response.
    case communicationFailure
    /// An answer came but did not belong to the request (wrong unit, transaction id, function
    /// code, byte count, frame length or CRC): nothing from it was used.
    case protocolError

    /// True when the value was read in this scan and can be used.
    public var isGood: Bool { self == .ok }

    /// Short stable name for logs and files ("ok", "timeout", "exception_2", ...).
    public var name: String {
        switch self {
        case .ok: "ok"
        case .timeout: "timeout"
        case .exception(let code): "exception_\(code)"
        case .stale: "stale"
        case .notImplemented: "not_implemented"
        case .communicationFailure: "communication_failure"
        case .protocolError: "protocol_error"
        }
    }
}

/// The result of polling one device once: a value and a quality per point of its profile,
/// in profile order. Values whose quality is not `.ok` (or `.stale`) are NaN.
public struct Scan: Sendable, Hashable {
    public var deviceID: String
    /// UTC time at which the poll started, in milliseconds since 1970-01-01.
    public var timestampMS: Int64
    public var values: [Double]
    public var qualities: [PointQuality]
    /// Decoded text of string points, by point index; only for points read in this scan.
    public var texts: [Int: String]

    public init(
        deviceID: String, timestampMS: Int64, values: [Double], qualities: [PointQuality],
        texts: [Int: String] = [:]
    ) {
        precondition(values.count == qualities.count, "one quality per value")
        self.deviceID = deviceID
        self.timestampMS = timestampMS
        self.values = values
        self.qualities = qualities
        self.texts = texts
    }

    /// Number of points whose quality is `.ok`.
    public var goodCount: Int { qualities.reduce(0) { $0 + ($1 == .ok ? 1 : 0) } }
}

/// Where scans go. Called on the polling thread that produced the scan: implementations
/// must be quick and must not block (copy the scan and return).
public protocol ScanSink: Sendable {
    func accept(_ scan: Scan)
}
