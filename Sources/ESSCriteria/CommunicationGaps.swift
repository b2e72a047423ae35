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
/// all covers nothing). Owns the open run of each group; pure. Fed once per step and group, so
/// it holds plain values and does nothing more on a fully covered step.
struct CommunicationGapTracker {
    /// One group's state: its coverage in the step it was last fed in, and its open run.
    private struct Group {
        var covered: Int64 = 0
        var fedStep = -1
        /// Start of the open run, `Int64.min` when none.
        var openStart = Int64.min
        var openEnd: Int64 = 0
        var missing: Int64 = 0

        @inline(__always)
        mutating func feed(_ ms: Int64, step: Int) {
            covered = ms
            fedStep = step
        }
    }

    let groupIDs: [String]
    private var states: [Group]
    private var stepNumber = 0
    private(set) var gaps: [CommunicationGap] = []
    /// Groups fed with (nearly) full coverage this step, and runs open: when every group is
    /// full and no run is open (the usual step), `endStep` does nothing.
    private var fullThisStep = 0
    private var openRuns = 0

    init(groupIDs: [String]) {
        self.groupIDs = groupIDs
        states = Array(repeating: Group(), count: groupIDs.count)
    }

    /// Group `g`'s slot of the current step (`lengthMS` long) covered `ms` (its best signal).
    @inline(__always)
    mutating func covered(_ g: Int, ms: Int64, lengthMS: Int64) {
        states[g].feed(ms, step: stepNumber)
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
        for g in states.indices {
            let covered = states[g].fedStep == stepNumber ? max(0, states[g].covered) : 0
            let missing = lengthMS - min(lengthMS, covered)
            if missing * 100 > lengthMS {
                if states[g].openStart == .min {
                    states[g].openStart = startMS
                    openRuns += 1
                }
                states[g].openEnd = startMS + lengthMS
                states[g].missing += missing
            } else if states[g].openStart != .min {
                close(g)
            }
        }
    }

    private mutating func close(_ g: Int) {
        let s = states[g]
        gaps.append(CommunicationGap(groupID: groupIDs[g], startMS: s.openStart, endMS: s.openEnd, missingMS: s.missing))
        states[g].openStart = .min
        states[g].missing = 0
        openRuns -= 1
    }

    /// Closes the runs still open at the window's end; returns every gap, in time order.
    mutating func finish() -> [CommunicationGap] {
        for g in states.indices where states[g].openStart != .min { close(g) }
        return gaps.sorted { ($0.startMS, $0.groupID) < ($1.startMS, $1.groupID) }
    }
}
