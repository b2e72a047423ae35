// ess-bench: essd's acquisition figures side by side with a reference run in the same process.
//
//   ess-bench --host 127.0.0.1 --port 15030 --unit 1 [--seconds 5] [--jitter-seconds 30]
//
// Needs an ess-sim serving a device whose holding registers 0..124 are mapped
// (Benchmarks/config/bench.toml); scripts/bench.sh starts one.
import CReferenceLoop
import ESSCore
import ESSModbus
import Foundation
import Logging

struct Options {
    var host = "127.0.0.1"
    var port = 15030
    var unit = 1
    var seconds = 5.0
    var jitterSeconds = 30
    var devices = 20
    var realtime: Int? = nil

    init(_ args: [String]) {
        var it = args.dropFirst().makeIterator()
        while let arg = it.next() {
            let value = it.next() ?? ""
            switch arg {
            case "--host": host = value
            case "--port": port = Int(value)!
            case "--unit": unit = Int(value)!
            case "--seconds": seconds = Double(value)!
            case "--jitter-seconds": jitterSeconds = Int(value)!
            case "--devices": devices = Int(value)!
            case "--realtime": realtime = Int(value)!
            default: fatalError("unknown option \(arg)")
            }
        }
    }
}

let options = Options(CommandLine.arguments)
func line(_ name: String, _ essd: String, _ reference: String, _ verdict: String) {
    print(
        name.padding(toLength: 34, withPad: " ", startingAt: 0) + essd.padding(toLength: 18, withPad: " ", startingAt: 0)
            + reference.padding(toLength: 18, withPad: " ", startingAt: 0) + verdict)
}
func percentile(_ values: [Int64], _ p: Double) -> Int64 {
    let sorted = values.sorted()
    return sorted[max(0, min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
}

print(
    "ess-bench  host=\(options.host):\(options.port) unit=\(options.unit)  scheduling=\(options.realtime.map { "SCHED_FIFO \($0)" } ?? "normal")  (release build expected)")
line("measure", "essd", "reference", "target")

// 1. Throughput: 125 holding registers per request, essd's wrapper vs a plain C libmodbus loop.
func wrapperReads(seconds: Double) throws -> Int {
    let connection = try ModbusConnection(transport: .tcp(host: options.host, port: options.port), responseTimeoutMS: 1000)
    try connection.connect()
    let buffer = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 125)
    defer { buffer.deallocate() }
    let end = PollClock.monotonicNS() + Int64(seconds * 1e9)
    var reads = 0
    while PollClock.monotonicNS() < end {
        try connection.read(unitID: options.unit, kind: .holding, address: 0, count: 125, into: buffer)
        reads += 1
    }
    connection.close()
    return reads
}
var wrapperTotal = 0.0
var referenceTotal = 0.0
// Interleave rounds so drift in the machine's load affects both alike.
for _ in 0..<3 {
    let reference = essd_reference_read_loop(options.host, Int32(options.port), Int32(options.unit), 0, 125, options.seconds / 3)
    guard reference > 0 else { fatalError("reference loop failed: is ess-sim running with the bench config?") }
    referenceTotal += Double(reference)
    wrapperTotal += Double(try wrapperReads(seconds: options.seconds / 3))
}
let ratio = wrapperTotal / referenceTotal
line(
    "reads/s, 125 holding registers", String(format: "%.0f", wrapperTotal / options.seconds),
    String(format: "%.0f", referenceTotal / options.seconds), String(format: "ratio %.3f (≥ 0.95)", ratio))

// 2. Decode cost per point: a 1000-point map of mixed types and orders.
var points: [PointDefinition] = []
var address = 0
let types: [ValueType] = [.int16, .uint16, .int32, .uint32, .float32, .int64, .float64, .bit(3)]
for i in 0..<1000 {
    let type = types[i % types.count]
    points.append(
        PointDefinition(
            name: "p\(i)", address: address, type: type, wordOrder: WordOrder.allCases[i % 4], scale: 0.1, offset: 1))
    address += type.registerCount
}
let words = (0..<address).map { UInt16(truncatingIfNeeded: $0 &* 2_654_435_761) }
// The poll loop decodes compiled points (no strings, no reference counting), as measured here.
let compiled = points.map(CompiledPoint.init)
let addresses = points.map(\.address)
let rounds = 20_000
var checksum = 0.0
let decodeNS: Double = words.withUnsafeBufferPointer { buffer in
    let start = PollClock.monotonicNS()
    for _ in 0..<rounds {
        for i in compiled.indices {
            checksum += compiled[i].decode(words: buffer, at: addresses[i]) ?? 0
        }
    }
    return Double(PollClock.monotonicNS() - start) / Double(rounds * points.count)
}
// Reference: the least any decoder must do, one register load and conversion per point.
let referenceNS: Double = words.withUnsafeBufferPointer { buffer in
    let start = PollClock.monotonicNS()
    for _ in 0..<rounds {
        for i in addresses.indices { checksum += Double(buffer[addresses[i]]) * 0.1 + 1 }
    }
    return Double(PollClock.monotonicNS() - start) / Double(rounds * points.count)
}
line(
    "decode ns/point (1000-point map)", String(format: "%.2f", decodeNS), String(format: "%.2f", referenceNS),
    decodeNS <= 20 ? "≤ 20 ns: met" : "≤ 20 ns: MISSED")

// 3. Poll-start jitter: 20 devices at 1 s against ess-sim, vs a bare clock_nanosleep loop.
struct NullSink: ScanSink { func accept(_ scan: Scan) {} }
let profile = RegisterProfile(
    name: "bench", points: (0..<10).map { PointDefinition(name: "r\($0)", address: $0 * 12, type: .uint16) })
let devices = (0..<options.devices).map {
    DeviceDefinition(
        id: "dev\($0)", transport: .tcp(host: options.host, port: options.port), unitID: options.unit, profile: profile,
        pollIntervalMS: 1000, responseTimeoutMS: 500)
}
var logger = Logger(label: "ess-bench")
logger.logLevel = .warning
let engine = PollEngine(devices: devices, sink: NullSink(), logger: logger, realtimePriority: options.realtime)
let referenceBuffer = UnsafeMutableBufferPointer<Int64>.allocate(capacity: options.jitterSeconds)
referenceBuffer.initialize(repeating: 0)
nonisolated(unsafe) let referenceSlots = referenceBuffer
let jitterSeconds = options.jitterSeconds
func wallMS() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
let engineStartMS = wallMS()
engine.start()
// The reference sleeper runs at the same time, on its own thread, as one more "device".
let referenceDone = DispatchSemaphore(value: 0)
let referencePriority = options.realtime
Thread.detachNewThread {
    if let priority = referencePriority {
        // The reference gets the same scheduling as essd's polling threads.
        var parameters = sched_param()
        parameters.sched_priority = Int32(priority)
        pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
    }
    essd_reference_sleep_jitter(Int32(jitterSeconds), 1000, referenceSlots.baseAddress)
    referenceDone.signal()
}
referenceDone.wait()
// The reference wakes on the same boundary as the engine's last cycle: stop half an interval
// later, so that cycle's devices are all polled (a stop on the boundary cuts it short).
usleep(500_000)
let engineStopMS = wallMS()
engine.stop()
// Every device is due on each whole second strictly after the start, up to the stop.
let boundaries = Int(engineStopMS / 1000 - engineStartMS / 1000) * options.devices
let referenceLateness = Array(referenceBuffer)
referenceBuffer.deallocate()
let stats = engine.statistics()
let p50 = stats.compactMap(\.startLatenessP50US).max() ?? -1
let p99 = stats.compactMap(\.startLatenessP99US).max() ?? -1
let scans = stats.reduce(0) { $0 + $1.scans }
let errors = stats.reduce(0) { $0 + $1.totalErrors }
line(
    "poll-start lateness p50 (µs)", "\(p50)", "\(percentile(referenceLateness, 0.5))",
    "worst device of \(options.devices); \(scans) scans of \(boundaries) due, \(errors) errors")
line(
    "poll-start lateness p99 (µs)", "\(p99)", "\(percentile(referenceLateness, 0.99))",
    p99 <= 2000 ? "≤ 2000 µs: met" : "≤ 2000 µs: MISSED")
if checksum == 42 { print("") }  // keep the decode loops from being optimised away
