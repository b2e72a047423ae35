/// Why one read request gave no data, as the scan assembly needs to know it (the Modbus layer
/// maps its own errors onto these).
public enum ReadFailure: Error, Sendable, Hashable {
    /// The device answered with a Modbus exception code.
    case exception(UInt8)
    /// No (complete) answer within the response timeout: the device's cycle is spent.
    case timeout
    /// An answer that does not belong to the request (unit, TID, FC, length, CRC): nothing
    /// from it is used; the device's cycle is spent and the link resynchronised.
    case protocolError
    /// The link failed (refused, reset, a system error): the cycle is spent.
    case linkFailure
    /// libmodbus could not use the answer: the link is resynchronised, the cycle goes on.
    case badResponse
    /// essd built a request the protocol does not allow (a bad profile): the cycle goes on.
    case invalidRequest

    /// The quality this failure gives to the points of its request.
    public var quality: PointQuality {
        switch self {
        case .exception(let code): .exception(code)
        case .timeout: .timeout
        case .protocolError: .protocolError
        case .linkFailure, .badResponse, .invalidRequest: .communicationFailure
        }
    }

    /// True when the device answered (a Modbus exception is an answer).
    public var isAnswer: Bool { if case .exception = self { true } else { false } }

    /// True when no further request of this device is sent in this cycle.
    public var spendsCycle: Bool {
        switch self {
        case .timeout, .protocolError, .linkFailure: true
        case .exception, .badResponse, .invalidRequest: false
        }
    }

    /// True when the link must be resynchronised (TCP closed, RTU flushed) before the next request.
    public var makesLinkSuspect: Bool {
        switch self {
        case .timeout, .protocolError, .linkFailure, .badResponse: true
        case .exception, .invalidRequest: false
        }
    }

    /// Exceptions 2 (illegal data address) and 3 (illegal data value): the request may be split.
    public var isRefusal: Bool { self == .exception(2) || self == .exception(3) }

    /// Exceptions 5 (acknowledge) and 6 (busy): the request may be sent again after a pause.
    public var isBusy: Bool { self == .exception(5) || self == .exception(6) }
}
