internal import CModbus
import ESSCore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket (one libmodbus context) and the devices behind it, by unit id.
/// Confined to the server thread; frees its context.
final class TCPListener {
    let host: String
    let configuredPort: Int
    let ctx: OpaquePointer
    let listenFD: Int32
    let boundPort: Int
    let slotsByUnit: [UInt8: DeviceSlot]

    /// `modbus_new_tcp_pi` + `modbus_tcp_pi_listen` (which sets SO_REUSEADDR).
    init(host: String, port: Int, slots: [DeviceSlot]) throws(SimulatorError) {
        self.host = host
        self.configuredPort = port
        let endpoint = "tcp://\(host):\(port)"
        guard let ctx = modbus_new_tcp_pi(host, String(port)) else {
            throw .listenFailed(endpoint, reason: SystemCalls.errorText(CModbus_errno()))
        }
        let fd = modbus_tcp_pi_listen(ctx, 32)
        if fd < 0 {
            let reason = String(cString: modbus_strerror(CModbus_errno()))
            modbus_free(ctx)
            throw .listenFailed(endpoint, reason: reason)
        }
        self.ctx = ctx
        self.listenFD = fd
        self.boundPort = SystemCalls.boundPort(fd) ?? port
        var slotsByUnit: [UInt8: DeviceSlot] = [:]
        for slot in slots { slotsByUnit[UInt8(truncatingIfNeeded: slot.device.unitID)] = slot }
        self.slotsByUnit = slotsByUnit
        configureServerTimeouts(ctx)
    }

    var endpoint: SimulatorEndpoint {
        SimulatorEndpoint(
            address: "tcp://\(host):\(boundPort)", port: boundPort, unitIDs: slotsByUnit.keys.map(Int.init).sorted())
    }

    /// `modbus_tcp_pi_accept`: the new client's descriptor, or nil.
    func accept() -> Int32? {
        var fd = listenFD
        let client = modbus_tcp_pi_accept(ctx, &fd)
        return client >= 0 ? client : nil
    }

    /// Closes the listening socket and frees the context (client sockets are closed by their owner).
    func close() {
        SystemCalls.close(listenFD)
        modbus_set_socket(ctx, -1)
        modbus_free(ctx)
    }
}

/// One serial line (one libmodbus RTU context) and the devices on it, by unit id. Reads
/// frames itself from the descriptor, since libmodbus' RTU receive drops frames for any
/// slave but the context's. Confined to the server thread.
final class RTULine {
    let configuredPath: String
    let path: String
    let ctx: OpaquePointer
    let fd: Int32
    let slotsByUnit: [UInt8: DeviceSlot]
    var buffer: [UInt8] = []
    var lastByteMS: Int64 = 0
    /// After the peer hung up (EOF, EIO), the line is not polled until then.
    var pausedUntilMS: Int64 = 0

    /// Bytes of silence after which a partial frame is thrown away (well above 3.5 characters).
    static let frameGapMS: Int64 = 100

    /// `modbus_new_rtu` + `modbus_connect` (opens and configures the tty).
    init(configuredPath: String, path: String, baud: Int, parity: SerialParity, dataBits: Int, stopBits: Int, slots: [DeviceSlot])
        throws(SimulatorError)
    {
        self.configuredPath = configuredPath
        self.path = path
        let parityChar = CChar(parity.libmodbusCharacter.asciiValue!)
        guard let ctx = modbus_new_rtu(path, Int32(baud), parityChar, Int32(dataBits), Int32(stopBits)) else {
            throw .serialOpenFailed(path, reason: SystemCalls.errorText(CModbus_errno()))
        }
        if modbus_connect(ctx) != 0 {
            let reason = String(cString: modbus_strerror(CModbus_errno()))
            modbus_free(ctx)
            throw .serialOpenFailed(path, reason: reason)
        }
        self.ctx = ctx
        self.fd = modbus_get_socket(ctx)
        var slotsByUnit: [UInt8: DeviceSlot] = [:]
        for slot in slots { slotsByUnit[UInt8(truncatingIfNeeded: slot.device.unitID)] = slot }
        self.slotsByUnit = slotsByUnit
        configureServerTimeouts(ctx)
    }

    var endpoint: SimulatorEndpoint {
        SimulatorEndpoint(address: "rtu://\(path)", port: nil, unitIDs: slotsByUnit.keys.map(Int.init).sorted())
    }

    /// `modbus_close` + `modbus_free`.
    func close() {
        modbus_close(ctx)
        modbus_free(ctx)
    }
}

/// A server context waits briefly: libmodbus sleeps the response timeout before flushing
/// after a bad request, and waits the byte timeout for the rest of a frame.
private func configureServerTimeouts(_ ctx: OpaquePointer) {
    modbus_set_response_timeout(ctx, 0, 20_000)
    modbus_set_byte_timeout(ctx, 0, 200_000)
    modbus_set_indication_timeout(ctx, 0, 200_000)
}
