import ESSCore

/// The `DeviceReader` of one device on a link's thread: sends each read over the link's
/// `ModbusConnection`, records its latency and errors in the device's statistics, and maps
/// `ModbusError` onto the scanner's `ReadFailure`. Lives only for one poll, on the link's thread.
struct ConnectionReader: DeviceReader {
    let connection: ModbusConnection?
    let unitID: Int
    let recorder: SharedStatisticsRecorder
    /// The last error, for the log line of a device going down.
    private(set) var lastError: ModbusError?

    init(connection: ModbusConnection?, unitID: Int, recorder: SharedStatisticsRecorder) {
        self.connection = connection
        self.unitID = unitID
        self.recorder = recorder
    }

    mutating func read(_ request: ReadRequest, into buffer: UnsafeMutableBufferPointer<UInt16>) throws(ReadFailure) {
        guard let connection else { throw .linkFailure }
        let started = PollClock.monotonicNS()
        do {
            try connection.read(
                unitID: unitID, kind: request.kind, address: request.startAddress, count: request.count, into: buffer)
            let latencyUS = Int((PollClock.monotonicNS() - started) / 1000)
            recorder.withLock { $0.recordRequest(latencyUS: latencyUS) }
        } catch {
            let latencyUS = Int((PollClock.monotonicNS() - started) / 1000)
            recorder.withLock {
                $0.recordRequest(latencyUS: latencyUS)
                $0.recordError(error)
            }
            lastError = error
            throw Self.failure(for: error)
        }
    }

    func monotonicNS() -> Int64 { PollClock.monotonicNS() }

    mutating func sleep(untilMonotonicNS deadline: Int64) { PollClock.sleep(untilMonotonicNS: deadline) }

    /// How the scanner must treat a Modbus error.
    static func failure(for error: ModbusError) -> ReadFailure {
        switch error.kind {
        case .timeout: .timeout
        case .exception(let code): .exception(code)
        case .protocolError: .protocolError
        case .badResponse: .badResponse
        case .invalidRequest: .invalidRequest
        case .connectionRefused, .connectionReset, .system: .linkFailure
        }
    }
}
