/// What the scanner needs from a link: one read, and a monotonic clock to pause on. The Modbus
/// layer implements it over libmodbus on the link's thread; tests implement it with canned
/// answers and a fake clock.
public protocol DeviceReader {
    /// Reads `request` into the first `request.count` elements of `buffer`, or throws why not.
    mutating func read(_ request: ReadRequest, into buffer: UnsafeMutableBufferPointer<UInt16>) throws(ReadFailure)
    func monotonicNS() -> Int64
    mutating func sleep(untilMonotonicNS deadline: Int64)
}

/// Polls one device once per call and assembles its scan: plans the cycle's requests around the
/// ranges the device refuses, reads them through a `DeviceReader`, retries busy answers, splits
/// refused requests down to point boundaries within a budget, learns the refused ranges, decodes
/// the answers (scale factors, sentinels, text) and gives every point a quality.
///
/// Pure: no I/O of its own and no clock but the reader's; time is passed in. Owns the device's
/// learnt ranges, its last good values and its state; not the connection or its statistics.
public struct DeviceScanner: Sendable {
    public let device: DeviceDefinition
    public let plan: DevicePollPlan
    public private(set) var refused: RefusedRangeBook
    public private(set) var state: DeviceState = .never
    private let compiled: [CompiledPoint]
    private let addresses: [Int]
    private let spans: [Range<Int>]
    private let scaleFactorIndex: [Int?]
    /// The registers (bits) some point maps, merged, per table: what a learnt gap may not cover.
    private let mappedByKind: [RegisterKind: [Range<Int>]]
    private var lastGoodValues: [Double]
    private var hasReadEveryPoint = false

    public init(device: DeviceDefinition) {
        self.device = device
        let points = device.profile.points
        plan = DevicePollPlan(
            points: points,
            limits: ReadPlanLimits(
                maxRegisters: device.maxRegistersPerRequest, maxBits: device.maxBitsPerRequest,
                maxHole: device.maxHoleRegisters))
        refused = RefusedRangeBook(reprobeIntervalMS: Int64(device.refusedReprobeSeconds) * 1000)
        compiled = points.map(CompiledPoint.init)
        addresses = points.map(\.address)
        spans = points.indices.map { ReadPlanner.span(of: $0, in: points) }
        scaleFactorIndex = points.map { point in
            point.scaleFactorPoint.flatMap { name in points.firstIndex { $0.name == name } }
        }
        var mapped: [RegisterKind: [Range<Int>]] = [:]
        for kind in RegisterKind.allCases {
            mapped[kind] = ReadPlanner.mergedSpans(points.indices.filter { points[$0].kind == kind }.map { points[$0].address..<points[$0].endAddress })
        }
        mappedByKind = mapped
        lastGoodValues = [Double](repeating: .nan, count: points.count)
    }

    /// What one call of `scan` did, beyond the scan itself.
    public struct Outcome: Sendable {
        public var scan: Scan
        /// Requests answered (with data or a Modbus exception), retries and splits included.
        public var answeredRequests: Int
        /// Requests that got no answer (timeout, protocol error, link failure).
        public var failedRequests: Int
        /// The link must be resynchronised before the next request (TCP closed, RTU flushed).
        public var linkSuspect: Bool
        /// Ranges learnt in this cycle that were not known before (log each once).
        public var learnt: [RefusedRange]
        /// Ranges that were re-probed and are served again.
        public var cleared: [RefusedRange]
        /// Requests sent again after a busy or acknowledge answer.
        public var busyRetries: Int
        /// Extra requests sent to split refused reads.
        public var splitRequests: Int
    }

