import ESSCore
import ESSTestSupport
import Testing

/// A random small register map, limits and due set, reproducible from `seed`.
struct PlannerCase: CustomStringConvertible {
    var seed: UInt64
    var points: [PointDefinition]
    var due: [Int]
    var limits: ReadPlanLimits

    init(seed: UInt64) {
        self.seed = seed
        var rng = SplitMix64(seed: seed)
        let allTables: [RegisterKind] = [.holding, .input, .coil]
        let first = allTables.randomElement(using: &rng)!
        let tables = Bool.random(using: &rng) ? [first] : [first, allTables.filter { $0 != first }.randomElement(using: &rng)!]
        var points: [PointDefinition] = []
        for i in 0..<Int.random(in: 1...7, using: &rng) {
            let kind = tables.randomElement(using: &rng)!
            let type: ValueType = kind.isBitTable ? .bool : [.uint16, .int16, .uint32, .float32, .uint64].randomElement(using: &rng)!
            let count = kind.isBitTable ? 1 : type.registerCount
            let address = Int.random(in: 0...(31 - count), using: &rng)
            points.append(PointDefinition(name: "p\(i)", kind: kind, address: address, type: type))
        }
        // Optionally a scale-factor register for one register-table point, near it.
        let registerPoints = points.indices.filter { !points[$0].kind.isBitTable }
        if let target = registerPoints.randomElement(using: &rng), Bool.random(using: &rng) {
            let p = points[target]
            let address = Int.random(in: max(0, p.address - 6)...min(30, p.endAddress + 5), using: &rng)
            points[target].scaleFactorPoint = "sf"
            let sf = PointDefinition(name: "sf", role: .scaleFactor, kind: p.kind, address: address, type: .int16)
            points.insert(sf, at: Int.random(in: 0...points.count, using: &rng))
        }
        // Caps of 2…16; a cap smaller than the widest span is drawn again above it so every
        // case is plannable.
        let widest = points.indices.map { referenceSpan(of: $0, in: points).count }.max()!
        var maxRegisters = Int.random(in: 2...16, using: &rng)
        if maxRegisters < widest { maxRegisters = Int.random(in: max(2, widest)...16, using: &rng) }
        let maxBits = Int.random(in: 2...16, using: &rng)
        limits = ReadPlanLimits(maxRegisters: maxRegisters, maxBits: maxBits, maxHole: Int.random(in: 0...5, using: &rng))
        var due = Bool.random(using: &rng) ? Array(points.indices) : points.indices.filter { _ in Bool.random(using: &rng) }
        due.shuffle(using: &rng)
        self.points = points
        self.due = due
    }

    var description: String {
        let list = points.enumerated().map { i, p in
            "#\(i) \(p.name) \(p.kind.rawValue)@\(p.address) \(p.type.name)\(p.scaleFactorPoint.map { " sf=\($0)" } ?? "")"
        }
        return "seed \(seed): cap \(limits.maxRegisters)/\(limits.maxBits) maxHole \(limits.maxHole) due \(due.sorted()) [\(list.joined(separator: "; "))]"
    }
}

/// The span a point needs, computed here from the profile rules rather than by the planner:
/// its own registers joined (hull) with its scale-factor register's when that is in the same table.
func referenceSpan(of index: Int, in points: [PointDefinition]) -> Range<Int> {
    let p = points[index]
    let own = p.address..<(p.address + (p.kind.isBitTable ? 1 : p.type.registerCount))
    guard let name = p.scaleFactorPoint, let sf = points.first(where: { $0.name == name }), sf.kind == p.kind else { return own }
    return min(own.lowerBound, sf.address)..<max(own.upperBound, sf.address + sf.type.registerCount)
}

/// Which addresses of `kind` some point of the profile maps (any point, due or not).
func mappedAddresses(_ points: [PointDefinition], kind: RegisterKind, size: Int = 64) -> [Bool] {
    var mapped = [Bool](repeating: false, count: size)
    for i in points.indices where points[i].kind == kind {
        for a in referenceSpan(of: i, in: points) { mapped[a] = true }
    }
    return mapped
}

/// Longest run of unmapped addresses inside `window`.
func longestHole(in window: Range<Int>, mapped: [Bool]) -> Int {
    var longest = 0
    var run = 0
    for a in window {
        run = mapped[a] ? 0 : run + 1
        longest = max(longest, run)
    }
    return longest
}

