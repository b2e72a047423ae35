import ESSCore

/// A change to a running simulator, from the command line or from one line of stdin.
///
/// Lines: `delay DEVICE MS`, `exception DEVICE TABLE ADDRESS CODE`, `clear DEVICE`,
/// `silent DEVICE on|off`, `drop`, `freeze on|off`, `reset-counters DEVICE`, `state`.
public enum SimulatorCommand: Sendable, Hashable {
    /// Answer that device's requests `ms` late (0 = on time).
    case delay(device: String, ms: Int)
    /// Answer any request touching `address` of `table` with exception `code` (1...11).
    case exception(device: String, table: RegisterKind, address: Int, code: UInt8)
    /// Remove the device's delay, exceptions and silence.
    case clear(device: String)
    /// Never answer the device's unit id (a dead device), or answer again.
    case silent(device: String, on: Bool)
    /// Close every client connection now.
    case drop
    /// Stop (or restart) updating the register images.
    case freeze(on: Bool)
    /// The device's energy counters restart from 0 (a replaced controller).
    case resetCounters(device: String)
    /// Report the plant state and every served point value.
    case state

    /// Parses one command line; words are separated by spaces.
    public init(parsing line: String) throws(SimulatorError) {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let verb = words.first?.lowercased() else { throw .invalidCommand(line, reason: "empty line") }
        func onOff(_ word: String) throws(SimulatorError) -> Bool {
            switch word.lowercased() {
            case "on", "true", "1": return true
            case "off", "false", "0": return false
            default: throw .invalidCommand(line, reason: "'\(word)' is not on or off")
            }
        }
        func expect(_ n: Int, _ usage: String) throws(SimulatorError) {
            if words.count != n { throw .invalidCommand(line, reason: "usage: \(usage)") }
        }
        switch verb {
        case "delay":
            try expect(3, "delay DEVICE MS")
            guard let ms = Int(words[2]), ms >= 0 else { throw .invalidCommand(line, reason: "MS must be a whole number ≥ 0") }
            self = .delay(device: words[1], ms: ms)
        case "exception":
            try expect(5, "exception DEVICE TABLE ADDRESS CODE")
            self = try Self.exception(device: words[1], table: words[2], address: words[3], code: words[4], line: line)
        case "clear":
            try expect(2, "clear DEVICE")
            self = .clear(device: words[1])
        case "silent":
            try expect(3, "silent DEVICE on|off")
            self = .silent(device: words[1], on: try onOff(words[2]))
        case "drop":
            try expect(1, "drop")
            self = .drop
        case "freeze":
            try expect(2, "freeze on|off")
            self = .freeze(on: try onOff(words[1]))
        case "reset-counters":
            try expect(2, "reset-counters DEVICE")
            self = .resetCounters(device: words[1])
        case "state":
            try expect(1, "state")
            self = .state
        default:
            throw .invalidCommand(
                line, reason: "unknown command '\(verb)'; known: delay, exception, clear, silent, drop, freeze, reset-counters, state")
        }
    }

    /// `--delay DEVICE=MS`.
    public init(delayOption text: String) throws(SimulatorError) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let ms = Int(parts[1]), ms >= 0 else {
            throw .invalidOption("--delay \(text): expected DEVICE=MS, e.g. bms1=800")
        }
        self = .delay(device: parts[0], ms: ms)
    }

    /// `--exception DEVICE:TABLE:ADDRESS:CODE`.
    public init(exceptionOption text: String) throws(SimulatorError) {
        let parts = text.split(separator: ":").map(String.init)
        guard parts.count == 4 else {
            throw .invalidOption("--exception \(text): expected DEVICE:TABLE:ADDRESS:CODE, e.g. bms1:holding:100:2")
        }
        self = try Self.exception(device: parts[0], table: parts[1], address: parts[2], code: parts[3], line: text)
    }

    static func exception(device: String, table: String, address: String, code: String, line: String) throws(SimulatorError)
        -> SimulatorCommand
    {
        guard let kind = RegisterKind(rawValue: table.lowercased()) else {
            throw .invalidCommand(line, reason: "TABLE '\(table)' is not one of coil, discrete, holding, input")
        }
        guard let a = Int(address), (0...65535).contains(a) else {
            throw .invalidCommand(line, reason: "ADDRESS '\(address)' is not 0...65535")
        }
        guard let c = UInt8(code), (1...11).contains(c) else {
            throw .invalidCommand(line, reason: "CODE '\(code)' is not a Modbus exception code 1...11")
        }
        return .exception(device: device, table: kind, address: a, code: c)
    }

    /// The device the command is about, if it names one.
    public var deviceID: String? {
        switch self {
        case .delay(let d, _), .exception(let d, _, _, _), .clear(let d), .silent(let d, _), .resetCounters(let d): d
        case .drop, .freeze, .state: nil
        }
    }
}

/// What a command did.
public enum SimulatorCommandResult: Sendable, Hashable {
    case done
    case state(SimulatorStateReport)
    case failed(SimulatorError)
}

/// The faults injected into one device. Pure value; the server consults it per request.
public struct DeviceFaults: Sendable, Hashable {
    public var delayMS = 0
    public var silent = false
    public var exceptions: [InjectedException] = []

    public struct InjectedException: Sendable, Hashable {
        public var kind: RegisterKind
        public var address: Int
        public var code: UInt8
    }

    public init() {}

    /// The exception code to answer `request` with, if an injected one applies.
    public func exceptionCode(for request: ModbusRequestSummary) -> UInt8? {
        exceptions.first { request.touches($0.kind, address: $0.address) }?.code
    }
}