    /// Polls once.
    ///
    /// - `cycle`: the cycle number (boundary / interval), for points with longer poll multiples.
    /// - `timestampMS`: the scan's UTC time; also the clock for re-probing refused ranges.
    /// - `deadlineMonoNS`: the next boundary on the reader's clock; busy retries never pass it.
    /// - `linkFailure`: the link could not be opened; every due point gets its quality, no I/O.
    public mutating func scan<Reader: DeviceReader>(
        cycle: Int, timestampMS: Int64, deadlineMonoNS: Int64, reader: inout Reader, linkFailure: ReadFailure?,
        buffer: UnsafeMutableBufferPointer<UInt16>
    ) -> Outcome {
        var run = CycleRun(
            values: lastGoodValues,
            qualities: [PointQuality](repeating: .stale, count: lastGoodValues.count),
            splitBudget: device.splitBudgetRequests, deadlineMonoNS: deadlineMonoNS)
        // Until every point has been read once, read them all (cycle 0 of the plan), so slow
        // points such as serial numbers are known from the first poll, not after 3600 cycles.
        let effectiveCycle = hasReadEveryPoint ? cycle : 0
        let probing = refused.takeDueForReprobe(nowMS: timestampMS)
        let ranges = refused.ranges
        let requests: [ReadRequest]
        if ranges.isEmpty {
            requests = plan.requests(cycle: effectiveCycle)
        } else {
            let due = plan.duePoints(cycle: effectiveCycle)
            requests = ReadPlanner.plan(points: device.profile.points, due: due, limits: plan.limits, refused: ranges)
            for i in due {
                let kind = device.profile.points[i].kind
                if let range = ranges.first(where: { !$0.isBoundary && $0.kind == kind && $0.blocks(spans[i]) }) {
                    run.mark([i], .exception(range.exceptionCode))
                }
            }
        }

        if let linkFailure {
            for request in requests { run.mark(request.pointIndices, linkFailure.quality) }
            for entry in probing { refused.learn(entry.range, nowMS: timestampMS, reprobed: probing) }
        } else {
            for request in requests {
                _ = readOrSplit(request, run: &run, reader: &reader, buffer: buffer, timestampMS: timestampMS, probing: probing)
            }
        }
        let cleared = probing.map(\.range).filter { range in !refused.ranges.contains(range) }
        if run.spent != nil || linkFailure != nil, !cleared.isEmpty {
            // Not answered: nothing was learnt about the probed ranges; keep them.
            for entry in probing where cleared.contains(entry.range) {
                refused.learn(entry.range, nowMS: timestampMS, reprobed: probing)
            }
        }
        let clearedNow = probing.map(\.range).filter { range in !refused.ranges.contains(range) }

        // The device's state from this cycle's answers.
        let failedPoint = run.qualities.contains { quality in
            switch quality {
            case .ok, .stale, .notImplemented: false
            case .timeout, .exception, .communicationFailure, .protocolError: true
            }
        }
        if run.answered > 0 {
            state = failedPoint ? .degraded : .up
        } else if run.failed > 0 || linkFailure != nil {
            if state != .never { state = .down }
        } else if failedPoint, state.isAnswering {
            state = .degraded  // nothing sent: every due point lies in a refused range
        }
        if run.answered > 0 && run.failed == 0 && linkFailure == nil { hasReadEveryPoint = true }
        for i in run.qualities.indices where run.qualities[i] == .ok { lastGoodValues[i] = run.values[i] }

        let scan = Scan(
            deviceID: device.id, timestampMS: timestampMS, values: run.values, qualities: run.qualities, texts: run.texts)
        return Outcome(
            scan: scan, answeredRequests: run.answered, failedRequests: run.failed, linkSuspect: run.linkSuspect,
            learnt: run.learnt, cleared: clearedNow, busyRetries: run.busyRetries, splitRequests: run.splitRequests)
    }

    // MARK: - One cycle

    /// The working state of one cycle.
    private struct CycleRun {
        var values: [Double]
        var qualities: [PointQuality]
        var texts: [Int: String] = [:]
        var splitBudget: Int
        let deadlineMonoNS: Int64
        var answered = 0
        var failed = 0
        var linkSuspect = false
        /// Set when a failure spent the device's cycle: the remaining requests get this quality.
        var spent: PointQuality?
        var sent = 0
        var learnt: [RefusedRange] = []
        var busyRetries = 0
        var splitRequests = 0

        mutating func mark(_ indices: [Int], _ quality: PointQuality) {
            for i in indices {
                qualities[i] = quality
                values[i] = .nan
            }
        }
    }

    /// served: data for every point; split: refused, then split; pending: refused and not split
    /// for want of budget; failed: anything else.
    private enum ReadResult { case served, split, pending, failed }

    /// Reads `request`; on exception 2 or 3 splits it at point boundaries (while the budget lasts)
    /// and learns what the device refuses.
    private mutating func readOrSplit<Reader: DeviceReader>(
        _ request: ReadRequest, run: inout CycleRun, reader: inout Reader, buffer: UnsafeMutableBufferPointer<UInt16>,
        timestampMS: Int64, probing: [RefusedRangeBook.Entry]
    ) -> ReadResult {
        if let spent = run.spent {
            run.mark(request.pointIndices, spent)
            return .failed
        }
        let failure = readWithRetry(request, run: &run, reader: &reader, buffer: buffer)
        guard let failure else {
            run.answered += 1
            decode(request, words: UnsafeBufferPointer(buffer), run: &run)
            return .served
        }
        if failure.isAnswer { run.answered += 1 } else { run.failed += 1 }
        if failure.makesLinkSuspect { run.linkSuspect = true }
        if failure.spendsCycle { run.spent = failure.quality }
        guard failure.isRefusal, case .exception(let code) = failure else {
            run.mark(request.pointIndices, failure.quality)
            return .failed
        }
        let groups = spanGroups(of: request)
        if groups.count < 2 {
            learn(RefusedRange(kind: request.kind, registers: request.startAddress..<request.endAddress, exceptionCode: code),
                  run: &run, timestampMS: timestampMS, probing: probing)
            run.mark(request.pointIndices, failure.quality)
            return .failed
        }
        guard run.splitBudget >= 2 else {
            run.mark(request.pointIndices, failure.quality)
            return .pending
        }
        run.splitBudget -= 2
        run.splitRequests += 2
        let middle = groups.count / 2
        let left = subrequest(kind: request.kind, groups: groups[..<middle])
        let right = subrequest(kind: request.kind, groups: groups[middle...])
        let leftResult = readOrSplit(left, run: &run, reader: &reader, buffer: buffer, timestampMS: timestampMS, probing: probing)
        let rightResult = readOrSplit(right, run: &run, reader: &reader, buffer: buffer, timestampMS: timestampMS, probing: probing)
        if leftResult == .served && rightResult == .served {
            // Both halves are served, the whole is refused: what lies between is refused (when no
            // point maps it), or the device will not read across the boundary.
            let gap = left.endAddress..<right.startAddress
            let registers = !gap.isEmpty && !isMapped(gap, kind: request.kind) ? gap : left.endAddress..<left.endAddress
            learn(RefusedRange(kind: request.kind, registers: registers, exceptionCode: code),
                  run: &run, timestampMS: timestampMS, probing: probing)
        } else if (leftResult == .pending && rightResult != .failed) || (rightResult == .pending && leftResult != .failed) {
            // The budget ran out: keep the cut made so far, so the next cycle goes on from here.
            learn(RefusedRange(kind: request.kind, registers: left.endAddress..<left.endAddress, exceptionCode: code),
                  run: &run, timestampMS: timestampMS, probing: probing)
        }
        return .split
    }

