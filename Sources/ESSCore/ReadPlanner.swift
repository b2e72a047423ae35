/// One read request: a function code's table, a first address and a count, and the points
/// (indices into the profile) that it serves.
public struct ReadRequest: Sendable, Hashable {
    public var kind: RegisterKind
    public var startAddress: Int
    public var count: Int
    /// Indices of the points decoded from this request, ascending.
    public var pointIndices: [Int]

    public init(kind: RegisterKind, startAddress: Int, count: Int, pointIndices: [Int]) {
        self.kind = kind
        self.startAddress = startAddress
        self.count = count
        self.pointIndices = pointIndices
    }

    public var endAddress: Int { startAddress + count }
}

/// The size limits a read plan respects.
public struct ReadPlanLimits: Sendable, Hashable {
    /// Largest register count of a holding/input request (Modbus allows 125).
    public var maxRegisters: Int
    /// Largest bit count of a coil/discrete request (Modbus allows 2000).
    public var maxBits: Int
    /// Largest run of unmapped registers (or bits) a request may read through.
    public var maxHole: Int

    public init(maxRegisters: Int = 125, maxBits: Int = 2000, maxHole: Int = 10) {
        self.maxRegisters = maxRegisters
        self.maxBits = maxBits
        self.maxHole = maxHole
    }

    public func cap(for kind: RegisterKind) -> Int { kind.isBitTable ? maxBits : maxRegisters }
}

/// A point that cannot be planned, with the reason. The configuration validator reports these.
public struct ReadPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    public var pointName: String
    public var reason: String
    public var description: String { "point '\(pointName)': \(reason)" }
}

/// Groups points into the fewest read requests.
///
/// Rules: a request never exceeds the table's size cap; a multi-register value is never
/// split; a point with a scale-factor register is read in the same request as that register;
/// a request reads through at most `maxHole` consecutive registers that no point of the
/// profile maps (mapped registers of points not due this cycle are not holes: they exist).
///
/// The greedy choice is optimal: the first request can always start at the lowest start
/// address still unserved and extend as far as the cap and the first too-large hole allow;
/// any optimal plan can be shifted into that form without serving fewer points.
public enum ReadPlanner {
    /// The register span a point needs in one request: its own registers, joined with its
    /// scale-factor register's when it has one.
    public static func span(of index: Int, in points: [PointDefinition]) -> Range<Int> {
        let point = points[index]
        var lower = point.address
        var upper = point.endAddress
        if let sfName = point.scaleFactorPoint, let sf = points.first(where: { $0.name == sfName }), sf.kind == point.kind {
            lower = min(lower, sf.address)
            upper = max(upper, sf.endAddress)
        }
        return lower..<upper
    }

    /// Checks that every point can be planned under the limits; returns one error per bad point.
    public static func validate(points: [PointDefinition], limits: ReadPlanLimits) -> [ReadPlanError] {
        var errors: [ReadPlanError] = []
        for (i, point) in points.enumerated() {
            let cap = limits.cap(for: point.kind)
            if let sfName = point.scaleFactorPoint {
                guard let sf = points.first(where: { $0.name == sfName }) else {
                    errors.append(.init(pointName: point.name, reason: "scale_factor names no point '\(sfName)' of this profile"))
                    continue
                }
                if sf.kind != point.kind || sf.kind.isBitTable {
                    errors.append(.init(pointName: point.name, reason: "scale_factor point '\(sfName)' must be in the same register table (\(point.kind.rawValue)) and not a bit table"))
                    continue
                }
            }
            let span = span(of: i, in: points)
            if span.count > cap {
                errors.append(.init(pointName: point.name, reason: "needs \(span.count) contiguous \(point.kind.isBitTable ? "bits" : "registers") (with its scale factor), more than the \(cap) allowed in one request"))
            }
            if point.address < 0 || span.upperBound > 65536 {
                errors.append(.init(pointName: point.name, reason: "address \(point.address) is outside 0...65535 for its \(point.registerCount) register(s)"))
            }
        }
        return errors
    }

    /// Plans the requests that serve the points at `due` (indices into `points`).
    /// Points must have passed `validate`.
    ///
    /// `refused`: ranges the device refuses (learnt by the scanner). No request covers a refused
    /// register or crosses a refused boundary; due points whose span covers a refused register
    /// are left out (the scanner marks them).
    public static func plan(
        points: [PointDefinition], due: [Int], limits: ReadPlanLimits, refused: [RefusedRange] = []
    ) -> [ReadRequest] {
        var requests: [ReadRequest] = []
        for kind in RegisterKind.allCases {
            let dueOfKind = due.filter { points[$0].kind == kind }
            if dueOfKind.isEmpty { continue }
            let barriers = refused.filter { $0.kind == kind }
            let mapped = mergedSpans(points.indices.filter { points[$0].kind == kind }.map { span(of: $0, in: points) })
            let items = dueOfKind.map { (index: $0, span: span(of: $0, in: points)) }
                .filter { item in !barriers.contains { !$0.isBoundary && $0.blocks(item.span) } }
                .sorted { ($0.span.lowerBound, $0.span.upperBound, $0.index) < ($1.span.lowerBound, $1.span.upperBound, $1.index) }
            requests += plan(
                kind: kind, items: items, mapped: mapped, cap: limits.cap(for: kind), maxHole: limits.maxHole,
                barriers: barriers)
        }
        return requests
    }

