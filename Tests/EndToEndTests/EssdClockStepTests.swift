import ESSStore
import ESSTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 11, finding 7, end to end: a real essd whose wall clock is stepped by libfaketime
/// (Debian `libfaketime`, preloaded into essd only; the monotonic clock is left alone, as a
/// real clock step leaves it). The offset is read from a file the test rewrites, so the clock
/// steps while essd runs. Expected values come from the test's own (true) clock.
@Suite(.serialized) struct EssdClockStepTests {
    static let twoHoursS = 7_200

    /// The preload library, wherever the architecture puts it.
    static func libfaketime() throws -> String {
        let candidates = ["x86_64-linux-gnu", "aarch64-linux-gnu", "arm-linux-gnueabihf"].map {
            "/usr/lib/\($0)/faketime/libfaketimeMT.so.1"
        }
        return try #require(
            candidates.first { FileManager.default.fileExists(atPath: $0) },
            "libfaketime is missing: apt-get install libfaketime (the CI installs it)")
    }

    /// One essd under a controllable clock, beside a real ess-sim, with a state directory.
    struct Run {
        let work: URL
        let state: URL
        let site: URL
        let offsetFile: URL
        let sim: ChildProcess
        let essd: ChildProcess

        /// Starts essd with its wall clock `offsetS` seconds off the true time.
        init(offsetS: Int) throws {
            work = try TestEnvironment.temporaryDirectory("essd-clock")
            state = work.appendingPathComponent("state")
            site = try EssdEndToEndTests.writeSite(
                in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()], stateDirectory: state)
            offsetFile = work.appendingPathComponent("faketime")
            try Self.write(offsetS: offsetS, to: offsetFile)
            sim = try ChildProcess(TestEnvironment.product("ess-sim"), ["--config", site.path], name: "ess-sim")
            try sim.waitForLine(containing: "ess-sim ready")
            var environment = ProcessInfo.processInfo.environment
            environment["LD_PRELOAD"] = try EssdClockStepTests.libfaketime()
            environment["FAKETIME_TIMESTAMP_FILE"] = offsetFile.path
            environment["FAKETIME_NO_CACHE"] = "1"
            environment["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
            // Through env(1): libfaketime sets FAKETIME_SHARED in the first process it is loaded
            // into, which moves `environ` and hides argv from the Swift runtime's argv discovery;
            // essd, exec'd by env, inherits the variable and keeps its arguments.
            essd = try ChildProcess(
                "/usr/bin/env", [TestEnvironment.product("essd"), "--config", site.path], name: "essd", environment: environment)
        }

        static func write(offsetS: Int, to file: URL) throws {
            try (offsetS >= 0 ? "+\(offsetS)\n" : "\(offsetS)\n").write(to: file, atomically: true, encoding: .utf8)
        }

        func step(toOffsetS offsetS: Int) throws { try Self.write(offsetS: offsetS, to: offsetFile) }

        /// SIGTERM; essd must exit 0 within 10 s.
        func stop() throws {
            kill(essd.process.processIdentifier, SIGTERM)
            let asked = Date()
            while essd.process.isRunning && Date().timeIntervalSince(asked) < 10 { usleep(20_000) }
            let stopped = !essd.process.isRunning
            let stderr = essd.standardError
            #expect(stopped, "essd did not stop within 10 s; stderr:\n\(stderr)")
            try #require(stopped)
            let status = essd.process.terminationStatus
            #expect(status == 0, "essd exit status \(status); stderr:\n\(stderr)")
        }

        func cleanUp() {
            essd.terminate()
            sim.terminate()
            try? FileManager.default.removeItem(at: work)
        }
    }

    static var nowMS: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Gaps (ms) between consecutive stored rows, and the rows in the future of the true clock.
    static func profile(_ rows: [RawRow], trueNowMS: Int64) -> (maxGapMS: Int64, future: Int) {
        let times = rows.map(\.timestampMS)
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        return (gaps.max() ?? .max, times.filter { $0 > trueNowMS + 1000 }.count)
    }

    /// A 3 s excursion to +2 h, corrected: the scans taken meanwhile are held, then stored at
    /// their true time; nothing is stored at +2 h and the 500 ms poll leaves no hole.
    @Test func anExcursionIsStoredAtTheTrueTime() throws {
        let run = try Run(offsetS: 0)
        defer { run.cleanUp() }
        let startMS = Self.nowMS
        Thread.sleep(forTimeInterval: 4)
        try run.step(toOffsetS: Self.twoHoursS)
        Thread.sleep(forTimeInterval: 3)
        try run.step(toOffsetS: 0)
        Thread.sleep(forTimeInterval: 4)
        try run.stop()
        let endMS = Self.nowMS

        let reader = try StoreReader(directory: run.state.path)
        for device in ["pcs1", "bms1", "ems1"] {
            let rows = try reader.raw(group: device, fromMS: .min, toMS: .max).rows
            let (maxGap, future) = Self.profile(rows, trueNowMS: endMS)
            let inRun = rows.filter { $0.timestampMS >= startMS && $0.timestampMS <= endMS }.count
            #expect(future == 0, "\(device): \(future) rows stored in the future")
            // 11 s at 500 ms: about 22 polls; allow for start-up (connect, first boundary).
            #expect(inRun >= 16 && inRun == rows.count, "\(device): \(inRun) of \(rows.count) rows at the true time")
            let offsets = rows.map { $0.timestampMS - startMS }
            #expect(maxGap <= 1_100, "\(device): a gap of \(maxGap) ms in a 500 ms poll; rows at \(offsets) ms after the start")
            #expect(try reader.quarantinedRows(group: device).isEmpty, "\(device): nothing was stored at the wrong time")
        }
        let stderr = run.essd.standardError
        #expect(stderr.contains("held scans restamped to the true time"), "stderr:\n\(stderr)")
    }

    /// essd starts with the clock 2 h ahead (a gateway that booted with a wrong RTC) and the
    /// clock is corrected 4 s later: what was stored under the wrong clock is quarantined (kept,
    /// listed, left out of reads and tiers), and storing resumes at the true time at once.
    @Test func rowsStoredUnderAClockThatWasAheadAreQuarantined() throws {
        let run = try Run(offsetS: Self.twoHoursS)
        defer { run.cleanUp() }
        Thread.sleep(forTimeInterval: 4)
        let correctedMS = Self.nowMS
        try run.step(toOffsetS: 0)
        Thread.sleep(forTimeInterval: 4)
        try run.stop()
        let endMS = Self.nowMS

        let reader = try StoreReader(directory: run.state.path)
        for device in ["pcs1", "bms1", "ems1"] {
            let rows = try reader.raw(group: device, fromMS: .min, toMS: .max).rows
            let quarantined = try reader.quarantinedRows(group: device)
            let (maxGap, future) = Self.profile(rows, trueNowMS: endMS)
            #expect(future == 0, "\(device): \(future) rows read in the future of the true clock")
            // Up to 4 s at 500 ms stored at +2 h: all quarantined, all 2 h ahead.
            let ahead = quarantined.filter { $0.timestampMS > correctedMS + 3_600_000 }.count
            #expect(quarantined.count >= 4 && ahead == quarantined.count, "\(device): quarantined \(quarantined.count), \(ahead) of them at +2 h")
            // After the correction: rows at the true time at once, every 500 ms.
            let after = rows.filter { $0.timestampMS >= correctedMS }
            #expect(after.count >= 5, "\(device): \(after.count) rows after the correction")
            let first = after.first.map { $0.timestampMS - correctedMS } ?? .max
            #expect(first <= 1_500, "\(device): the first row after the correction came \(first) ms after it")
            #expect(maxGap <= 1_100, "\(device): a gap of \(maxGap) ms after the correction")
        }
        // The site's 1-minute tier holds nothing at +2 h.
        let wrong = try reader.slots(tier: "1m", group: "site", fromMS: correctedMS + 3_600_000, toMS: endMS + 3 * 3_600_000)
        #expect(wrong.allSatisfy { $0.slot == nil }, "1-minute slots built from quarantined rows")
        let quarantines = try reader.events().events.filter { if case .quarantined = $0 { true } else { false } }
        #expect(quarantines.count == 1, "quarantine events: \(quarantines)")
        // The step back is in the history too (events.csv's clock_stepped).
        let steps = try reader.events().events.compactMap { event -> Int64? in
            if case .clockStepped(_, let step) = event { step } else { nil }
        }
        #expect(steps.contains { $0 < -3_600_000 }, "clock steps recorded: \(steps)")
    }

    /// A flapping clock (0 and +5 s, 40 flips in 8 s): the log stays readable (clock-step lines
    /// rate-limited, with counts) and every row is still stored once at its true time.
    @Test func aFlappingClockIsLoggedWithCountsNotOncePerStep() throws {
        let run = try Run(offsetS: 0)
        defer { run.cleanUp() }
        Thread.sleep(forTimeInterval: 2)
        for flip in 0..<40 {
            try run.step(toOffsetS: flip % 2 == 0 ? 5 : 0)
            Thread.sleep(forTimeInterval: 0.2)
        }
        try run.step(toOffsetS: 0)
        Thread.sleep(forTimeInterval: 2)
        try run.stop()
        let endMS = Self.nowMS

        let lines = run.essd.standardError.split(separator: "\n")
        func count(_ text: String) -> Int { lines.filter { $0.contains(text) }.count }
        let log = lines.filter { $0.contains("clock") || $0.contains("held") || $0.contains("quarantined") }.joined(separator: "\n")
        // At most one line a minute of each kind: per link (three) for the schedule, one for the
        // scans held and released; quarantines are events, and only when rows were stored.
        #expect(count("wall clock stepped; realigning poll schedule") <= 3, "\(log)")
        #expect(count("essd: wall clock stepped ") <= 1, "\(log)")
        #expect(count("held scans") <= 1, "\(log)")
        #expect(count("are quarantined") <= 2, "\(log)")
        let reader = try StoreReader(directory: run.state.path)
        for device in ["pcs1", "bms1", "ems1"] {
            let rows = try reader.raw(group: device, fromMS: .min, toMS: .max).rows
            let (_, future) = Self.profile(rows, trueNowMS: endMS)
            #expect(future == 0, "\(device): \(future) rows in the future")
            let times = rows.map(\.timestampMS)
            #expect(times == times.sorted() && Set(times).count == times.count, "\(device): rows out of order or twice")
            print("flapping clock: \(device): \(rows.count) rows")
            #expect(rows.count >= 16, "\(device): \(rows.count) rows in 12 s at 500 ms")
        }
    }
}
