/// Finds request frames in the bytes read from an RTU line (the slave side: the simulator).
/// A slave knows a request's length from its function code: FC 1–6 are 8 bytes; FC 15 and 16
/// are 9 + their byte count. Pure; the server keeps the buffer. The client side (responses) is
/// `ModbusFrame.rtuResponseLength(_:)` and `ResponseValidator`.
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
