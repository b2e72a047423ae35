/// How a Modbus ADU is framed on its link: the MBAP header of Modbus TCP (transaction id,
/// protocol id, length, unit id), or the unit address and CRC of Modbus RTU.
public enum ModbusFraming: Sendable, Hashable {
    case tcp
    case rtu

    /// Bytes before the function code (MBAP header 7, RTU address 1).
    public var headerLength: Int { self == .tcp ? 7 : 1 }
    /// Bytes after the PDU (RTU CRC 2, TCP none).
    public var trailerLength: Int { self == .rtu ? 2 : 0 }
}

/// One read request (function codes 1–4) as essd sends it: validated parameters and, for TCP,
/// the transaction id that its answer must carry. Builds its ADU into a caller's buffer (no
/// allocation). Pure: the connection sends the bytes and hands the answer to
/// `ResponseValidator`.
public struct ModbusReadRequest: Sendable, Hashable {
    /// Why a request cannot be sent: the parameters are outside what Modbus allows.
    public enum Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        case unitID(Int)
        case count(Int, max: Int)
        case address(Int, count: Int)

        public var description: String {
            switch self {
            case .unitID(let u): "unit id \(u) is outside 0...255"
            case .count(let c, let max): "count \(c) is outside 1...\(max) for this table"
            case .address(let a, let c): "addresses \(a)..<\(a + c) are outside 0...65535"
            }
        }
    }

    public let unitID: UInt8
    public let kind: RegisterKind
    public let address: UInt16
    /// Registers or bits asked for.
    public let count: Int
    /// MBAP transaction id (TCP); ignored on RTU.
    public let transactionID: UInt16

    /// The most registers (125) or bits (2000) one read may ask for.
    public static func maxCount(_ kind: RegisterKind) -> Int { kind.isBitTable ? 2000 : 125 }

    /// The largest ADU essd builds: a TCP read request (7 + 5).
    public static let maxRequestLength = 12

    public init(unitID: Int, kind: RegisterKind, address: Int, count: Int, transactionID: UInt16 = 0) throws(Invalid) {
        guard (0...255).contains(unitID) else { throw .unitID(unitID) }
        guard (1...Self.maxCount(kind)).contains(count) else { throw .count(count, max: Self.maxCount(kind)) }
        guard address >= 0, address + count <= 65536 else { throw .address(address, count: count) }
        self.unitID = UInt8(unitID)
        self.kind = kind
        self.address = UInt16(address)
        self.count = count
        self.transactionID = transactionID
    }

    public var functionCode: UInt8 { kind.readFunctionCode }

    /// Bytes of data a correct answer carries: 2 per register, or one bit per value rounded up.
    public var expectedByteCount: Int { kind.isBitTable ? (count + 7) / 8 : 2 * count }

    /// Length of a correct (non-exception) answer's ADU.
    public func expectedResponseLength(_ framing: ModbusFraming) -> Int {
        framing.headerLength + 2 + expectedByteCount + framing.trailerLength
    }

    /// Writes the whole ADU (MBAP + PDU for TCP; address + PDU + CRC for RTU) at the start of
    /// `buffer` (at least `maxRequestLength` bytes) and returns its length.
    public func writeADU(_ framing: ModbusFraming, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= Self.maxRequestLength, "request buffer too small")
        switch framing {
        case .tcp:
            buffer[0] = UInt8(transactionID >> 8)
            buffer[1] = UInt8(transactionID & 0xFF)
            buffer[2] = 0
            buffer[3] = 0
            buffer[4] = 0
            buffer[5] = 6  // unit id + 5 bytes of PDU
            buffer[6] = unitID
            writePDU(into: buffer, at: 7)
            return 12
        case .rtu:
            buffer[0] = unitID
            writePDU(into: buffer, at: 1)
            let crc = ModbusCRC.crc16(UnsafeRawBufferPointer(rebasing: buffer[0..<6]))
            buffer[6] = UInt8(crc & 0xFF)
            buffer[7] = UInt8(crc >> 8)
            return 8
        }
    }

    /// Writes the request's unit id and PDU (6 bytes), the form `modbus_send_raw_request` takes.
    public func writeUnitAndPDU(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= 6, "request buffer too small")
        buffer[0] = unitID
        writePDU(into: buffer, at: 1)
        return 6
    }

    private func writePDU(into buffer: UnsafeMutableRawBufferPointer, at i: Int) {
        buffer[i] = functionCode
        buffer[i + 1] = UInt8(address >> 8)
        buffer[i + 2] = UInt8(address & 0xFF)
        buffer[i + 3] = UInt8(count >> 8)
        buffer[i + 4] = UInt8(count & 0xFF)
    }
}

/// Where frames end, from their first bytes.
public enum ModbusFrame {
    /// The length of the RTU response frame that starts `bytes` (the client side), as the
    /// function code and byte count say: exceptions 5, reads (FC 1–4) 5 + byte count, echoing
    /// writes (5, 6, 15, 16) 8; nil when too few bytes are there to say or the code is unknown.
    public static func rtuResponseLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 2 else { return nil }
        let function = bytes[1]
        if function & 0x80 != 0 { return 5 }
        switch function {
        case 1...4:
            guard bytes.count >= 3 else { return nil }
            return 5 + Int(bytes[2])
        case 5, 6, 15, 16: return 8
        default: return nil
        }
    }
}
