import ESSCore

// CRC and RTU request framing live in ESSCore (Modbus/ModbusCRC.swift, Modbus/RTUFrameParser.swift).

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
