import ESSCore
import ESSTestSupport
import Testing

@Suite("DevicePollPlan")
struct DevicePollPlanTests {
    /// fast1 @0 (every cycle), slow5 @1 (every 5th), fast1b @2 (every cycle), mid2 @10 (every 2nd).
    static let points = [
        PointDefinition(name: "fast1", address: 0, pollMultiple: 1),
        PointDefinition(name: "slow5", address: 1, pollMultiple: 5),
        PointDefinition(name: "fast1b", address: 2, pollMultiple: 1),
        PointDefinition(name: "mid2", address: 10, pollMultiple: 2),
    ]
    static let limits = ReadPlanLimits(maxRegisters: 125, maxHole: 0)

    @Test("multiples are the distinct poll multiples, ascending")
    func multiples() {
        #expect(DevicePollPlan(points: Self.points, limits: Self.limits).multiples == [1, 2, 5])
    }

    @Test("due points per cycle: 0 reads all, 1 only multiple-1, 2 adds multiple-2, 5 adds multiple-5, 10 all")
    func duePoints() {
        let plan = DevicePollPlan(points: Self.points, limits: Self.limits)
        let expected: [Int: [Int]] = [
            0: [0, 1, 2, 3], 1: [0, 2], 2: [0, 2, 3], 3: [0, 2], 4: [0, 2, 3], 5: [0, 1, 2],
            6: [0, 2, 3], 7: [0, 2], 9: [0, 2], 10: [0, 1, 2, 3], 15: [0, 1, 2], 20: [0, 1, 2, 3],
        ]
        for (cycle, due) in expected {
            #expect(plan.duePoints(cycle: cycle) == due, "cycle \(cycle)")
        }
    }

    @Test("requests per cycle; registers of points not due are not holes")
    func requests() {
        let plan = DevicePollPlan(points: Self.points, limits: Self.limits)
        let head = ReadRequest(kind: .holding, startAddress: 0, count: 3, pointIndices: [0, 2])
        let headWithSlow = ReadRequest(kind: .holding, startAddress: 0, count: 3, pointIndices: [0, 1, 2])
        let tail = ReadRequest(kind: .holding, startAddress: 10, count: 1, pointIndices: [3])
        #expect(plan.requests(cycle: 0) == [headWithSlow, tail])
        // slow5 is not due, but its register 1 is mapped: fast1 and fast1b share one request
        // even with maxHole 0.
        #expect(plan.requests(cycle: 1) == [head])
        #expect(plan.requests(cycle: 2) == [head, tail])
        #expect(plan.requests(cycle: 5) == [headWithSlow])
        #expect(plan.requests(cycle: 10) == [headWithSlow, tail])

        // Without slow5 in the profile, register 1 is a hole and maxHole 0 splits the pair.
        let withoutSlow = Self.points.filter { $0.name != "slow5" }
        #expect(DevicePollPlan(points: withoutSlow, limits: Self.limits).requests(cycle: 1) == [
            ReadRequest(kind: .holding, startAddress: 0, count: 1, pointIndices: [0]),
            ReadRequest(kind: .holding, startAddress: 2, count: 1, pointIndices: [1]),
        ])
    }

    @Test("the precomputed plans equal planning from scratch, for 60 cycles")
    func cachedEqualsFresh() {
        let plan = DevicePollPlan(points: Self.points, limits: Self.limits)
        for cycle in 0..<60 {
            let fresh = ReadPlanner.plan(points: Self.points, due: plan.duePoints(cycle: cycle), limits: Self.limits)
            #expect(plan.requests(cycle: cycle) == fresh, "cycle \(cycle)")
        }
    }

    @Test("random profiles: requests(cycle:) serves exactly the due points (500 seeded cases)")
    func randomProfiles() {
        for seed in UInt64(50_000)..<50_500 {
            var rng = SplitMix64(seed: seed)
            let points = (0..<Int.random(in: 1...8, using: &rng)).map { i in
                PointDefinition(
                    name: "p\(i)", kind: Bool.random(using: &rng) ? .holding : .input,
                    address: Int.random(in: 0...40, using: &rng), type: [.uint16, .uint32].randomElement(using: &rng)!,
                    pollMultiple: [1, 2, 3, 4, 5, 6, 10, 0, -1].randomElement(using: &rng)!)
            }
            let limits = ReadPlanLimits(maxRegisters: Int.random(in: 2...20, using: &rng), maxHole: Int.random(in: 0...5, using: &rng))
            let plan = DevicePollPlan(points: points, limits: limits)
            for cycle in 0..<61 {
                let due = points.indices.filter { cycle % max(1, points[$0].pollMultiple) == 0 }
                #expect(plan.duePoints(cycle: cycle) == due, "seed \(seed) cycle \(cycle)")
                let served = plan.requests(cycle: cycle).flatMap(\.pointIndices).sorted()
                #expect(served == due, "seed \(seed) cycle \(cycle)")
                #expect(plan.requests(cycle: cycle) == ReadPlanner.plan(points: points, due: due, limits: limits), "seed \(seed) cycle \(cycle)")
            }
        }
    }

    @Test("a poll multiple of 0 or less counts as 1")
    func nonPositiveMultiple() {
        let points = [PointDefinition(name: "a", address: 0, pollMultiple: 0), PointDefinition(name: "b", address: 1, pollMultiple: -3)]
        let plan = DevicePollPlan(points: points, limits: .init())
        #expect(plan.multiples == [1])
        #expect(plan.duePoints(cycle: 7) == [0, 1])
        #expect(plan.requests(cycle: 7) == [ReadRequest(kind: .holding, startAddress: 0, count: 2, pointIndices: [0, 1])])
    }

    @Test("coprime multiples whose lcm overflows Int plan without trapping")
    func hugeLcm() {
        // Allowed by the profile reader (poll_multiple in 1...3600); their lcm is ~2e21.
        let multiples = [1, 3557, 3559, 3571, 3581, 3583, 3593]
        let points = multiples.enumerated().map { PointDefinition(name: "p\($0.offset)", address: 2 * $0.offset, pollMultiple: $0.element) }
        let plan = DevicePollPlan(points: points, limits: .init(maxHole: 0))
        #expect(plan.multiples == multiples)
        #expect(plan.requests(cycle: 0).flatMap(\.pointIndices) == Array(0..<7))
        #expect(plan.requests(cycle: 1).flatMap(\.pointIndices) == [0])
        #expect(plan.requests(cycle: 3557).flatMap(\.pointIndices) == [0, 1])
        #expect(plan.requests(cycle: 3557 * 3559).flatMap(\.pointIndices) == [0, 1, 2])
        for cycle in [0, 1, 3557, 3593 * 2, 3557 * 3559 * 3571] {
            #expect(plan.requests(cycle: cycle) == ReadPlanner.plan(points: points, due: plan.duePoints(cycle: cycle), limits: plan.limits))
        }
    }

    @Test("without multiple-1 points, off cycles read nothing")
    func noFastPoints() {
        let points = [PointDefinition(name: "a", address: 0, pollMultiple: 2), PointDefinition(name: "b", address: 1, pollMultiple: 4)]
        let plan = DevicePollPlan(points: points, limits: .init())
        #expect(plan.requests(cycle: 1).isEmpty)
        #expect(plan.requests(cycle: 2).flatMap(\.pointIndices) == [0])
        #expect(plan.requests(cycle: 4).flatMap(\.pointIndices) == [0, 1])
    }
}
