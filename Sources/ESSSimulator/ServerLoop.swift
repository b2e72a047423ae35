internal import CModbus
import ESSCore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The server thread's whole world: plant, device slots, listeners, clients, serial lines,
/// delayed replies. Created, run and closed on one thread; every `modbus_t` lives here.
final class ServerLoop {
    private enum Action {
        case reply
        case exception(UInt8)
    }

    private enum Target {
        case tcp(fd: Int32, listener: Int)
        case rtu(line: Int)
    }

    private struct PendingReply {
        var dueMS: Int64
        var target: Target
        var request: [UInt8]
        var slot: DeviceSlot
        var action: Action
    }

    private struct Client {
        var fd: Int32
        var listener: Int
    }

    private let site: SiteConfiguration
    private let options: SimulatorOptions
    private let logger: Logger
    private let wakeFD: Int32
    private var plant: PlantModel
    private var slots: [DeviceSlot] = []
    private var listeners: [TCPListener] = []
    private var lines: [RTULine] = []
    private var clients: [Client] = []
    private var pending: [PendingReply] = []
    private var statistics = SimulatorStatistics()
    private var frozen = false
    private var startMS: Int64 = 0
    private var nextUpdateMS: Int64 = 0
    private var nextDropMS: Int64?
    private var buffer = [UInt8](repeating: 0, count: 512)

    init(site: SiteConfiguration, options: SimulatorOptions, logger: Logger, wakeFD: Int32) {
        self.site = site
        self.options = options
        self.logger = logger
        self.wakeFD = wakeFD
        self.plant = PlantModel(
            parameters: options.plantParameters(for: site.site), schedule: options.schedule,
            daySeconds: options.daySeconds, startHour: options.startHour, startSoCPercent: options.startSoCPercent)
    }

    /// Builds the images and opens every listener and serial line; throws on the first failure
    /// (after closing what was opened).
    func open() throws(SimulatorError) -> [SimulatorEndpoint] {
        let parameters = plant.parameters
        // Import-only devices have no registers to serve.
        for device in site.devices where device.isPolled {
            guard let slot = DeviceSlot(device: device, parameters: parameters) else {
                throw .invalidOption("device '\(device.id)': libmodbus could not allocate its register mapping")
            }
            slots.append(slot)
        }
        do {
            var tcpGroups: [(host: String, port: Int, slots: [DeviceSlot])] = []
            var rtuGroups: [(path: String, transport: Transport, slots: [DeviceSlot])] = []
            for slot in slots {
                switch slot.device.transport {
                case .tcp(let host, let port):
                    if let i = tcpGroups.firstIndex(where: { $0.host == host && $0.port == port }) {
                        tcpGroups[i].slots.append(slot)
                    } else {
                        tcpGroups.append((host, port, [slot]))
                    }
                case .rtu(let path, _, _, _, _):
                    if let i = rtuGroups.firstIndex(where: { $0.path == path }) {
                        rtuGroups[i].slots.append(slot)
                    } else {
                        rtuGroups.append((path, slot.device.transport, [slot]))
                    }
                case .importOnly: break
                }
            }
            for group in tcpGroups {
                listeners.append(try TCPListener(host: group.host, port: group.port, slots: group.slots))
            }
            for group in rtuGroups {
                guard case .rtu(_, let baud, let parity, let dataBits, let stopBits) = group.transport else { continue }
                let actual = options.serialDeviceOverrides[group.path] ?? group.path
                lines.append(
                    try RTULine(
                        configuredPath: group.path, path: actual, baud: baud, parity: parity, dataBits: dataBits,
                        stopBits: stopBits, slots: group.slots))
            }
        } catch {
            close()
            throw error
        }
        startMS = SystemCalls.monotonicMS()
        nextUpdateMS = startMS
        if let every = options.dropEverySeconds, every > 0 { nextDropMS = startMS + Int64(every * 1000) }
        update(nowMS: startMS)  // render the images once before `freeze` can apply
        for command in options.initialCommands { _ = perform(command) }
        return listeners.map(\.endpoint) + lines.map(\.endpoint)
    }

    /// Serves until `takeWork` says stop. `takeWork` hands over queued commands.
    func run(takeWork: () -> (commands: [(SimulatorCommand, @Sendable (SimulatorCommandResult) -> Void)], stop: Bool)) {
        while true {
            let work = takeWork()
            for (command, reply) in work.commands { reply(perform(command)) }
            if work.stop { return }
            let now = SystemCalls.monotonicMS()
            if now >= nextUpdateMS { update(nowMS: now) }
            if let drop = nextDropMS, now >= drop {
                dropClients()
                nextDropMS = now + Int64((options.dropEverySeconds ?? 1) * 1000)
            }
            sendDueReplies(nowMS: now)
            expireSerialFragments(nowMS: now)
            pollOnce(nowMS: now)
        }
    }

