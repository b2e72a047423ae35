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
    /// Per group: the best signal coverage of the current step (−1: not fed).
    private var stepCovered: [Int64]
    private var open: [CommunicationGap?]
    private(set) var gaps: [CommunicationGap] = []

    init(groupIDs: [String]) {
        self.groupIDs = groupIDs
        stepCovered = Array(repeating: -1, count: groupIDs.count)
        open = Array(repeating: nil, count: groupIDs.count)
    }

    /// Group `g`'s slot of the current step covered `ms` (its best signal).
    @inline(__always)
    mutating func covered(_ g: Int, ms: Int64) { stepCovered[g] = max(stepCovered[g], ms) }

    /// Ends the step [startMS, startMS + lengthMS).
    @inline(__always)
    mutating func endStep(startMS: Int64, lengthMS: Int64) {
        for g in groupIDs.indices {
            let missing = lengthMS - min(lengthMS, max(0, stepCovered[g]))
            stepCovered[g] = -1
            if missing * 100 > lengthMS {
                if open[g] == nil {
                    open[g] = CommunicationGap(groupID: groupIDs[g], startMS: startMS, endMS: startMS, missingMS: 0)
                }
                open[g]!.endMS = startMS + lengthMS
                open[g]!.missingMS += missing
            } else if let gap = open[g] {
                gaps.append(gap)
                open[g] = nil
            }
        }
    }

    /// Closes the runs still open at the window's end; returns every gap, in time order.
    mutating func finish() -> [CommunicationGap] {
        for g in open.indices {
            if let gap = open[g] { gaps.append(gap) }
            open[g] = nil
        }
        return gaps.sorted { ($0.startMS, $0.groupID) < ($1.startMS, $1.groupID) }
    }
}
