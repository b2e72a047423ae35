import ESSCore
import Foundation
import Testing

/// The scanner's logic (splitting refused reads, learnt ranges, re-probing, busy retries,
/// qualities, device state) driven by a scripted device, one folder per case under
/// `scancases/` (found through `#filePath`):
///
/// - `case.json`: the points (`name`, `address`, optional `type` "uint16"/"uint32"/"int16",
///   `scale_factor`), the device settings (`split_budget_requests`, `busy_retries`,
///   `max_hole_registers`, `refused_reprobe_s`, `response_timeout_ms`, `poll_interval_ms`), the
///   scripted device (`refuse`: [[first, end, code], ...] — a request that covers any register of
///   such a range is answered with that exception; `max_count`: longer requests get exception 3;
///   `busy_every`: every n-th request is answered busy; `silent`: no answer at all), and the
///   cycles: `[{"at_ms": 0, "device": {...changes...}}]`.
/// - `expected.txt`: one line per cycle, written by hand from the case's description:
///   `state requests=N splits=N retries=N learnt=[...] cleared=[...] | point=quality ...`.
///
/// The scripted device's register at address a holds a (so an `ok` point's value is its address,
/// which the harness checks independently of the expected file).
@Suite struct DeviceScannerCaseTests {
    static let casesDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.appendingPathComponent("scancases").path
    }()

    static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: casesDirectory)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: "\(casesDirectory)/\($0)/case.json") }.sorted()
    }()

    @Test func thereAreEnoughCases() {
        let count = Self.caseNames.count
        #expect(count >= 8, "found \(count) cases in \(Self.casesDirectory)")
    }

    @Test(arguments: caseNames)
    func scancase(_ name: String) throws {
        let folder = "\(Self.casesDirectory)/\(name)"
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/case.json")))
        let spec = try #require(json as? [String: Any])
        let expected = try String(contentsOfFile: "\(folder)/expected.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }

        let points = try Self.points(spec["points"])
        let settings = spec["device"] as? [String: Int] ?? [:]
        let device = DeviceDefinition(
            id: name, transport: .tcp(host: "127.0.0.1", port: 502),
            profile: RegisterProfile(name: name, points: points),
            pollIntervalMS: settings["poll_interval_ms"] ?? 1000,
            responseTimeoutMS: settings["response_timeout_ms"] ?? 100,
            maxHoleRegisters: settings["max_hole_registers"] ?? 10,
            splitBudgetRequests: settings["split_budget_requests"] ?? 16,
            refusedReprobeSeconds: settings["refused_reprobe_s"] ?? 3600,
            busyRetries: settings["busy_retries"] ?? 3,
            busyRetryPauseMS: settings["busy_retry_pause_ms"] ?? 20)
        var peer = ScriptedDevice(spec["peer"] as? [String: Any] ?? [:])
        var scanner = DeviceScanner(device: device)
        let buffer = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 2000)
        defer { buffer.deallocate() }

        let cycles = spec["cycles"] as? [[String: Any]] ?? []
        #expect(cycles.count == expected.count, "\(name): \(cycles.count) cycles, \(expected.count) expected lines")
        for (n, cycle) in cycles.enumerated() {
            let atMS = Int64(cycle["at_ms"] as? Int ?? n * device.pollIntervalMS)
            if let changes = cycle["peer"] as? [String: Any] { peer.apply(changes) }
            peer.clockNS = atMS * 1_000_000
            peer.requests = 0
            let outcome = scanner.scan(
                cycle: Int(atMS) / device.pollIntervalMS, timestampMS: atMS,
                deadlineMonoNS: (atMS + Int64(device.pollIntervalMS)) * 1_000_000, reader: &peer,
                linkFailure: (cycle["link_down"] as? Bool ?? false) ? .linkFailure : nil, buffer: buffer)
            let line = Self.describe(outcome, state: scanner.state, requests: peer.requests, points: points)
            let want = n < expected.count ? expected[n] : "(none)"
            #expect(line == want, "\(name) cycle \(n + 1):\n got: \(line)\nwant: \(want)")
            // Independently of the expected file: an ok point's value is its own address.
            for (i, point) in points.enumerated() where outcome.scan.qualities[i] == .ok && point.scaleFactorPoint == nil && point.type == .uint16 {
                let value = outcome.scan.values[i]
                #expect(value == Double(point.address), "\(name) cycle \(n + 1): \(point.name) = \(value)")
            }
            for (i, quality) in outcome.scan.qualities.enumerated() where quality != .ok && quality != .stale {
                let value = outcome.scan.values[i]
                #expect(value.isNaN, "\(name) cycle \(n + 1): \(points[i].name) is \(quality.name) but has value \(value)")
            }
            // Busy retries never pass the next boundary.
            let clockMS = peer.clockNS / 1_000_000
            #expect(clockMS <= atMS + Int64(device.pollIntervalMS), "\(name) cycle \(n + 1): ended at \(clockMS) ms")
        }
    }

    static func describe(_ outcome: DeviceScanner.Outcome, state: DeviceState, requests: Int, points: [PointDefinition]) -> String {
        let qualities = points.indices.map { "\(points[$0].name)=\(outcome.scan.qualities[$0].name)" }.joined(separator: " ")
        return "\(state.rawValue) requests=\(requests) splits=\(outcome.splitRequests) retries=\(outcome.busyRetries) "
            + "learnt=[\(outcome.learnt.map(\.description).joined(separator: ", "))] "
            + "cleared=[\(outcome.cleared.map(\.description).joined(separator: ", "))] | \(qualities)"
    }

    static func points(_ value: Any?) throws -> [PointDefinition] {
        let list = try #require(value as? [[String: Any]])
        return try list.map { item in
            let name = try #require(item["name"] as? String)
            let address = try #require(item["address"] as? Int)
            let type: ValueType =
                switch item["type"] as? String ?? "uint16" {
                case "uint32": .uint32
                case "int16": .int16
                default: .uint16
                }
            return PointDefinition(
                name: name, address: address, type: type, scaleFactorPoint: item["scale_factor"] as? String,
                pollMultiple: item["poll_multiple"] as? Int ?? 1)
        }
    }
}