    private static func plan(
        kind: RegisterKind, items: [(index: Int, span: Range<Int>)], mapped: [Range<Int>], cap: Int, maxHole: Int,
        barriers: [RefusedRange] = []
    ) -> [ReadRequest] {
        var served = [Bool](repeating: false, count: items.count)
        var requests: [ReadRequest] = []
        var first = 0
        while first < items.count {
            if served[first] { first += 1; continue }
            let start = items[first].span.lowerBound
            var limit = min(start + cap, firstLargeHole(after: start, mapped: mapped, maxHole: maxHole))
            for barrier in barriers where barrier.registers.lowerBound >= start && barrier.registers.upperBound > start {
                limit = min(limit, barrier.registers.lowerBound)
            }
            var end = start
            var indices: [Int] = []
            var j = first
            while j < items.count, items[j].span.lowerBound < limit {
                if !served[j], items[j].span.upperBound <= limit {
                    served[j] = true
                    indices.append(items[j].index)
                    end = max(end, items[j].span.upperBound)
                }
                j += 1
            }
            if indices.isEmpty {
                // Only a point that failed `validate` (wider than the cap) gets here: serve it
                // alone rather than loop; the device will answer with an exception.
                served[first] = true
                indices = [items[first].index]
                end = items[first].span.upperBound
            }
            requests.append(ReadRequest(kind: kind, startAddress: start, count: end - start, pointIndices: indices.sorted()))
        }
        return requests
    }

    /// Start of the first unmapped run longer than `maxHole` at or after `address`
    /// (or Int.max when there is none).
    static func firstLargeHole(after address: Int, mapped: [Range<Int>], maxHole: Int) -> Int {
        var k = 0
        while k + 1 < mapped.count {
            let holeStart = mapped[k].upperBound
            let holeEnd = mapped[k + 1].lowerBound
            if holeEnd > address && holeEnd - holeStart > maxHole { return max(holeStart, address) }
            k += 1
        }
        return Int.max
    }

    /// Sorted, merged union of ranges (touching ranges merge).
    static func mergedSpans(_ ranges: [Range<Int>]) -> [Range<Int>] {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for range in sorted {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}

/// The requests of one device for every cycle: points with a longer poll interval
/// (`pollMultiple` > 1) are read only in cycles that are multiples of it, and the points due
/// together in a cycle are grouped together.
public struct DevicePollPlan: Sendable {
    public let points: [PointDefinition]
    public let limits: ReadPlanLimits
    /// Distinct poll multiples, ascending.
    public let multiples: [Int]
    private let plansByDueMask: [Int: [ReadRequest]]

    public init(points: [PointDefinition], limits: ReadPlanLimits) {
        self.points = points
        self.limits = limits
        let multiples = Array(Set(points.map { max(1, $0.pollMultiple) })).sorted()
        self.multiples = multiples
        // One plan per combination of multiples that can be due together.
        var plans: [Int: [ReadRequest]] = [:]
        let combos = multiples.count <= 12 ? (1..<(1 << multiples.count)) : 1..<1
        for mask in combos where Self.isReachable(mask: mask, multiples: multiples) {
            let due = points.indices.filter { mask & (1 << multiples.firstIndex(of: max(1, points[$0].pollMultiple))!) != 0 }
            plans[mask] = ReadPlanner.plan(points: points, due: due, limits: limits)
        }
        self.plansByDueMask = plans
    }

    /// Indices of the points due in cycle `cycle` (cycle 0 reads every point).
    public func duePoints(cycle: Int) -> [Int] {
        points.indices.filter { cycle % max(1, points[$0].pollMultiple) == 0 }
    }

    /// The requests of cycle `cycle`.
    public func requests(cycle: Int) -> [ReadRequest] {
        var mask = 0
        for (k, m) in multiples.enumerated() where cycle % m == 0 { mask |= 1 << k }
        if let plan = plansByDueMask[mask] { return plan }
        return ReadPlanner.plan(points: points, due: duePoints(cycle: cycle), limits: limits)
    }

    /// True when some cycle number makes exactly the multiples in `mask` due.
    static func isReachable(mask: Int, multiples: [Int]) -> Bool {
        // Due multiples must include 1 if present; a cycle divisible by the lcm of the due ones
        // must not be divisible by any excluded multiple. Check the lcm itself.
        var l = 1
        for (k, m) in multiples.enumerated() where mask & (1 << k) != 0 {
            let (next, overflow) = (l / gcd(l, m)).multipliedReportingOverflow(by: m)
            // No cycle number that fits in an Int makes these due together, except cycle 0,
            // which makes every multiple due. (Six coprime multiples near 3600 overflow.)
            if overflow { return mask == (1 << multiples.count) - 1 }
            l = next
        }
        for (k, m) in multiples.enumerated() {
            let due = l % m == 0
            if due != (mask & (1 << k) != 0) { return false }
        }
        return true
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    static func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }
}