    /// Closes every client, listener and line and frees their contexts.
    func close() {
        dropClients()
        for listener in listeners { listener.close() }
        for line in lines { line.close() }
        listeners = []
        lines = []
        slots = []
    }

    /// Final counts, devices included.
    func finalStatistics() -> SimulatorStatistics { currentStatistics() }

    // MARK: - Plant and images

    private func update(nowMS: Int64) {
        plant.step(toMS: nowMS - startMS)
        if !frozen { for slot in slots { slot.refresh(plant: plant.state) } }
        let interval = Int64(max(1, options.updateIntervalMS))
        nextUpdateMS += interval
        if nextUpdateMS <= nowMS { nextUpdateMS = nowMS + interval }
    }

    // MARK: - Commands

    private func perform(_ command: SimulatorCommand) -> SimulatorCommandResult {
        var slot: DeviceSlot? = nil
        if let id = command.deviceID {
            slot = slots.first { $0.device.id == id }
            if slot == nil { return .failed(.unknownDevice(id, known: slots.map(\.device.id))) }
        }
        switch command {
        case .delay(_, let ms): slot!.faults.delayMS = ms
        case .exception(_, let table, let address, let code):
            slot!.faults.exceptions.removeAll { $0.kind == table && $0.address == address }
            slot!.faults.exceptions.append(.init(kind: table, address: address, code: code))
        case .clear: slot!.faults = DeviceFaults()
        case .silent(_, let on): slot!.faults.silent = on
        case .drop: dropClients()
        case .freeze(let on): frozen = on
        case .resetCounters:
            slot!.baseline = DeviceCounterBaseline(resettingAt: plant.state)
            if !frozen { slot!.refresh(plant: plant.state) }
        case .state: return .state(report())
        }
        logger.info("command applied", metadata: ["command": "\(command)"])
        return .done
    }

    private func report() -> SimulatorStateReport {
        SimulatorStateReport(
            plant: plant.state, frozen: frozen,
            devices: slots.map { slot in
                .init(
                    id: slot.device.id, unitID: slot.device.unitID, endpoint: slot.device.transport.endpoint,
                    points: slot.servedValues(), delayMS: slot.faults.delayMS, silent: slot.faults.silent)
            },
            statistics: currentStatistics())
    }

    private func currentStatistics() -> SimulatorStatistics {
        var s = statistics
        for slot in slots { s.devices[slot.device.id] = slot.statistics }
        return s
    }

    // MARK: - Polling

    private func pollOnce(nowMS: Int64) {
        var fds: [pollfd] = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        for listener in listeners { fds.append(pollfd(fd: listener.listenFD, events: Int16(POLLIN), revents: 0)) }
        let polledClients = clients  // accepting below must not shift the indices
        for client in polledClients { fds.append(pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)) }
        var deadline = nextUpdateMS
        if let drop = nextDropMS { deadline = min(deadline, drop) }
        for reply in pending { deadline = min(deadline, reply.dueMS) }
        for line in lines {
            if line.pausedUntilMS > nowMS {
                deadline = min(deadline, line.pausedUntilMS)
                fds.append(pollfd(fd: -1, events: 0, revents: 0))
            } else {
                fds.append(pollfd(fd: line.fd, events: Int16(POLLIN), revents: 0))
                if !line.buffer.isEmpty { deadline = min(deadline, line.lastByteMS + RTULine.frameGapMS) }
            }
        }
        let timeout = Int32(clamping: max(0, deadline - nowMS))
        guard SystemCalls.poll(&fds, timeoutMS: timeout) > 0 else { return }
        let ready: (Int) -> Bool = { fds[$0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 }
        if ready(0) { SystemCalls.drain(wakeFD) }
        var index = 1
        for (i, listener) in listeners.enumerated() {
            if ready(index), let fd = listener.accept() {
                clients.append(Client(fd: fd, listener: i))
                statistics.connectionsAccepted += 1
                logger.debug("client connected", metadata: ["endpoint": "\(listener.endpoint.address)", "fd": "\(fd)"])
            }
            index += 1
        }
        for client in polledClients {
            if ready(index) { serveTCP(client) }
            index += 1
        }
        for line in lines {
            if fds[index].fd >= 0, ready(index) { readSerial(line, nowMS: SystemCalls.monotonicMS()) }
            index += 1
        }
    }

    // MARK: - TCP

