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
///
/// It does I/O only. The request ADU is built by `ModbusReadRequest` and every answer is
/// checked by `ResponseValidator` (both pure, in ESSCore): libmodbus is used to open the link,
/// send RTU frames and receive whole ADUs (`modbus_receive_confirmation`), not to judge them.
/// An answer that does not match its request throws `.protocolError` and resynchronises the
/// link at once: TCP is closed (reopened by the poller), RTU is drained and flushed.
public final class ModbusConnection {
    private let context: OpaquePointer
    public let transport: Transport
    /// `transport.endpoint`, made once: the normal path builds no string.
    private let endpoint: String
    public private(set) var isConnected = false
    private var responseTimeoutMS: Int
    /// The next MBAP transaction id (TCP). essd builds its own TCP requests, so this, not
    /// libmodbus' counter, is what answers are matched against.
    private var nextTransactionID: UInt16 = 1
    /// One request and one response ADU, allocated once: the normal path allocates nothing.
    private let requestBuffer: UnsafeMutableRawBufferPointer
    private let responseBuffer: UnsafeMutableRawBufferPointer
    private let framing: ModbusFraming

    /// Creates the context (`modbus_new_tcp` / `modbus_new_rtu`); does not connect yet.
    /// libmodbus' own error recovery is switched off: essd decides when to reconnect.
    public init(transport: Transport, responseTimeoutMS: Int) throws(ModbusError) {
        self.transport = transport
        endpoint = transport.endpoint
        self.responseTimeoutMS = responseTimeoutMS
        let made: OpaquePointer?
        switch transport {
        case .tcp(let host, let port):
            made = modbus_new_tcp(host, Int32(port))
            framing = .tcp
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
            made = modbus_new_rtu(
                device, Int32(baud), CChar(bitPattern: parity.libmodbusCharacter.asciiValue ?? UInt8(ascii: "N")),
                Int32(dataBits), Int32(stopBits))
            framing = .rtu
        case .importOnly:
            // PollEngine never polls an import-only device; nothing to connect to.
            throw ModbusError(
                kind: .invalidRequest, operation: "modbus_new", endpoint: endpoint,
                detail: "an import-only device (transport = \"none\") has no link")
        }
        guard let made else {
            throw ModbusError.fromErrno(errno, operation: "modbus_new", endpoint: endpoint)
        }
        context = made
        // modbus_receive_confirmation writes up to MODBUS_MAX_ADU_LENGTH (260) bytes.
        requestBuffer = .allocate(byteCount: 64, alignment: 8)
        responseBuffer = .allocate(byteCount: Int(CModbus_TCP_MAX_ADU_LENGTH()) + 4, alignment: 8)
        requestBuffer.initializeMemory(as: UInt8.self, repeating: 0)
        responseBuffer.initializeMemory(as: UInt8.self, repeating: 0)
        modbus_set_error_recovery(context, MODBUS_ERROR_RECOVERY_NONE)
        setResponseTimeout(milliseconds: responseTimeoutMS)
    }

    deinit {
        if isConnected { modbus_close(context) }
        modbus_free(context)
        requestBuffer.deallocate()
        responseBuffer.deallocate()
    }

    /// Sets how long to wait for an answer (`modbus_set_response_timeout`); the connect
    /// timeout of TCP is the same value.
    public func setResponseTimeout(milliseconds: Int) {
        let ms = max(1, milliseconds)
        responseTimeoutMS = ms
        modbus_set_response_timeout(context, UInt32(ms / 1000), UInt32((ms % 1000) * 1000))
    }

