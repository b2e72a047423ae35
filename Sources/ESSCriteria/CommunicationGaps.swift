/// A run of time in which a group (the site, a device, the meter) sent no data: consecutive
/// steps each missing more than 1 % of their length, merged. Listed in the evidence's events.
public struct CommunicationGap: Sendable, Hashable {
    public var groupID: String
    /// Start of the first step and end of the last step of the run (UTC ms): the gap lies
    /// inside, `missingMS` of it uncovered.
    public var startMS: Int64
    public var endMS: Int64
    public var missingMS: Int64

    public init(groupID: String, startMS: Int64, endMS: Int64, missingMS: Int64) {
        self.groupID = groupID
        self.startMS = startMS
        self.endMS = endMS
        self.missingMS = missingMS
    }
}

/// Finds each group's communication gaps while the steps are fed: a step is missing for a
/// group when the group's best-covered signal covers less than 99 % of it (a slot not read at
/// all covers nothing). Owns the open run of each group; pure.
struct CommunicationGapTracker {
    let groupIDs: [String]
    /// Per group: the best signal coverage of the step it was last fed in (`fedStep`).
    private var stepCovered: [Int64]
    private var fedStep: [Int]
    private var stepNumber = 0
    /// Per group: the open run (start, end, missing ms); start `Int64.min` when none. Plain values: this
    /// runs once per step and group.
    private var openStart: [Int64]
    private var openEnd: [Int64]
    private var openMissing: [Int64]
    private(set) var gaps: [CommunicationGap] = []
    /// Groups fed with (nearly) full coverage this step, and runs open: when every group is
    /// full and no run is open (the usual step), `endStep` does nothing.
    private var fullThisStep = 0
    private var openRuns = 0

    init(groupIDs: [String]) {
        self.groupIDs = groupIDs
        stepCovered = Array(repeating: 0, count: groupIDs.count)
        fedStep = Array(repeating: -1, count: groupIDs.count)
        openStart = Array(repeating: .min, count: groupIDs.count)
        openEnd = openStart
        openMissing = Array(repeating: 0, count: groupIDs.count)
    }

    private mutating func close(_ g: Int) {
        gaps.append(CommunicationGap(groupID: groupIDs[g], startMS: openStart[g], endMS: openEnd[g], missingMS: openMissing[g]))
        openStart[g] = .min
        openMissing[g] = 0
        openRuns -= 1
    }

    /// Group `g`'s slot of the current step (`lengthMS` long) covered `ms` (its best signal).
    @inline(__always)
    mutating func covered(_ g: Int, ms: Int64, lengthMS: Int64) {
        stepCovered[g] = ms
        fedStep[g] = stepNumber
        if (lengthMS - min(lengthMS, ms)) * 100 <= lengthMS { fullThisStep += 1 }
    }

    /// Ends the step [startMS, startMS + lengthMS).
    @inline(__always)
    mutating func endStep(startMS: Int64, lengthMS: Int64) {
        defer {
            fullThisStep = 0
            stepNumber += 1
        }
        // The usual step: every group fed and covered, no run open.
        if fullThisStep == groupIDs.count && openRuns == 0 { return }
        slowEndStep(startMS: startMS, lengthMS: lengthMS)
    }

    private mutating func slowEndStep(startMS: Int64, lengthMS: Int64) {
        for g in groupIDs.indices {
            let covered = fedStep[g] == stepNumber ? max(0, stepCovered[g]) : 0
            let missing = lengthMS - min(lengthMS, covered)
            if missing * 100 > lengthMS {
                if openStart[g] == .min {
                    openStart[g] = startMS
                    openRuns += 1
                }
                openEnd[g] = startMS + lengthMS
                openMissing[g] += missing
            } else if openStart[g] != .min {
                close(g)
            }
        }
    }

    /// Closes the runs still open at the window's end; returns every gap, in time order.
    mutating func finish() -> [CommunicationGap] {
        for g in groupIDs.indices where openStart[g] != .min { close(g) }
        return gaps.sorted { ($0.startMS, $0.groupID) < ($1.startMS, $1.groupID) }
    }
}