/// A device that answers from a register image (register a holds a) and misbehaves as scripted:
/// refused ranges, a longest request, busy every n-th request, silence. Its clock is fake: a
/// request takes 1 ms, a sleep jumps to its deadline.
struct ScriptedDevice: DeviceReader {
    var refuse: [(range: Range<Int>, code: UInt8)] = []
    var maxCount = Int.max
    var busyEvery = 0
    var silent = false
    var requestsTotal = 0
    var requests = 0
    var clockNS: Int64 = 0

    init(_ spec: [String: Any]) { apply(spec) }

    mutating func apply(_ spec: [String: Any]) {
        if let list = spec["refuse"] as? [[Int]] {
            refuse = list.map { ($0[0]..<$0[1], UInt8($0.count > 2 ? $0[2] : 2)) }
        }
        if let n = spec["max_count"] as? Int { maxCount = n }
        if let n = spec["busy_every"] as? Int { busyEvery = n }
        if let b = spec["silent"] as? Bool { silent = b }
    }

    mutating func read(_ request: ReadRequest, into buffer: UnsafeMutableBufferPointer<UInt16>) throws(ReadFailure) {
        requestsTotal += 1
        requests += 1
        clockNS += 1_000_000
        if silent {
            clockNS += 100_000_000
            throw .timeout
        }
        if busyEvery > 0, requestsTotal % busyEvery == 0 { throw .exception(6) }
        let span = request.startAddress..<request.endAddress
        if let refused = refuse.first(where: { $0.range.overlaps(span) }) { throw .exception(refused.code) }
        if request.count > maxCount { throw .exception(3) }
        for k in 0..<request.count { buffer[k] = UInt16(truncatingIfNeeded: request.startAddress + k) }
    }

    func monotonicNS() -> Int64 { clockNS }

    mutating func sleep(untilMonotonicNS deadline: Int64) { clockNS = max(clockNS, deadline) }
}
