internal import CModbus
public import ESSCore

#if canImport(Glibc)
    import Glibc
#endif

/// One libmodbus context (`modbus_t *`) and the link it drives: TCP or RTU.
///
/// Not `Sendable`, on purpose: libmodbus has no locks, so a connection is created, used and
/// destroyed on one thread (a `ConnectionPoller`'s). The context never leaves this type.
/// It only reads: there is no function here that sends a writing function code.
public final class ModbusConnection {
    private let context: OpaquePointer
    public let transport: Transport
    public private(set) var isConnected = false
    private var bitBuffer = [UInt8](repeating: 0, count: 2000)

    /// Creates the context (`modbus_new_tcp` / `modbus_new_rtu`); does not connect yet.
    /// libmodbus' own error recovery is switched off: essd decides when to reconnect.
    public init(transport: Transport, responseTimeoutMS: Int) throws(ModbusError) {
        self.transport = transport
        let made: OpaquePointer?
        switch transport {
        case .tcp(let host, let port):
            made = modbus_new_tcp(host, Int32(port))
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
            made = modbus_new_rtu(
                device, Int32(baud), CChar(bitPattern: parity.libmodbusCharacter.asciiValue ?? UInt8(ascii: "N")),
                Int32(dataBits), Int32(stopBits))
        }
        guard let made else {
            throw ModbusError.fromErrno(errno, operation: "modbus_new", endpoint: transport.endpoint)
        }
        context = made
        modbus_set_error_recovery(context, MODBUS_ERROR_RECOVERY_NONE)
        setResponseTimeout(milliseconds: responseTimeoutMS)
    }

    deinit {
        if isConnected { modbus_close(context) }
        modbus_free(context)
    }

    /// Sets how long to wait for an answer (`modbus_set_response_timeout`); the connect
    /// timeout of TCP is the same value.
    public func setResponseTimeout(milliseconds: Int) {
        let ms = max(1, milliseconds)
        modbus_set_response_timeout(context, UInt32(ms / 1000), UInt32((ms % 1000) * 1000))
    }

    /// Opens the link (`modbus_connect`).
    public func connect() throws(ModbusError) {
        if isConnected { return }
        if modbus_connect(context) == -1 {
            let code = errno
            throw ModbusError.fromErrno(code, operation: "modbus_connect", endpoint: transport.endpoint)
        }
        isConnected = true
    }

    /// Closes the link (`modbus_close`); the next request needs `connect()` again.
    public func close() {
        if isConnected { modbus_close(context) }
        isConnected = false
    }

    /// Discards bytes still in flight (`modbus_flush`), after a timeout.
    public func flush() {
        if isConnected { _ = modbus_flush(context) }
    }

    /// Reads `count` registers (or bits, one per word, 0 or 1) of `kind` starting at
    /// `address` from unit `unitID` into `words[0..<count]`.
    /// Calls `modbus_read_bits`, `modbus_read_input_bits`, `modbus_read_registers` or
    /// `modbus_read_input_registers`: function codes 1–4 only.
    public func read(
        unitID: Int, kind: RegisterKind, address: Int, count: Int, into words: UnsafeMutableBufferPointer<UInt16>
    ) throws(ModbusError) {
        precondition(count <= words.count, "buffer too small")
        guard isConnected else {
            throw ModbusError(kind: .connectionReset, operation: "read", endpoint: transport.endpoint, detail: "not connected")
        }
        guard modbus_set_slave(context, Int32(unitID)) == 0 else {
            throw ModbusError.fromErrno(errno, operation: "modbus_set_slave", endpoint: transport.endpoint)
        }
        let result: Int32
        let operation: String
        switch kind {
        case .holding:
            operation = "modbus_read_registers"
            result = modbus_read_registers(context, Int32(address), Int32(count), words.baseAddress)
        case .input:
            operation = "modbus_read_input_registers"
            result = modbus_read_input_registers(context, Int32(address), Int32(count), words.baseAddress)
        case .coil, .discrete:
            operation = kind == .coil ? "modbus_read_bits" : "modbus_read_input_bits"
            result = bitBuffer.withUnsafeMutableBufferPointer { bits in
                kind == .coil
                    ? modbus_read_bits(context, Int32(address), Int32(count), bits.baseAddress)
                    : modbus_read_input_bits(context, Int32(address), Int32(count), bits.baseAddress)
            }
            if result == Int32(count) {
                for i in 0..<count { words[i] = UInt16(bitBuffer[i]) }
            }
        }
        if result == -1 {
            let error = ModbusError.fromErrno(errno, operation: operation, endpoint: transport.endpoint)
            if error.requiresReconnect { close() }
            throw error
        }
        if result != Int32(count) {
            throw ModbusError(kind: .badResponse, operation: operation, endpoint: transport.endpoint, detail: "got \(result) of \(count)")
        }
    }
}
