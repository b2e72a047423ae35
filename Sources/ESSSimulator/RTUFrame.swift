import ESSCore

/// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF). On the wire the low byte comes first.
public enum ModbusCRC {
    public static func crc16<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0xA001 : crc >> 1
            }
        }
        return crc
    }

    /// True when the last two bytes are the CRC of the others (low byte first).
    public static func isValid<C: Collection>(frame: C) -> Bool where C.Element == UInt8, C.Index == Int {
        guard frame.count >= 4 else { return false }
        let body = frame[frame.startIndex..<(frame.endIndex - 2)]
        let crc = crc16(body)
        return frame[frame.endIndex - 2] == UInt8(crc & 0xFF) && frame[frame.endIndex - 1] == UInt8(crc >> 8)
    }
}

/// Finds request frames in the bytes read from an RTU line. A slave knows a request's length
/// from its function code: FC 1–6 are 8 bytes; FC 15 and 16 are 9 + their byte count.
/// Pure; the server keeps the buffer.
public enum RTUFrameParser {
    /// What the start of a buffer holds.
    public enum Result: Sendable, Hashable {
        /// A complete request with a good CRC: its length in bytes.
        case frame(length: Int)
        /// Possibly the start of a request; wait for more bytes.
        case needMore
        /// Not a request here (unknown function code, bad CRC, bad byte count): drop this many
        /// bytes (always 1, to search for the next frame start) and count a bad frame.
        case garbage(dropCount: Int)
    }

    /// Function codes this parser can frame.
    public static let supportedFunctionCodes: Set<UInt8> = [1, 2, 3, 4, 5, 6, 15, 16]

    public static func parse(_ buffer: [UInt8]) -> Result {
        guard buffer.count >= 2 else { return .needMore }
        let function = buffer[1]
        let length: Int
        switch function {
        case 1...6:
            length = 8
        case 15, 16:
            guard buffer.count >= 7 else { return .needMore }
            let byteCount = Int(buffer[6])
            if byteCount == 0 || byteCount > 246 { return .garbage(dropCount: 1) }
            length = 9 + byteCount
        default:
            return .garbage(dropCount: 1)
        }
        guard buffer.count >= length else { return .needMore }
        return ModbusCRC.isValid(frame: buffer[0..<length]) ? .frame(length: length) : .garbage(dropCount: 1)
    }
}

/// The part of a request PDU that fault injection and write counting look at.
public struct ModbusRequestSummary: Sendable, Hashable {
    public var functionCode: UInt8
    /// The table the request touches, nil for function codes without one.
    public var kind: RegisterKind?
    /// Addresses touched (read and written).
    public var ranges: [Range<Int>]

    /// Function codes that change a device: 5, 6, 15, 16, 22 (mask write), 23 (read/write).
    public static let writeFunctionCodes: Set<UInt8> = [5, 6, 15, 16, 22, 23]

    public var isWrite: Bool { Self.writeFunctionCodes.contains(functionCode) }

    /// Reads the PDU (function code first). Returns nil when it is too short to say.
    public init?(pdu: ArraySlice<UInt8>) {
        guard let fc = pdu.first else { return nil }
        let b = Array(pdu)
        func u16(_ i: Int) -> Int? { i + 1 < b.count ? Int(b[i]) << 8 | Int(b[i + 1]) : nil }
        functionCode = fc
        switch fc {
        case 1, 2, 3, 4, 15, 16:
            guard let address = u16(1), let count = u16(3) else { return nil }
            kind = [1: .coil, 2: .discrete, 3: .holding, 4: .input, 15: .coil, 16: .holding][fc]
            ranges = [address..<(address + max(count, 1))]
        case 5, 6, 22:
            guard let address = u16(1) else { return nil }
            kind = fc == 5 ? .coil : .holding
            ranges = [address..<(address + 1)]
        case 23:
            guard let readAddress = u16(1), let readCount = u16(3), let writeAddress = u16(5), let writeCount = u16(7) else {
                return nil
            }
            kind = .holding
            ranges = [readAddress..<(readAddress + max(readCount, 1)), writeAddress..<(writeAddress + max(writeCount, 1))]
        default:
            kind = nil
            ranges = []
        }
    }

    /// True when the request touches `address` of `kind`.
    public func touches(_ kind: RegisterKind, address: Int) -> Bool {
        self.kind == kind && ranges.contains { $0.contains(address) }
    }
}
