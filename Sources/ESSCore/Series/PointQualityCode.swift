/// The stable one-byte encoding of `PointQuality` used by ring buffers and tier files.
///
/// The codes are part of the on-disk format: never renumber them, only add.
///
/// | code | quality |
/// | --- | --- |
/// | 0 | `ok` |
/// | 1 | `timeout` |
/// | 2 | `stale` |
/// | 3 | `notImplemented` |
/// | 4 | `communicationFailure` |
/// | 5 | `protocolError` |
/// | 6...15 | reserved (decode to nil) |
/// | 16 + c | `exception(c)`, for c in 0...239; larger exception codes (Modbus defines none above 0x0B) are stored as 255 and read back as `exception(239)` |
extension PointQuality {
    /// The first code of the `exception(c)` range.
    public static let exceptionCodeBase: UInt8 = 16

    /// This quality's stable one-byte code.
    public var code: UInt8 {
        switch self {
        case .ok: 0
        case .timeout: 1
        case .stale: 2
        case .notImplemented: 3
        case .communicationFailure: 4
        case .protocolError: 5
        case .exception(let c): c > 255 - Self.exceptionCodeBase ? 255 : Self.exceptionCodeBase + c
        }
    }

    /// The quality stored as `code`, or nil for a reserved code (6...15).
    public init?(code: UInt8) {
        switch code {
        case 0: self = .ok
        case 1: self = .timeout
        case 2: self = .stale
        case 3: self = .notImplemented
        case 4: self = .communicationFailure
        case 5: self = .protocolError
        case Self.exceptionCodeBase...: self = .exception(code - Self.exceptionCodeBase)
        default: return nil
        }
    }
}