/// The fewest valid windows that contain every due point's span: exhaustive set cover over
/// every window that starts at a due span's start and ends at a due span's end (any valid
/// window can be shrunk to one of those without losing a point, and stays valid).
func bruteForceRequestCount(points: [PointDefinition], due: [Int], limits: ReadPlanLimits) -> Int {
    var total = 0
    for kind in RegisterKind.allCases {
        let items = due.filter { points[$0].kind == kind }.map { referenceSpan(of: $0, in: points) }
        if items.isEmpty { continue }
        let mapped = mappedAddresses(points, kind: kind)
        let cap = kind.isBitTable ? limits.maxBits : limits.maxRegisters
        var windowMasks: Set<Int> = []
        for a in Set(items.map(\.lowerBound)) {
            for b in Set(items.map(\.upperBound)) where b > a && b - a <= cap {
                guard longestHole(in: a..<b, mapped: mapped) <= limits.maxHole else { continue }
                var mask = 0
                for (k, span) in items.enumerated() where span.lowerBound >= a && span.upperBound <= b { mask |= 1 << k }
                if mask != 0 { windowMasks.insert(mask) }
            }
        }
        let full = (1 << items.count) - 1
        var best = [Int](repeating: Int.max, count: full + 1)
        best[0] = 0
        for mask in 0...full where best[mask] != Int.max {
            for w in windowMasks {
                let next = mask | w
                best[next] = min(best[next], best[mask] + 1)
            }
        }
        precondition(best[full] != Int.max, "a validated map is always coverable")
        total += best[full]
    }
    return total
}

@Suite("ReadPlanner: properties against a brute-force optimum")
struct ReadPlannerPropertyTests {
    static let caseCount: UInt64 = 3_000

    @Test("random maps: fewest requests, every rule respected (3,000 seeded cases)")
    func randomMaps() {
        var withScaleFactor = 0
        var withTwoTables = 0
        var withSubset = 0
        var merged = 0
        for seed in UInt64(1)...Self.caseCount {
            let c = PlannerCase(seed: seed)
            let points = c.points
            #expect(ReadPlanner.validate(points: points, limits: c.limits).isEmpty, "\(c)")
            for i in points.indices {
                #expect(ReadPlanner.span(of: i, in: points) == referenceSpan(of: i, in: points), "\(c): span of #\(i)")
            }

            let requests = ReadPlanner.plan(points: points, due: c.due, limits: c.limits)
            let optimum = bruteForceRequestCount(points: points, due: c.due, limits: c.limits)
            #expect(requests.count == optimum, "\(c): \(requests.count) requests, optimum \(optimum): \(requests)")

            var timesServed = [Int](repeating: 0, count: points.count)
            for r in requests {
                let mapped = mappedAddresses(points, kind: r.kind)
                let cap = c.limits.cap(for: r.kind)
                #expect(r.count >= 1 && r.count <= cap, "\(c): \(r) exceeds cap \(cap)")
                #expect(r.startAddress >= 0 && r.endAddress <= 31, "\(c): \(r)")
                #expect(mapped[r.startAddress] && mapped[r.endAddress - 1], "\(c): \(r) starts or ends on an unmapped register")
                #expect(longestHole(in: r.startAddress..<r.endAddress, mapped: mapped) <= c.limits.maxHole, "\(c): \(r) reads through a large hole")
                #expect(!r.pointIndices.isEmpty, "\(c): empty \(r)")
                #expect(r.pointIndices == r.pointIndices.sorted(), "\(c): \(r) indices not ascending")
                if r.pointIndices.count > 1 { merged += 1 }
                for i in r.pointIndices {
                    timesServed[i] += 1
                    #expect(points[i].kind == r.kind, "\(c): #\(i) in a \(r.kind) request")
                    let span = referenceSpan(of: i, in: points)
                    #expect(span.lowerBound >= r.startAddress && span.upperBound <= r.endAddress, "\(c): #\(i) span \(span) outside \(r)")
                }
            }
            for i in points.indices {
                #expect(timesServed[i] == (c.due.contains(i) ? 1 : 0), "\(c): #\(i) served \(timesServed[i]) times")
            }
            // The plan does not depend on the order in which due points are listed.
            #expect(ReadPlanner.plan(points: points, due: c.due.sorted(), limits: c.limits) == requests, "\(c): order-dependent plan")

            if points.contains(where: { $0.scaleFactorPoint != nil }) { withScaleFactor += 1 }
            if Set(points.map(\.kind)).count > 1 { withTwoTables += 1 }
            if c.due.count < points.count { withSubset += 1 }
        }
        // The generator reaches every shape it is meant to.
        #expect(withScaleFactor > 500)
        #expect(withTwoTables > 500)
        #expect(withSubset > 500)
        #expect(merged > 500)
    }