    private mutating func learn(
        _ range: RefusedRange, run: inout CycleRun, timestampMS: Int64, probing: [RefusedRangeBook.Entry]
    ) {
        if refused.learn(range, nowMS: timestampMS, reprobed: probing) { run.learnt.append(range) }
    }

    /// One read, sent again after a busy (6) or acknowledge (5) answer while retries remain and
    /// the retry (pause + response timeout) ends before the next boundary. Returns nil on success.
    private func readWithRetry<Reader: DeviceReader>(
        _ request: ReadRequest, run: inout CycleRun, reader: inout Reader, buffer: UnsafeMutableBufferPointer<UInt16>
    ) -> ReadFailure? {
        var retries = 0
        while true {
            if run.sent > 0, device.interRequestDelayMS > 0 {
                reader.sleep(untilMonotonicNS: reader.monotonicNS() + Int64(device.interRequestDelayMS) * 1_000_000)
            }
            run.sent += 1
            do throws(ReadFailure) {
                try reader.read(request, into: buffer)
                return nil
            } catch {
                guard error.isBusy, retries < device.busyRetries else { return error }
                let wake = reader.monotonicNS() + Int64(device.busyRetryPauseMS) * 1_000_000
                guard wake + Int64(device.responseTimeoutMS) * 1_000_000 <= run.deadlineMonoNS else { return error }
                reader.sleep(untilMonotonicNS: wake)
                retries += 1
                run.busyRetries += 1
            }
        }
    }

    /// The request's points grouped where their spans (with scale factors) overlap: the units a
    /// request can be split into, in address order.
    private func spanGroups(of request: ReadRequest) -> [[Int]] {
        let sorted = request.pointIndices.sorted { (spans[$0].lowerBound, spans[$0].upperBound) < (spans[$1].lowerBound, spans[$1].upperBound) }
        var groups: [[Int]] = []
        var groupEnd = Int.min
        for i in sorted {
            if !groups.isEmpty, spans[i].lowerBound < groupEnd {
                groups[groups.count - 1].append(i)
                groupEnd = max(groupEnd, spans[i].upperBound)
            } else {
                groups.append([i])
                groupEnd = spans[i].upperBound
            }
        }
        return groups
    }

    /// The smallest request that serves the points of `groups`.
    private func subrequest(kind: RegisterKind, groups: ArraySlice<[Int]>) -> ReadRequest {
        let indices = groups.flatMap { $0 }
        let start = indices.map { spans[$0].lowerBound }.min()!
        let end = indices.map { spans[$0].upperBound }.max()!
        return ReadRequest(kind: kind, startAddress: start, count: end - start, pointIndices: indices.sorted())
    }

    /// True when a point of the profile maps one of `registers`.
    private func isMapped(_ registers: Range<Int>, kind: RegisterKind) -> Bool {
        (mappedByKind[kind] ?? []).contains { $0.overlaps(registers) }
    }

    private mutating func decode(_ request: ReadRequest, words: UnsafeBufferPointer<UInt16>, run: inout CycleRun) {
        for i in request.pointIndices {
            let point = compiled[i]
            let offset = addresses[i] - request.startAddress
            if case .string = point.type {
                run.texts[i] = RegisterDecoder.decodeText(device.profile.points[i], words: words, offset: offset)
                run.qualities[i] = .ok
                run.values[i] = .nan
                continue
            }
            var exponent: Int16? = nil
            if let sf = scaleFactorIndex[i] {
                exponent = RegisterDecoder.scaleFactorExponent(words: words, offset: addresses[sf] - request.startAddress)
            }
            if let value = point.decode(words: words, at: offset, scaleFactorExponent: exponent) {
                run.values[i] = value
                run.qualities[i] = .ok
            } else {
                run.values[i] = .nan
                run.qualities[i] = .notImplemented
            }
        }
    }
}
