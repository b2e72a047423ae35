/// Why an answer does not belong to its request. Any of these means the answer is not used
/// (its points are `protocolError`) and the link is resynchronised: a TCP connection is
/// reopened, an RTU line is drained and flushed, so a late answer cannot be taken for the next
/// request's.
public enum ResponseMismatch: Sendable, Hashable, CustomStringConvertible {
    /// Fewer bytes than the smallest answer (header, function code and one more byte).
    case tooShort(length: Int)
    /// TCP: the MBAP transaction id is not the request's (a late or foreign answer).
    case transactionID(expected: UInt16, received: UInt16)
    /// TCP: the MBAP protocol id is not 0 (not Modbus).
    case protocolID(UInt16)
    /// TCP: the MBAP length field does not match the bytes of the frame.
    case mbapLength(declared: Int, actual: Int)
    /// The answer names another unit (slave) than the one asked.
    case unitID(expected: UInt8, received: UInt8)
    /// The function code is neither the request's nor its exception (request's + 0x80).
    case functionCode(expected: UInt8, received: UInt8)
    /// An exception answer whose code is 0 (no such exception).
    case exceptionCode(UInt8)
    /// The byte count is not the one the request's count implies.
    case byteCount(expected: Int, received: Int)
    /// The frame is longer or shorter than its function code and byte count say.
    case frameLength(expected: Int, actual: Int)
    /// RTU: the CRC of the frame is wrong.
    case crc(computed: UInt16, received: UInt16)
    /// More bytes were waiting after a complete answer (an overlong frame, or a second answer).
    case trailingBytes(count: Int)
    /// libmodbus refused the bytes before essd could see them (e.g. longer than an ADU).
    case unreadable

    /// A stable short name for logs ("unit_id", "crc", ...).
    public var name: String {
        switch self {
        case .tooShort: "too_short"
        case .transactionID: "transaction_id"
        case .protocolID: "protocol_id"
        case .mbapLength: "mbap_length"
        case .unitID: "unit_id"
        case .functionCode: "function_code"
        case .exceptionCode: "exception_code"
        case .byteCount: "byte_count"
        case .frameLength: "frame_length"
        case .crc: "crc"
        case .trailingBytes: "trailing_bytes"
        case .unreadable: "unreadable"
        }
    }

    public var description: String {
        switch self {
        case .tooShort(let n): "answer of \(n) bytes is too short"
        case .transactionID(let e, let r): "transaction id \(r), expected \(e)"
        case .protocolID(let p): "protocol id \(p), expected 0"
        case .mbapLength(let d, let a): "MBAP length \(d), but \(a) bytes follow it"
        case .unitID(let e, let r): "unit \(r) answered, expected unit \(e)"
        case .functionCode(let e, let r): "function code \(r), expected \(e)"
        case .exceptionCode(let c): "exception answer with code \(c)"
        case .byteCount(let e, let r): "byte count \(r), expected \(e)"
        case .frameLength(let e, let a): "frame of \(a) bytes, expected \(e)"
        case .crc(let c, let r): "CRC \(String(r, radix: 16)), computed \(String(c, radix: 16))"
        case .trailingBytes(let n): "\(n) more bytes after a complete answer"
        case .unreadable: "libmodbus could not frame the answer"
        }
    }
}

/// What a response to a read request says, once checked against that request.
public enum ValidatedResponse: Sendable, Hashable {
    /// The request's `count` registers or bits were written to the caller's words.
    case values
    /// The device answered the request with this Modbus exception code (1...255).
    case exception(UInt8)
    /// The answer does not belong to the request; nothing was written.
    case mismatch(ResponseMismatch)
}

/// Checks a raw response ADU against the request it answers and decodes it. Pure, allocates
/// nothing: this is the whole trust boundary between a Modbus peer and essd's values.
///
/// Checked, in order: length, (TCP) transaction id, protocol id and MBAP length, (RTU) CRC,
/// unit id, function code (or its exception), byte count, frame length. libmodbus 3.1.6 checks
/// some of these itself (TCP transaction and protocol id, RTU CRC and address, function code,
/// byte count) but not the TCP unit id nor the MBAP length, and essd sends its own TCP
/// requests; so every check is done here, whatever libmodbus did before.
public enum ResponseValidator {
    /// Validates `response` (the whole ADU, as read) against `request`. On `.values`,
    /// `words[0..<request.count]` hold the registers (big-endian on the wire) or the bits
    /// (one per word, 0 or 1); `words` must hold at least `request.count` elements.
    public static func validate(
        _ response: UnsafeRawBufferPointer, for request: ModbusReadRequest, framing: ModbusFraming,
        into words: UnsafeMutableBufferPointer<UInt16>
    ) -> ValidatedResponse {
        let n = response.count
        let h = framing.headerLength
        let trailer = framing.trailerLength
        guard n >= h + 2 + trailer else { return .mismatch(.tooShort(length: n)) }
        switch framing {
        case .tcp:
            let tid = UInt16(response[0]) << 8 | UInt16(response[1])
            if tid != request.transactionID {
                return .mismatch(.transactionID(expected: request.transactionID, received: tid))
            }
            let protocolID = UInt16(response[2]) << 8 | UInt16(response[3])
            if protocolID != 0 { return .mismatch(.protocolID(protocolID)) }
            let declared = Int(response[4]) << 8 | Int(response[5])
            if declared != n - 6 { return .mismatch(.mbapLength(declared: declared, actual: n - 6)) }
        case .rtu:
            let computed = ModbusCRC.crc16(UnsafeRawBufferPointer(rebasing: response[0..<(n - 2)]))
            let received = UInt16(response[n - 2]) | UInt16(response[n - 1]) << 8
            if computed != received { return .mismatch(.crc(computed: computed, received: received)) }
        }
        let unit = response[h - 1]
        if unit != request.unitID { return .mismatch(.unitID(expected: request.unitID, received: unit)) }
        let function = response[h]
        if function == request.functionCode | 0x80 {
            let expected = h + 2 + trailer
            if n != expected { return .mismatch(.frameLength(expected: expected, actual: n)) }
            let code = response[h + 1]
            return code == 0 ? .mismatch(.exceptionCode(code)) : .exception(code)
        }
        if function != request.functionCode {
            return .mismatch(.functionCode(expected: request.functionCode, received: function))
        }
        let byteCount = Int(response[h + 1])
        if byteCount != request.expectedByteCount {
            return .mismatch(.byteCount(expected: request.expectedByteCount, received: byteCount))
        }
        let expectedLength = request.expectedResponseLength(framing)
        if n != expectedLength { return .mismatch(.frameLength(expected: expectedLength, actual: n)) }
        precondition(words.count >= request.count, "words buffer too small")
        let data = h + 2
        if request.kind.isBitTable {
            for i in 0..<request.count {
                words[i] = UInt16((response[data + (i >> 3)] >> UInt8(i & 7)) & 1)
            }
        } else {
            for i in 0..<request.count {
                words[i] = UInt16(response[data + 2 * i]) << 8 | UInt16(response[data + 2 * i + 1])
            }
        }
        return .values
    }
}
