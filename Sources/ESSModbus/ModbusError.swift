internal import CModbus
public import ESSCore

#if canImport(Glibc)
    import Glibc
#endif

/// A failed Modbus operation: what went wrong, where, and what to do about it.
/// Every libmodbus error is mapped to one of these kinds.
public struct ModbusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure it was.
    public enum Kind: Sendable, Hashable {
        /// No (complete) answer within the response timeout.
        case timeout
        /// Nothing listens at the address (TCP) or the serial device could not be opened.
        case connectionRefused
        /// The peer closed or reset the connection.
        case connectionReset
        /// The device answered with a Modbus exception code (1 illegal function, 2 illegal data
        /// address, 3 illegal data value, 4 device failure, 6 busy, 10/11 gateway, ...).
        case exception(UInt8)
        /// The answer could not be used (libmodbus' own judgement; essd's checks give
        /// `protocolError`).
        case badResponse
        /// The answer does not belong to its request (wrong unit, transaction id, function
        /// code, byte count, frame length or CRC): nothing from it is used, and the link was
        /// resynchronised (TCP closed, RTU drained and flushed).
        case protocolError(ResponseMismatch)
        /// The request itself was invalid (a count over the protocol limit); a bug or a bad profile.
        case invalidRequest
        /// Any other operating-system error, with its errno.
        case system(Int32)
    }

    public var kind: Kind
    /// The libmodbus call that failed, e.g. "modbus_read_registers".
    public var operation: String
    /// The connection, e.g. "tcp://127.0.0.1:502".
    public var endpoint: String
    /// libmodbus' own message for the error.
    public var detail: String

    public init(kind: Kind, operation: String, endpoint: String, detail: String = "") {
        self.kind = kind
        self.operation = operation
        self.endpoint = endpoint
        self.detail = detail
    }

    /// True when the connection must be closed and opened again before the next request.
    public var requiresReconnect: Bool {
        switch kind {
        case .connectionRefused, .connectionReset, .system: true
        case .timeout, .exception, .badResponse, .protocolError, .invalidRequest: false
        }
    }

    /// A stable short name for statistics and metrics labels.
    public var kindName: String {
        switch kind {
        case .timeout: "timeout"
        case .connectionRefused: "connection_refused"
        case .connectionReset: "connection_reset"
        case .exception(let code): "exception_\(code)"
        case .badResponse: "bad_response"
        case .protocolError: "protocol_error"
        case .invalidRequest: "invalid_request"
        case .system: "system"
        }
    }

    public var description: String {
        let advice: String
        switch kind {
        case .timeout:
            advice = "no answer in time: check that the device is powered and its unit id, or raise response_timeout_ms"
        case .connectionRefused:
            advice = "could not connect: check host/port or the serial device path and that the device is listening"
        case .connectionReset:
            advice = "the peer closed the connection; essd reconnects with backoff"
        case .exception(let code):
            advice = "device answered Modbus exception \(code) (\(Self.exceptionName(code))): check the profile's addresses and register table"
        case .badResponse:
            advice = "malformed answer: check the unit id, baud rate/parity or that a gateway is not mixing replies"
        case .protocolError(let reason):
            advice =
                "answer does not match the request (\(reason)): nothing from it is stored; check the unit id, "
                + "that no other master shares the line, or that a gateway is not mixing replies"
        case .invalidRequest:
            advice = "the request was refused before sending: check max_registers_per_request and the profile"
        case .system(let code):
            advice = "system error \(code)"
        }
        return "\(endpoint): \(operation) failed: \(advice)\(detail.isEmpty ? "" : " [\(detail)]")"
    }

    /// The standard name of a Modbus exception code.
    public static func exceptionName(_ code: UInt8) -> String {
        switch code {
        case 1: "illegal function"
        case 2: "illegal data address"
        case 3: "illegal data value"
        case 4: "server device failure"
        case 5: "acknowledge"
        case 6: "server device busy"
        case 7: "negative acknowledge"
        case 8: "memory parity error"
        case 10: "gateway path unavailable"
        case 11: "gateway target device failed to respond"
        default: "unknown"
        }
    }

    /// Maps the errno left by a failed libmodbus call.
    static func fromErrno(_ code: Int32, operation: String, endpoint: String) -> ModbusError {
        let base = CModbus_ENOBASE()
        let detail = String(cString: modbus_strerror(code))
        let kind: Kind
        switch code {
        case ETIMEDOUT, EAGAIN: kind = .timeout
        case ECONNREFUSED, ENOENT, EHOSTUNREACH, ENETUNREACH, EACCES, ENODEV, ENXIO: kind = .connectionRefused
        case ECONNRESET, EPIPE, EBADF, ENOTCONN, ECONNABORTED, EIO: kind = .connectionReset
        case EMBMDATA_value, EINVAL: kind = .invalidRequest
        case (base + 1)...(base + 11): kind = .exception(UInt8(code - base))
        case CModbus_EMBBADCRC(), CModbus_EMBBADDATA(), CModbus_EMBBADEXC(), CModbus_EMBUNKEXC(),
            CModbus_EMBBADSLAVE():
            kind = .badResponse
        default: kind = .system(code)
        }
        return ModbusError(kind: kind, operation: operation, endpoint: endpoint, detail: detail)
    }

    private static var EMBMDATA_value: Int32 { CModbus_EMBMDATA() }
}