    /// Opens the link (`modbus_connect`).
    public func connect() throws(ModbusError) {
        if isConnected { return }
        if modbus_connect(context) == -1 {
            let code = errno
            throw ModbusError.fromErrno(code, operation: "modbus_connect", endpoint: endpoint)
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
    /// `address` from unit `unitID` into `words[0..<count]`: function codes 1–4 only.
    /// TCP: the ADU (with essd's transaction id) is written with `send(2)`; RTU:
    /// `modbus_send_raw_request`; the answer is received with `modbus_receive_confirmation`
    /// and judged by `ResponseValidator`. Nothing is written to `words` unless the answer is valid.
    public func read(
        unitID: Int, kind: RegisterKind, address: Int, count: Int, into words: UnsafeMutableBufferPointer<UInt16>
    ) throws(ModbusError) {
        precondition(count <= words.count, "buffer too small")
        guard isConnected else {
            throw ModbusError(kind: .connectionReset, operation: "read", endpoint: endpoint, detail: "not connected")
        }
        let request: ModbusReadRequest
        do {
            request = try ModbusReadRequest(
                unitID: unitID, kind: kind, address: address, count: count, transactionID: nextTransactionID)
        } catch {
            throw ModbusError(kind: .invalidRequest, operation: "read", endpoint: endpoint, detail: "\(error)")
        }
        nextTransactionID &+= 1
        try send(request)
        let length = try receive(request)
        let response = UnsafeRawBufferPointer(rebasing: responseBuffer[0..<length])
        var outcome = ResponseValidator.validate(response, for: request, framing: framing, into: words)
        switch outcome {
        case .values, .exception:
            // Bytes already waiting after a whole answer: an overlong frame, or a second answer.
            let pending = Int(CModbus_pending_bytes(modbus_get_socket(context)))
            if pending > 0 { outcome = .mismatch(.trailingBytes(count: pending)) }
        case .mismatch:
            break
        }
        switch outcome {
        case .values:
            return
        case .exception(let code):
            throw ModbusError(kind: .exception(code), operation: "read", endpoint: endpoint)
        case .mismatch(let reason):
            resynchronise()
            throw ModbusError(
                kind: .protocolError(reason), operation: "read", endpoint: endpoint,
                detail: "unit \(unitID) FC \(request.functionCode) at \(address) x\(count)")
        }
    }

    private func send(_ request: ModbusReadRequest) throws(ModbusError) {
        switch framing {
        case .tcp:
            let length = request.writeADU(.tcp, into: requestBuffer)
            let socket = modbus_get_socket(context)
            var sent = 0
            while sent < length {
                let n = Glibc.send(socket, requestBuffer.baseAddress! + sent, length - sent, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    let error = ModbusError.fromErrno(errno, operation: "send", endpoint: endpoint)
                    close()
                    throw error
                }
                sent += n
            }
        case .rtu:
            // libmodbus filters RTU answers by the context's slave; set it to the request's unit.
            guard modbus_set_slave(context, Int32(request.unitID)) == 0 else {
                throw ModbusError.fromErrno(errno, operation: "modbus_set_slave", endpoint: endpoint)
            }
            let length = request.writeUnitAndPDU(into: requestBuffer)
            let pdu = requestBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            if modbus_send_raw_request(context, pdu, Int32(length)) == -1 {
                let error = ModbusError.fromErrno(errno, operation: "modbus_send_raw_request", endpoint: endpoint)
                if error.requiresReconnect { close() }
                throw error
            }
        }
    }

    /// Receives one ADU into `responseBuffer` and returns its length. On RTU, libmodbus
    /// refuses a frame with a bad CRC (EMBBADCRC) or for another slave (returns 0) after reading
    /// it whole; then the frame's length is recomputed from its header so that the validator
    /// judges those bytes too (and names the reason).
    private func receive(_ request: ModbusReadRequest) throws(ModbusError) -> Int {
        let rsp = responseBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        rsp[0] = 0
        rsp[1] = 0
        let rc = modbus_receive_confirmation(context, rsp)
        if rc > 0 { return Int(rc) }
        let code = errno
        if framing == .rtu, rc == 0 || code == CModbus_EMBBADCRC() {
            let header = UnsafeRawBufferPointer(rebasing: responseBuffer[0..<3])
            if let length = ModbusFrame.rtuResponseLength(header), length <= Int(CModbus_RTU_MAX_ADU_LENGTH()) {
                return length
            }
        }
        if rc == 0 || code == CModbus_EMBBADDATA() || code == CModbus_EMBBADCRC() || code == CModbus_EMBBADSLAVE() {
            resynchronise()
            throw ModbusError(
                kind: .protocolError(.unreadable), operation: "modbus_receive_confirmation", endpoint: endpoint,
                detail: String(cString: modbus_strerror(code)))
        }
        let error = ModbusError.fromErrno(code, operation: "modbus_receive_confirmation", endpoint: endpoint)
        if error.requiresReconnect { close() }
        throw error
    }

    /// After an answer that does not belong to its request: TCP closes the connection (a late
    /// answer can then never be read as the next request's); RTU waits one response timeout
    /// for the rest of any late answer to arrive, then discards what the line holds.
    private func resynchronise() {
        switch framing {
        case .tcp:
            close()
        case .rtu:
            PollClock.sleep(untilMonotonicNS: PollClock.monotonicNS() + Int64(responseTimeoutMS) * 1_000_000)
            flush()
        }
    }
}