    private func serveTCP(_ client: Client) {
        guard clients.contains(where: { $0.fd == client.fd }) else { return }
        let listener = listeners[client.listener]
        modbus_set_socket(listener.ctx, client.fd)
        let length = buffer.withUnsafeMutableBufferPointer { modbus_receive(listener.ctx, $0.baseAddress) }
        if length < 0 {
            let code = CModbus_errno()
            if code != ECONNRESET { statistics.badFrames += 1 }
            logger.debug("client closed", metadata: ["fd": "\(client.fd)", "reason": "\(String(cString: modbus_strerror(code)))"])
            closeClient(client.fd)
            return
        }
        if length == 0 { return }
        let headerLength = Int(modbus_get_header_length(listener.ctx))
        let request = Array(buffer[0..<Int(length)])
        guard request.count > headerLength else {
            statistics.badFrames += 1
            return
        }
        let unit = request[headerLength - 1]
        guard let slot = listener.slotsByUnit[unit] else {
            statistics.unknownUnitRequests += 1
            request.withUnsafeBufferPointer { _ = modbus_reply_exception(listener.ctx, $0.baseAddress, 0x0B) }
            return
        }
        dispatch(request: request, headerLength: headerLength, slot: slot, target: .tcp(fd: client.fd, listener: client.listener))
    }

    private func closeClient(_ fd: Int32) {
        SystemCalls.close(fd)
        clients.removeAll { $0.fd == fd }
        pending.removeAll {
            if case .tcp(let pendingFD, _) = $0.target { return pendingFD == fd }
            return false
        }
    }

    private func dropClients() {
        for client in clients { closeClient(client.fd) }
    }

    // MARK: - RTU

    private func readSerial(_ line: RTULine, nowMS: Int64) {
        let n = SystemCalls.read(line.fd, into: &buffer)
        if n <= 0 {
            if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                logger.warning("serial line hung up; retrying in 1 s", metadata: ["path": "\(line.path)"])
                line.pausedUntilMS = nowMS + 1000
            }
            return
        }
        line.buffer += buffer[0..<n]
        line.lastByteMS = nowMS
        let lineIndex = lines.firstIndex { $0 === line }!
        while !line.buffer.isEmpty {
            switch RTUFrameParser.parse(line.buffer) {
            case .needMore:
                return
            case .garbage(let count):
                statistics.badFrames += 1
                line.buffer.removeFirst(min(count, line.buffer.count))
            case .frame(let length):
                let frame = Array(line.buffer[0..<length])
                line.buffer.removeFirst(length)
                guard let slot = line.slotsByUnit[frame[0]] else {
                    statistics.ignoredFrames += 1
                    continue
                }
                dispatch(request: frame, headerLength: 1, slot: slot, target: .rtu(line: lineIndex))
            }
        }
    }

    /// Throws away a partial frame after a silence (a real slave resynchronises the same way).
    private func expireSerialFragments(nowMS: Int64) {
        for line in lines where !line.buffer.isEmpty && nowMS - line.lastByteMS >= RTULine.frameGapMS {
            statistics.badFrames += 1
            line.buffer.removeAll()
        }
    }

    // MARK: - Replies

    private func dispatch(request: [UInt8], headerLength: Int, slot: DeviceSlot, target: Target) {
        slot.statistics.requests += 1
        if slot.faults.silent {
            slot.statistics.silentDrops += 1
            return
        }
        var action = Action.reply
        if let summary = ModbusRequestSummary(pdu: request[headerLength...]) {
            if summary.isWrite {
                slot.statistics.writeAttempts += 1
                logger.warning(
                    "write attempt", metadata: ["device": "\(slot.device.id)", "function": "\(summary.functionCode)"])
                if !options.allowWrites { action = .exception(1) }
            }
            if case .reply = action, let code = slot.faults.exceptionCode(for: summary) {
                slot.statistics.exceptionsInjected += 1
                action = .exception(code)
            }
        }
        let reply = PendingReply(
            dueMS: SystemCalls.monotonicMS() + Int64(slot.faults.delayMS), target: target, request: request, slot: slot,
            action: action)
        if slot.faults.delayMS > 0 { pending.append(reply) } else { send(reply) }
    }

    private func sendDueReplies(nowMS: Int64) {
        while let i = pending.firstIndex(where: { $0.dueMS <= nowMS }) {
            send(pending.remove(at: i))
        }
    }

    /// `modbus_reply` (or `modbus_reply_exception`) on the context the request came from.
    private func send(_ reply: PendingReply) {
        let ctx: OpaquePointer
        switch reply.target {
        case .tcp(let fd, let listener):
            ctx = listeners[listener].ctx
            modbus_set_socket(ctx, fd)
        case .rtu(let line):
            ctx = lines[line].ctx
            modbus_set_slave(ctx, Int32(reply.request[0]))
        }
        let rc = reply.request.withUnsafeBufferPointer { request -> Int32 in
            switch reply.action {
            case .reply: modbus_reply(ctx, request.baseAddress, Int32(request.count), reply.slot.mapping)
            case .exception(let code): modbus_reply_exception(ctx, request.baseAddress, UInt32(code))
            }
        }
        if rc < 0 {
            logger.debug("reply failed", metadata: ["error": "\(String(cString: modbus_strerror(CModbus_errno())))"])
        }
    }
}