    @Test("the brute force itself: known small maps")
    func bruteForceSanity() {
        let points = [
            PointDefinition(name: "a", address: 0), PointDefinition(name: "b", address: 1, type: .uint32),
            PointDefinition(name: "c", address: 10),
        ]
        #expect(bruteForceRequestCount(points: points, due: [0, 1, 2], limits: .init(maxRegisters: 125, maxHole: 10)) == 1)
        #expect(bruteForceRequestCount(points: points, due: [0, 1, 2], limits: .init(maxRegisters: 125, maxHole: 5)) == 2)
        #expect(bruteForceRequestCount(points: points, due: [0, 1, 2], limits: .init(maxRegisters: 3, maxHole: 10)) == 2)
        #expect(bruteForceRequestCount(points: points, due: [0, 1, 2], limits: .init(maxRegisters: 2, maxHole: 10)) == 3)
        #expect(bruteForceRequestCount(points: points, due: [], limits: .init()) == 0)
    }
}

@Suite("ReadPlanner: examples")
struct ReadPlannerExampleTests {
    @Test("a small hole is read through, a large one splits the request")
    func holes() {
        let points = [
            PointDefinition(name: "a", address: 0), PointDefinition(name: "b", address: 1, type: .uint32),
            PointDefinition(name: "c", address: 10),
        ]
        #expect(ReadPlanner.plan(points: points, due: [0, 1, 2], limits: .init(maxHole: 7)) == [
            ReadRequest(kind: .holding, startAddress: 0, count: 11, pointIndices: [0, 1, 2])
        ])
        #expect(ReadPlanner.plan(points: points, due: [0, 1, 2], limits: .init(maxHole: 6)) == [
            ReadRequest(kind: .holding, startAddress: 0, count: 3, pointIndices: [0, 1]),
            ReadRequest(kind: .holding, startAddress: 10, count: 1, pointIndices: [2]),
        ])
    }

    @Test("the cap splits consecutive registers")
    func cap() {
        let points = (0..<5).map { PointDefinition(name: "p\($0)", kind: .input, address: 100 + $0) }
        #expect(ReadPlanner.plan(points: points, due: Array(0..<5), limits: .init(maxRegisters: 2)) == [
            ReadRequest(kind: .input, startAddress: 100, count: 2, pointIndices: [0, 1]),
            ReadRequest(kind: .input, startAddress: 102, count: 2, pointIndices: [2, 3]),
            ReadRequest(kind: .input, startAddress: 104, count: 1, pointIndices: [4]),
        ])
    }

    @Test("a multi-register value is never split across requests")
    func noSplit() {
        let points = [PointDefinition(name: "a", address: 0), PointDefinition(name: "b", address: 1, type: .uint64)]
        #expect(ReadPlanner.plan(points: points, due: [0, 1], limits: .init(maxRegisters: 4)) == [
            ReadRequest(kind: .holding, startAddress: 0, count: 1, pointIndices: [0]),
            ReadRequest(kind: .holding, startAddress: 1, count: 4, pointIndices: [1]),
        ])
    }

    @Test("a point is read with its scale-factor register even when that is not due")
    func scaleFactor() {
        let points = [
            PointDefinition(name: "w_sf", role: .scaleFactor, address: 40, type: .int16),
            PointDefinition(name: "w", role: .activePowerKW, address: 30, type: .int16, scaleFactorPoint: "w_sf"),
        ]
        #expect(ReadPlanner.span(of: 1, in: points) == 30..<41)
        #expect(ReadPlanner.plan(points: points, due: [1], limits: .init(maxHole: 0)) == [
            ReadRequest(kind: .holding, startAddress: 30, count: 11, pointIndices: [1])
        ])
    }

    @Test("each table gets its own requests, in table order")
    func tables() {
        let points = [
            PointDefinition(name: "h", kind: .holding, address: 0),
            PointDefinition(name: "c", kind: .coil, address: 0, type: .bool),
            PointDefinition(name: "i", kind: .input, address: 1),
            PointDefinition(name: "d", kind: .discrete, address: 5, type: .bool),
            PointDefinition(name: "c2", kind: .coil, address: 1, type: .bool),
        ]
        let requests = ReadPlanner.plan(points: points, due: [0, 1, 2, 3, 4], limits: .init())
        #expect(requests == [
            ReadRequest(kind: .coil, startAddress: 0, count: 2, pointIndices: [1, 4]),
            ReadRequest(kind: .discrete, startAddress: 5, count: 1, pointIndices: [3]),
            ReadRequest(kind: .holding, startAddress: 0, count: 1, pointIndices: [0]),
            ReadRequest(kind: .input, startAddress: 1, count: 1, pointIndices: [2]),
        ])
        #expect(requests.map { $0.kind.readFunctionCode } == [1, 2, 3, 4])
    }

    @Test("nothing due, nothing read")
    func empty() {
        #expect(ReadPlanner.plan(points: [PointDefinition(name: "a", address: 0)], due: [], limits: .init()).isEmpty)
        #expect(ReadPlanner.plan(points: [], due: [], limits: .init()).isEmpty)
    }
}
