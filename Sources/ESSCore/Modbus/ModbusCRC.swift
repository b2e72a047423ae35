/// CRC-16/MODBUS (polynomial 0xA001 reflected, initial value 0xFFFF), the check of an RTU
/// frame. On the wire the low byte comes first. Pure; one implementation for the simulator's
/// request framing and essd's response validation.
public enum ModbusCRC {
    /// The byte-at-a-time table of the reflected polynomial (256 entries, built once).
    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
        return crc
    }

    /// The CRC of `bytes`.
    public static func crc16<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = (crc >> 8) ^ table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] }
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
